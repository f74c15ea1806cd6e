"""``starlette-lint check --fix`` round trips on before/after files in ``tests/fix_fixtures/``.

Each ``NAME.py.before`` starts with ``# fix: CODES`` (the codes selected for
the run); ``NAME.py.after`` is exactly what ``--fix`` must write. Lines
marked ``# stays: CODE`` are unsafe to fix: they must still be reported after
fixing, and not be offered as fixable. Every fixture checks that

* the fixed file equals the ``.after`` file and compiles,
* fixing again changes nothing (idempotent),
* re-checking the fixed file reports only the ``# stays`` findings of the
  selected codes, and each finding of the ``.before`` file is reported as
  fixable exactly when it is not marked ``# stays``.

The files are not named ``*.py`` so that linters of this repository skip them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import run_cli
from starlette_lint.fixes import fixable_codes
from starlette_lint.rules import get_rule

FIXTURES = Path(__file__).parent / "fix_fixtures"
CASES = sorted(p.name[: -len(".before")] for p in FIXTURES.glob("*.py.before"))
_STAYS = re.compile(r"#\s*stays:\s*([A-Z0-9, ]+)")

# The fixes the issue asks for: every one needs a fixer (and a fixture).
REQUIRED_FIXES = ("STL101", "STL201", "STL202", "STL204", "STL302", "STL303", "STL607", "STL701", "STL802", "STL803")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'fixtures'\n", encoding="utf-8")
    return tmp_path


def _codes(text: str) -> str:
    first = text.splitlines()[0]
    assert first.startswith("# fix: "), "a fix fixture starts with '# fix: CODES'"
    return first[len("# fix: "):].strip()


def _stays(text: str) -> set[tuple[int, str]]:
    out = set()
    for n, line in enumerate(text.splitlines(), 1):
        m = _STAYS.search(line)
        if m:
            out |= {(n, c.strip()) for c in m.group(1).split(",") if c.strip()}
    return out


def _findings(path: Path, codes: str, cwd: Path) -> list[dict]:
    proc = run_cli("check", "--no-cache", "--isolated", "--select", codes, "--format", "json", path.name, cwd=cwd)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("case", CASES)
def test_fix_round_trip(case, workdir):
    before = (FIXTURES / f"{case}.before").read_text(encoding="utf-8")
    after = (FIXTURES / f"{case}.after").read_text(encoding="utf-8")
    codes = _codes(before)
    target = workdir / case
    target.write_text(before, encoding="utf-8")

    found = _findings(target, codes, workdir)
    assert found, "the fixture must report something"
    stays_before = _stays(before)
    for f in found:
        assert f["fixable"] == ((f["line"], f["code"]) not in stays_before), f

    fix = run_cli("check", "--no-cache", "--isolated", "--select", codes, "--fix", case, cwd=workdir)
    fixed = target.read_text(encoding="utf-8")
    assert fixed == after, fix.stderr
    compile(fixed, case, "exec", dont_inherit=True)

    # idempotent: nothing left to fix
    run_cli("check", "--no-cache", "--isolated", "--select", codes, "--fix", case, cwd=workdir)
    assert target.read_text(encoding="utf-8") == after

    remaining = {(f["line"], f["code"]) for f in _findings(target, codes, workdir)}
    assert remaining == _stays(after)
    assert fix.returncode == (1 if remaining else 0)


def test_every_required_fix_has_a_fixer_and_a_fixture():
    assert set(REQUIRED_FIXES) <= fixable_codes()
    covered = {c.strip() for case in CASES for c in _codes((FIXTURES / f"{case}.before").read_text()).split(",")}
    assert set(REQUIRED_FIXES) <= covered


def test_rules_documented_as_fixable_have_a_fixer():
    for code in fixable_codes():
        rule = get_rule(code)
        assert rule is not None, f"fixer for unknown rule {code}"
    # the other direction (a fixer whose rule is not yet marked fixable) is allowed while docs catch up


def test_fix_keeps_bom_crlf_and_encoding(workdir):
    src = ("import time\r\nfrom fastapi import FastAPI\r\n\r\napp = FastAPI()\r\n\r\n\r\n@app.get('/')\r\n"
           "async def home():\r\n    time.sleep(1)  # caf\u00e9\r\n    return {}\r\n")
    bom = workdir / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + src.encode("utf-8"))
    latin = workdir / "latin.py"
    latin.write_bytes(("# -*- coding: latin-1 -*-\n" + src.replace("\r\n", "\n")).encode("latin-1"))
    proc = run_cli("check", "--no-cache", "--isolated", "--select", "STL101", "--fix", "bom.py", "latin.py",
                   cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    data = bom.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert "await asyncio.sleep(1)  # caf\u00e9\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert "import asyncio\r\n" in text
    assert "await asyncio.sleep(1)  # caf\u00e9\n" in latin.read_bytes().decode("latin-1")


def test_diff_writes_nothing_and_noqa_lines_are_not_fixed(workdir):
    src = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def home():\n"
           "    time.sleep(1)  # noqa: STL101\n    time.sleep(2)\n    return {}\n")
    target = workdir / "app.py"
    target.write_text(src, encoding="utf-8")
    diff = run_cli("check", "--no-cache", "--isolated", "--select", "STL101", "--diff", "app.py", cwd=workdir)
    assert diff.returncode == 1
    assert "+    await asyncio.sleep(2)\n" in diff.stdout and "asyncio.sleep(1)" not in diff.stdout
    assert target.read_text(encoding="utf-8") == src
    fix = run_cli("check", "--no-cache", "--isolated", "--select", "STL101", "--fix", "app.py", cwd=workdir)
    assert fix.returncode == 0 and fix.stdout == ""
    assert "    time.sleep(1)  # noqa: STL101\n    await asyncio.sleep(2)\n" in target.read_text(encoding="utf-8")


def test_fix_with_cache_and_jobs(workdir):
    """Many files through the process pool, cached, then fixed: the cache never hides a fixable finding."""
    src = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def home():\n"
           "    time.sleep(1)\n    return {}\n")
    for i in range(10):
        (workdir / f"m{i}.py").write_text(src, encoding="utf-8")
    check = run_cli("check", "--select", "STL101", "-j", "2", cwd=workdir)
    assert check.returncode == 1 and check.stdout.count("STL101") == 10
    fix = run_cli("check", "--select", "STL101", "-j", "2", "--fix", cwd=workdir)
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert "fixed 10 problems in 10 files" in fix.stderr
    assert all("await asyncio.sleep(1)" in (workdir / f"m{i}.py").read_text() for i in range(10))
    again = run_cli("check", "--select", "STL101", cwd=workdir)
    assert again.returncode == 0 and again.stdout == ""


def test_stl612_imports_annotated_from_typing_extensions_for_a_project_on_python_38(workdir):
    """typing.Annotated is Python 3.9's: a project whose requires-python admits 3.8 gets it from
    typing_extensions (which FastAPI depends on); one on 3.9 and later gets typing's."""
    source = ("from fastapi import FastAPI, Query\n\napp = FastAPI()\n\n\n@app.get('/')\n"
              "async def root(q: str = Query('x', max_length=3)):\n    return q\n")
    target = workdir / "app.py"
    for requires, imported in ((">=3.8", "from typing_extensions import Annotated"),
                               (">=3.9", "from typing import Annotated")):
        (workdir / "pyproject.toml").write_text(
            f"[project]\nname = 'x'\nrequires-python = '{requires}'\ndependencies = ['fastapi>=0.100']\n",
            encoding="utf-8")
        target.write_text(source, encoding="utf-8")
        run_cli("check", "--no-cache", "--select", "STL612", "--extend-select", "STL612", "--fix", "app.py",
                cwd=workdir)
        fixed = target.read_text(encoding="utf-8")
        assert imported in fixed.splitlines(), fixed
        assert "async def root(q: Annotated[str, Query(max_length=3)] = 'x'):" in fixed
