"""The real flake8, in a subprocess, with the installed plugin.

Every installed plugin is loaded for the version listing; the other runs load flake8's core and ours
(``helpers.run_flake8(core=True)``): the other plugins' findings are never read, and they cost half
of a run. tests/test_cli.py and tests/test_peers.py run flake8 with all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import concurrently, parse_output, run_flake8
from markers import FIXTURES, fixture_config, fixture_files, parse_markers
from starlette_lint.plugin import OPT_IN


def parse(output: str) -> set[tuple[str, int, int, str]]:
    """Our findings in flake8's output: ``{(file name, line, column, code)}``."""
    return {(Path(r.path).name, r.line, r.col, r.code) for r in parse_output(output) if r.code.startswith("STL")}


def test_version_lists_plugin():
    proc = run_flake8("--isolated", "--version")
    assert "starlette-lint" in proc.stdout


def flake8_options(config) -> tuple[str, ...]:
    """The flake8 command-line equivalent of a fixture's ``# config:`` header."""
    opt_in = {c for c in config.extend_select + config.select if c in OPT_IN}
    args = ["--select", ",".join(dict.fromkeys(config.select + config.extend_select))]
    if opt_in:
        args += ["--enable-extensions", ",".join(sorted(opt_in))]
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


OPT_IN_APP = (
    "from starlette.applications import Starlette\n"
    "from starlette.middleware.gzip import GZipMiddleware\n"
    "from starlette.routing import Route\n"
    "async def home(request):\n    ...\n"
    "app = Starlette(routes=[Route('/', home)])\n"
    "app.add_middleware(GZipMiddleware)\n"
)


@pytest.fixture(scope="module")
def opt_in_app(tmp_path_factory) -> tuple[Path, str]:
    """The app, and flake8's output on it without --enable-extensions (one run for every code)."""
    target = tmp_path_factory.mktemp("opt_in") / "app.py"
    target.write_text(OPT_IN_APP)
    return target, run_flake8("--isolated", "--select", "STL", str(target), core=True).stdout


@pytest.mark.parametrize("code", ["STL306", "STL406", "STL703"])
def test_opt_in_codes_need_enable_extensions(opt_in_app, code):
    target, off = opt_in_app
    assert code not in off
    on = run_flake8("--isolated", "--select", "STL", "--enable-extensions", code, str(target), core=True)
    assert code in on.stdout, on.stdout + on.stderr
