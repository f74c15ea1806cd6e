"""STL901 (opt-in): ``# noqa: STL...`` codes that are unknown or suppress nothing.

The fixture ``tests/fixtures/stl901_unused_noqa.py`` holds the cases judged on their own;
here are those that need both front ends (a ``# noqa`` that does suppress a finding is
applied by flake8 and by the command, not by the fixture harness), the rules that did not
run, and the analyses that stopped.
"""

from __future__ import annotations

from pathlib import Path

from helpers import concurrently, parse_output, run_flake8, spawn_cli

from starlette_lint.config import DEFAULT
from starlette_lint.engine import check_source
from starlette_lint.rules.suppression import unused_noqa
from starlette_lint.finding import Finding

APP = '''import time
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def home():
    time.sleep(1)  # noqa: STL101
    time.sleep(2)  # noqa: STL1, E501
    time.sleep(3)  # noqa
    time.sleep(4)  # noqa: STL102
    x = """
    text
    """; time.sleep(5)  # noqa: STL101
    return {}
'''


def test_used_codes_are_quiet_through_both_front_ends(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    flake8, command = concurrently(
        lambda: run_flake8("--isolated", "--select", "STL", "--extend-select", "STL901", "app.py", cwd=tmp_path,
                           core=True),
        lambda: spawn_cli("check", "--isolated", "--no-cache", "--extend-select", "STL901", "app.py", cwd=tmp_path))
    for proc in (flake8, command):
        assert proc.returncode == 1, proc.stderr
        got = sorted((r.line, r.code, r.message) for r in parse_output(proc.stdout))
        assert got == [
            (12, "STL101", got[0][2]),  # STL102 suppresses nothing: STL101 is reported, and so is the stale code
            (12, "STL901", "# noqa: STL102 suppresses nothing here; remove it from the comment"),
        ], proc.stdout
    # without the opt-in code: nothing about the comments
    quiet = spawn_cli("check", "--isolated", "--no-cache", "app.py", cwd=tmp_path)
    assert "STL901" not in quiet.stdout


def judged(source: str, **config: object) -> list[tuple[int, str]]:
    conf = DEFAULT.merged(extend_select=("STL901",), **config)
    return [(f.line, f.message) for f in check_source(source, "app.py", conf) if f.code == "STL901"]


def test_codes_of_rules_that_did_not_run_are_kept() -> None:
    source = APP.replace("# noqa: STL102", "# noqa: STL406").replace("time.sleep(1)  # noqa: STL101",
                                                                     "time.sleep(1)  # noqa: STL4")
    assert judged(source) == []  # STL406 is opt-in and off, and STL4 covers it
    source = APP.replace("    time.sleep(4)  # noqa: STL102\n", "    pass  # noqa: STL101\n")
    assert judged(source) == [(12, "# noqa: STL101 suppresses nothing here; remove it from the comment")]
    assert judged(source, ignore=("STL101",)) == []  # turned off by the configuration: kept
    assert judged(source, select=("STL2", "STL901")) == []


def test_tests_and_docs_files_keep_codes_of_rules_that_skip_them(tmp_path: Path) -> None:
    source = ("from starlette.applications import Starlette\nfrom starlette.middleware.cors import CORSMiddleware\n\n"
              "app = Starlette()\n"
              "app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=True)  # noqa: STL502, STL504\n")
    conf = DEFAULT.merged(extend_select=("STL901",))
    as_app = [f.message for f in check_source(source, "app.py", conf) if f.code == "STL901"]
    as_test = [f.message for f in check_source(source, "tests/test_app.py", conf) if f.code == "STL901"]
    assert as_app == ["# noqa: STL504 suppresses nothing here; remove it from the comment"]
    assert as_test == []  # STL5xx do not run on tests: not judged


def test_nothing_is_unused_when_the_analysis_stopped() -> None:
    source = "x = 1  # noqa: STL101\ny = 2  # noqa: STL999\n"
    complete = unused_noqa(source, [], frozenset({"STL101", "STL901"}), complete=True)
    stopped = unused_noqa(source, [], frozenset({"STL101", "STL901"}), complete=False)
    assert [f.line for f in complete] == [1, 2]
    assert [(f.line, f.message) for f in stopped] == [(2, "# noqa: STL999 is no starlette-lint code; remove it "
                                                          "from the comment")]


def test_a_finding_on_any_line_of_a_multi_line_unit_uses_its_noqa() -> None:
    source = 'x = """\nline\n"""  # noqa: STL101\n'
    inside = [Finding(2, 0, "STL101", "m")]
    assert unused_noqa(source, inside, frozenset({"STL101"}), complete=True) == []
    assert len(unused_noqa(source, [], frozenset({"STL101"}), complete=True)) == 1
    # a "# noqa" flake8 finds in a string first: not judged; a file flake8 skips: nothing
    assert unused_noqa('s = "# noqa: STL101"  # noqa: STL999\n', [], frozenset(), complete=True) == []
    assert unused_noqa("# flake8: noqa\nx = 1  # noqa: STL999\n", [], frozenset(), complete=True) == []


def test_add_noqa_does_not_mark_stl901(tmp_path: Path) -> None:
    """--add-noqa would lock a stale code in (``# noqa: STL999, STL901``): STL901 is never marked."""
    (tmp_path / "app.py").write_text(APP.replace("    time.sleep(4)  # noqa: STL102\n", "    pass  # noqa: STL999\n"),
                                     encoding="utf-8")
    proc = spawn_cli("check", "--isolated", "--no-cache", "--extend-select", "STL901", "--add-noqa", "app.py",
                     cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "app.py").read_text(encoding="utf-8")
    assert "STL901" not in text and "    pass  # noqa: STL999\n" in text
    again = spawn_cli("check", "--isolated", "--no-cache", "--extend-select", "STL901", "app.py", cwd=tmp_path)
    assert [r.code for r in parse_output(again.stdout)] == ["STL901"]
