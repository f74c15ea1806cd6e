"""One configuration, two front ends: `[tool.starlette-lint]` means the same under flake8 and the
command (the nearest table above each file, select and ignore honoured, every code validated,
one clear message for a bad table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import concurrently, parse_output, run_flake8, spawn_cli

APP = """\
import time

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse


async def home(request):
    time.sleep(1)
    return PlainTextResponse("hi")


async def warm():
    pass


app = Starlette(on_startup=[warm])
app.add_route("/", home)
"""


def command(cwd: Path, *paths: str) -> tuple[int, list[tuple[str, str]], str]:
    """The real command in a subprocess: exit code, sorted (path, code) rows, stderr."""
    proc = spawn_cli("check", "--no-cache", "--format", "json", *paths, cwd=cwd, timeout=120)
    rows = json.loads(proc.stdout) if proc.stdout.strip().startswith("[") else []
    return proc.returncode, sorted((Path(r["path"]).as_posix(), r["code"]) for r in rows), proc.stderr


def flake8(cwd: Path, *paths: str) -> tuple[int, list[tuple[str, str]], str]:
    """Real flake8 (its core and our plugin, configuration files read) in a subprocess: exit code, sorted
    (path, code) rows, stderr and stdout."""
    proc = run_flake8("--select", "STL", *paths, cwd=cwd, timeout=120, core=True)
    rows = [(Path(r.path).as_posix(), r.code) for r in parse_output(proc.stdout, strict=True)]
    return proc.returncode, sorted(rows), proc.stderr + proc.stdout


def both(cwd: Path, *paths: str) -> dict[str, tuple[int, list[tuple[str, str]], str]]:
    """:func:`command` and :func:`flake8` on the same paths, side by side: ``{"command": ..., "flake8": ...}``."""
    return dict(zip(("command", "flake8"), concurrently(lambda: command(cwd, *paths), lambda: flake8(cwd, *paths))))


def project(root: Path, table: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.starlette-lint]\n{table}\n")
    (root / "app.py").write_text(APP)
    return root


SELECTIONS = {  # a project per table, and what each reports
    "select": ('select = ["STL1"]', ["STL101"]),
    "ignore": ('ignore = ["STL101"]', ["STL201"]),
    "both": ('select = ["STL2"]\nignore = ["STL201"]', []),
    "none": ("", ["STL101", "STL201"]),
}


def test_select_and_ignore_mean_the_same_in_both(tmp_path):
    for name, (table, _) in SELECTIONS.items():
        project(tmp_path / name, table)
    (tmp_path / ".git").mkdir()
    want = sorted((f"{name}/app.py", code) for name, (_, codes) in SELECTIONS.items() for code in codes)
    paths = [f"{name}/app.py" for name in SELECTIONS]
    for name, (_, rows, err) in both(tmp_path, *paths).items():
        assert rows == want, (name, err)


@pytest.mark.slow  # 8 subprocesses; the XYZ1 case runs by default below
@pytest.mark.parametrize("table, says", [
    ('select = ["XYZ1"]', "select: 'XYZ1' matches no rule"),
    ('extend-select = ["stl101"]', "is not a rule code or prefix"),
    ("selekt = [\"STL1\"]", "unknown key 'selekt'"),
    ('starlette-version = "newest"', "starlette-version: expected a version specifier"),
])
def test_a_bad_table_is_one_clear_message_in_both(tmp_path, table, says):
    root = project(tmp_path / "p", table)
    ran = both(root, "app.py")
    code, _, err = ran["command"]
    assert code == 2 and says in err and "Traceback" not in err, err
    code, _, out = ran["flake8"]
    assert code != 0 and says in out and "Traceback" not in out, out


def test_each_file_gets_the_nearest_table_in_both(tmp_path):
    """A monorepo: the root's table, and a service with its own."""
    root = project(tmp_path, 'ignore = ["STL201"]')
    project(root / "services" / "api", 'select = ["STL2"]')
    (root / ".git").mkdir()
    want = [("app.py", "STL101"), ("services/api/app.py", "STL201")]
    runs = {(run.__name__, paths): (lambda run=run, paths=paths: run(root, *paths))
            for run in (command, flake8) for paths in (("app.py", "services/api/app.py"), (".",))}
    for (name, paths), (_, rows, err) in zip(runs, concurrently(*runs.values())):
        assert [(p.removeprefix("./"), c) for p, c in rows] == want, (name, paths, err)


def test_flake8_reports_a_bad_nested_table_where_it_applies_and_checks_on(tmp_path):
    root = project(tmp_path, "")
    project(root / "svc", 'select = ["XYZ1"]')
    (root / ".git").mkdir()
    code, rows, out = flake8(root, "app.py", "svc/app.py")
    assert ("svc/app.py", "STL000") in rows and "configuration not used" in out and "XYZ1" in out
    assert ("svc/app.py", "STL101") in rows and ("app.py", "STL101") in rows  # the working directory's table instead


def test_other_tools_codes_may_be_ignored_but_a_typo_in_select_may_not(tmp_path):
    root = project(tmp_path / "p", 'ignore = ["E501", "W6"]\nper-file-ignores = { "app.py" = ["E1", "STL2"] }')
    other = project(tmp_path / "q", 'ignore = ["STL99"]\nselect = ["XYZ1"]')
    ran, typo = concurrently(lambda: both(root, "app.py"), lambda: both(other, "app.py"))
    for name, (_, rows, err) in ran.items():
        assert [c for _, c in rows] == ["STL101"], (name, err)
    code, _, err = typo["command"]
    assert code == 2 and "'STL99' matches no rule" in err and "Traceback" not in err, err
    code, _, out = typo["flake8"]
    assert code != 0 and "'STL99' matches no rule" in out and "Traceback" not in out, out


@pytest.mark.slow
def test_a_pyproject_that_is_not_utf8_never_stops_a_run(tmp_path):
    (tmp_path / ".git").mkdir()
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "pyproject.toml").write_bytes(b"# caf\xe9\n[project]\nname = 'v'\n")
    (lib / "app.py").write_text(APP)
    for name, (code, rows, err) in both(tmp_path, "lib/app.py").items():
        assert "Traceback" not in err and ("lib/app.py", "STL101") in rows, (name, err)
