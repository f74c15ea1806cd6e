"""The real flake8, in a subprocess, with the installed plugin.

Every installed plugin is loaded for the version listing; the other runs load flake8's core and ours
(``helpers.run_flake8(core=True)``): the other plugins' findings are never read, and they cost half
of a run. tests/test_cli.py and tests/test_peers.py run flake8 with all of them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import concurrently, parse_output, run_flake8
from markers import FIXTURES, fixture_config, fixture_files, parse_markers
from starlette_lint.codes import OPT_IN_CODES as OPT_IN


def parse(output: str) -> set[tuple[str, int, int, str]]:
    """Our findings in flake8's output: ``{(file name, line, column, code)}``."""
    return {(Path(r.path).name, r.line, r.col, r.code) for r in parse_output(output) if r.code.startswith("STL")}


def test_version_lists_plugin():
    proc = run_flake8("--isolated", "--version")
    assert "starlette-lint" in proc.stdout


def flake8_options(config) -> tuple[str, ...]:
    """The flake8 command-line equivalent of a fixture's ``# config:`` header (an opt-in code
    named exactly in ``--select`` is on, as in the table)."""
    args = ["--select", ",".join(dict.fromkeys(config.select + config.extend_select))]
    if config.ignore:
        args += ["--extend-ignore", ",".join(config.ignore)]
    for name, values in (
        ("extend-blocking-calls", [f"{q}={alt}" if alt else q for q, alt in config.extend_blocking_calls]),
        ("safe-calls", sorted(config.safe_calls)),
        ("endpoint-decorators", list(config.endpoint_decorators)),
    ):
        if values:
            args.append(f"--starlette-{name}={','.join(values)}")
    for package in ("starlette", "fastapi"):
        spec = getattr(config, f"{package}_version")
        if spec:
            args.append(f"--{package}-version={spec}")
    return tuple(args)


def test_fixtures_through_flake8_match_markers():
    """Every fixture through real flake8 (its ``# config:`` header as flake8 options): codes, lines, columns."""
    groups: dict[tuple[str, ...], list[Path]] = {}
    for p in fixture_files():
        groups.setdefault(flake8_options(fixture_config(p.read_text(encoding="utf-8"))), []).append(p)
    # one flake8 per header, side by side; from the fixtures folder: flake8's plugin reads
    # tests/fixtures/pyproject.toml there. flake8's core and our plugin only (the other plugins'
    # findings are not looked at, and would take most of the time)
    runs = [lambda options=options, files=files: run_flake8("--isolated", *options, *map(str, files), cwd=FIXTURES,
                                                            core=True)
            for options, files in groups.items()]
    procs = concurrently(*runs, workers=4)
    got: set[tuple[str, int, int, str]] = set()
    for proc in procs:
        assert proc.returncode in (0, 1), proc.stderr
        got |= parse(proc.stdout)
    want_lines = set()
    for p in fixture_files():
        expected, _ = parse_markers(p.read_text(encoding="utf-8"))
        for e in expected:
            want_lines.add((p.name, e.line, e.code))
            if e.col is not None:
                assert (p.name, e.line, e.col, e.code) in got, (p.name, e)
    assert sorted({(n, ln, c) for n, ln, _, c in got} - want_lines) == []
    assert sorted(want_lines - {(n, ln, c) for n, ln, _, c in got}) == []


def test_noqa(tmp_path):
    src = (
        "from starlette.applications import Starlette\n"
        "app = Starlette(on_startup=[])\n"
        "app2 = Starlette(on_startup=[])  # noqa: STL201\n"
        "app3 = Starlette(on_startup=[])  # noqa\n"
        "app4 = Starlette(on_startup=[])  # noqa: E501\n"
    )
    target = tmp_path / "app.py"
    target.write_text(src)
    proc = run_flake8("--isolated", "--select", "STL201", str(target), core=True)
    lines = sorted(ln for _, ln, _, c in parse(proc.stdout) if c == "STL201")
    assert lines == [2, 5], proc.stdout


def test_syntax_error_gives_e999_and_no_crash(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from fastapi import FastAPI\napp = FastAPI(\n")
    good = tmp_path / "good.py"
    good.write_text("from starlette.applications import Starlette\napp = Starlette(on_startup=[])\n")
    proc = run_flake8("--isolated", "--select", "E999,STL", str(bad), str(good), core=True)
    assert "E999" in proc.stdout
    assert "good.py:2:" in proc.stdout and "STL201" in proc.stdout
    assert "Traceback" not in proc.stderr


# Every opt-in rule reports on this file when chosen; STL201 is its one default-on finding.
OPT_IN_APP = """\
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Route


async def home(request):
    ...

app = Starlette(routes=[Route("/", home)], on_startup=[])
app.add_middleware(GZipMiddleware)
app.add_middleware(CORSMiddleware, allow_origins=["*"])
LIMIT = 10  # noqa: STL999

from fastapi import FastAPI, Query  # noqa: E402
api = FastAPI()


@api.get("/n", response_model=int)
async def number(q: int = Query(1)) -> int:
    import asyncio
    while not q:
        await asyncio.sleep(1)
    await asyncio.sleep(1e9)
    return q
"""


def codes_reported(proc: subprocess.CompletedProcess) -> set[str]:
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    return {c for *_, c in parse(proc.stdout)}


def test_opt_in_app_reports_every_opt_in_code_when_all_are_chosen(tmp_path):
    (tmp_path / "app.py").write_text(OPT_IN_APP)
    proc = run_flake8("--extend-select", ",".join(sorted(OPT_IN)), "app.py", cwd=tmp_path, core=True)
    assert codes_reported(proc) == {"STL201", *OPT_IN}


@pytest.mark.parametrize("args, opt_in_reported", [
    ((), set()),  # the default run: no opt-in code
    (("--select", "STL"), set()),  # a prefix never turns an opt-in rule on
    (("--extend-select", "STL5"), set()),
    (("--extend-select", "STL501"), {"STL501"}),  # the exact code does
    (("--enable-extensions", "STL406"), {"STL406"}),  # as before the single entry point
    (("--select", "STL", "--enable-extensions", "STL306,STL501"), {"STL306", "STL501"}),
    (("--extend-select", "STL501", "--extend-ignore", "STL501"), set()),  # flake8 decides as for any code
])
def test_opt_in_codes_need_their_exact_code(tmp_path, args, opt_in_reported):
    (tmp_path / "app.py").write_text(OPT_IN_APP)
    got = codes_reported(run_flake8(*args, "app.py", cwd=tmp_path, core=True))
    assert got & OPT_IN == opt_in_reported
    assert "STL201" in got


def test_enable_extensions_does_not_select_past_select(tmp_path):
    """``--select E --enable-extensions STL501``: flake8 reported nothing of ours before, nor now."""
    (tmp_path / "app.py").write_text(OPT_IN_APP)
    proc = run_flake8("--select", "E", "--enable-extensions", "STL501", "app.py", cwd=tmp_path, core=True)
    assert codes_reported(proc) == set()


@pytest.mark.parametrize("flake8_config, opt_in_reported", [
    ("extend-select = STL501", {"STL501"}),
    ("select = E,STL,STL703", {"STL703"}),
    ("enable-extensions = STL306", {"STL306"}),
])
def test_opt_in_codes_from_flake8_config(tmp_path, flake8_config, opt_in_reported):
    (tmp_path / ".git").mkdir()  # no configuration from above tmp_path
    (tmp_path / "app.py").write_text(OPT_IN_APP)
    (tmp_path / "setup.cfg").write_text(f"[flake8]\n{flake8_config}\n")
    proc = run_flake8("app.py", cwd=tmp_path, core=True)
    got = codes_reported(proc)
    assert got & OPT_IN == opt_in_reported
    assert "STL201" in got


def test_opt_in_codes_from_a_nested_table(tmp_path):
    """A folder's own [tool.starlette-lint] selects an opt-in code for its files, as before: flake8
    run from above reports it there, and only there."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.py").write_text(OPT_IN_APP)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "app.py").write_text(OPT_IN_APP)
    (tmp_path / "svc" / "pyproject.toml").write_text('[tool.starlette-lint]\nextend-select = ["STL501"]\n')
    proc = run_flake8(".", cwd=tmp_path, core=True)
    rows = {(Path(line.split(":")[0]).as_posix(), line.split()[1]) for line in proc.stdout.splitlines()}
    assert {code for path, code in rows if code in OPT_IN} == {"STL501"}, proc.stdout + proc.stderr
    assert {path for path, code in rows if code == "STL501"} == {"svc/app.py"}
    assert ("app.py", "STL201") in rows and ("svc/app.py", "STL201") in rows
