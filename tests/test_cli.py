"""The standalone command end to end, in subprocesses: exit codes, formats, config, discovery, cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CLI, ROOT, environment, reported, run_cli, run_flake8, run_process, spawn_cli, write
from starlette_lint.docs import rule_table
from starlette_lint.rules import all_rules

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

STARTUP = "from starlette.applications import Starlette\napp = Starlette(on_startup=[])\n"
CLEAN = "from starlette.applications import Starlette\n\napp = Starlette(routes=[])\n"
DEBUG = "from starlette.applications import Starlette\napp = Starlette(debug=True, on_startup=[])\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # a repository root: config and .gitignore lookups stop here
    write(tmp_path, "pyproject.toml", "[project]\nname = 'demo'\n")
    return tmp_path


# ------------------------------------------------------------------ exit codes
def test_clean_tree_exits_0(project):
    write(project, "app.py", CLEAN)
    proc = spawn_cli("check", "--select", "STL201", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert "no problems in 1 file" in proc.stderr


def test_findings_exit_1_in_flake8_layout(project):
    write(project, "app.py", STARTUP)
    proc = spawn_cli("check", "--select", "STL201", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.startswith("app.py:2:17: STL201 [*] on_startup= on app = Starlette()")  # [*]: --fix fixes it
    assert "1 problem in 1 file" in proc.stderr


def test_default_path_is_the_working_directory(project):
    write(project, "pkg/app.py", STARTUP)
    proc = run_cli("check", "--select", "STL201", cwd=project)
    assert reported(proc.stdout) == [("pkg/app.py", 2, "STL201")]


@pytest.mark.parametrize("args", [
    ["check", "missing.py"],
    ["check", "--select", "not-a-code"],
    ["check", "--select", "STL999"],
    ["check", "--ignore", "STL999"],  # other tools' codes (E501) may be ignored, not an STL code no rule has
    ["check", "--jobs", "0"],
    ["check", "--format", "xml"],
    ["rule", "STL999"],
    [],
])
def test_usage_errors_exit_2(project, args):
    write(project, "app.py", STARTUP)
    proc = (spawn_cli if args[:1] == ["check"] and "missing.py" in args or not args else run_cli)(*args, cwd=project)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


def test_exit_zero(project):
    write(project, "app.py", STARTUP)
    proc = run_cli("check", "--exit-zero", cwd=project)
    assert proc.returncode == 0
    assert "STL201" in proc.stdout


def test_select_ignore_extend_select(project):
    write(project, "app.py", DEBUG)
    both = run_cli("check", "--select", "STL201,STL504", cwd=project)
    assert {c for _, _, c in reported(both.stdout)} == {"STL201", "STL504"}
    only = run_cli("check", "--select", "STL5", cwd=project)
    assert {c for _, _, c in reported(only.stdout)} == {"STL504"}
    ignored = run_cli("check", "--select", "STL201,STL504", "--ignore", "STL504", cwd=project)
    assert {c for _, _, c in reported(ignored.stdout)} == {"STL201"}
    write(project, "mw.py", "from starlette.applications import Starlette\nfrom starlette.middleware.gzip import GZipMiddleware\n"
                            "app = Starlette()\napp.add_middleware(GZipMiddleware)\n")
    off = run_cli("check", "--select", "STL3", "mw.py", cwd=project)
    assert "STL306" not in off.stdout
    on = run_cli("check", "--select", "STL3", "--extend-select", "STL306", "mw.py", cwd=project)
    assert "STL306" in on.stdout


# ------------------------------------------------------------------ noqa
NOQA = '''from starlette.applications import Starlette
a1 = Starlette(on_startup=[])
a2 = Starlette(on_startup=[])  # noqa: STL201
a3 = Starlette(on_startup=[])  # noqa
a4 = Starlette(on_startup=[])  # noqa: E501
a5 = Starlette(on_startup=[])  # NOQA:STL2
a6 = Starlette(on_startup=[])  # noqa: stl201
a7 = Starlette(on_startup=[])  # noqa : STL201
a8 = Starlette(on_startup=[])  #noqa
a9 = Starlette(on_startup=[])  # noqa: no codes here
b1 = Starlette(on_startup=[], title="""
x
""")  # noqa: STL201
b2 = Starlette(
    on_startup=[],
)  # noqa: STL201
b3 = Starlette(on_startup=[]) if a1 \\
    else None  # noqa
b4 = Starlette(on_startup=[])  # noqa:STL201,E501
b5 = Starlette(on_startup=[])  # noqa: E501 STL201
'''


def test_noqa_is_honoured_exactly_as_flake8_does(project):
    write(project, "app.py", NOQA)
    ours = run_cli("check", "--select", "STL201", "app.py", cwd=project)
    flake8 = run_flake8("--isolated", "--select", "STL201", "app.py", cwd=project, timeout=120)
    assert flake8.returncode in (0, 1), flake8.stderr
    mine = sorted(reported(ours.stdout))
    theirs = sorted((p, ln, c) for p, ln, c in reported(flake8.stdout) if c.startswith("STL"))
    assert mine == theirs
    assert [ln for _, ln, _ in mine] == [2, 5, 7, 9, 15]


def test_flake8_noqa_comment_skips_the_file(project):
    write(project, "app.py", "# flake8: noqa\n" + STARTUP)
    proc = run_cli("check", cwd=project)
    assert proc.returncode == 0 and proc.stdout == ""


# ------------------------------------------------------------------ formats
def test_json_format(project):
    write(project, "app.py", STARTUP)
    proc = run_cli("check", "--select", "STL201", "--format", "json", cwd=project)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data == [{
        "path": "app.py", "line": 2, "column": 17, "code": "STL201", "message": data[0]["message"],
        "fixable": True, "url": data[0]["url"],
    }]
    assert data[0]["url"].endswith("#stl201")


def test_sarif_is_valid_and_has_what_code_scanning_needs(project):
    jsonschema = pytest.importorskip("jsonschema")
    write(project, "app.py", STARTUP)
    write(project, "sub dir/bad.py", "from fastapi import FastAPI\napp = FastAPI(\n")
    proc = run_cli("check", "--format", "sarif", cwd=project)
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert not errors, errors[0]
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "starlette-lint"
    ids = [r["id"] for r in driver["rules"]]
    assert {r.code for r in all_rules()} <= set(ids)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["helpUri"].startswith("https://")
    stl = next(r for r in driver["rules"] if r["id"] == "STL201")
    assert stl["helpUri"].endswith("#stl201") and "What it does" in stl["help"]["markdown"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert {"STL201", "E999"} <= set(by_rule)
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    region = by_rule["STL201"]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "app.py"
    assert region["region"] == {"startLine": 2, "startColumn": 17}
    assert by_rule["E999"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub%20dir/bad.py"
    # levels: breakage and security are errors, the rest warnings; security rules are ranked
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert levels["STL201"] == levels["STL801"] == levels["STL505"] == levels["E999"] == "error"
    assert levels["STL101"] == levels["STL802"] == "warning"
    assert by_rule["STL201"]["level"] == "error"
    security = {r["id"]: r["properties"] for r in driver["rules"] if "security" in r.get("properties", {}).get("tags", [])}
    assert set(security) == {f"STL50{n}" for n in range(1, 9)}
    assert all(0 < float(props["security-severity"]) <= 10 for props in security.values())


def test_sarif_of_a_clean_tree_is_valid_too(project):
    jsonschema = pytest.importorskip("jsonschema")
    write(project, "app.py", CLEAN)
    proc = run_cli("check", "--format", "sarif", "--output-file", "out.sarif", cwd=project)
    assert proc.returncode == 0 and proc.stdout == ""
    log = json.loads((project / "out.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, json.loads(SCHEMA.read_text(encoding="utf-8")), cls=jsonschema.Draft4Validator)
    assert log["runs"][0]["results"] == []


def test_github_annotations(project):
    write(project, "app.py", STARTUP)
    proc = run_cli("check", "--select", "STL201", "--format", "github", cwd=project)
    assert proc.returncode == 1
    line = proc.stdout.strip()
    assert line.startswith("::error file=app.py,line=2,col=17,title=starlette-lint STL201::STL201 on_startup= ")
    assert "\n" not in line
    # a rule at the warning level gives a warning annotation
    write(project, "slow.py", "import time\nfrom fastapi import FastAPI\napp = FastAPI()\n\n\n"
                              "@app.get('/')\nasync def root():\n    time.sleep(1)\n")
    proc = run_cli("check", "--select", "STL101", "--format", "github", "slow.py", cwd=project)
    assert proc.stdout.startswith("::warning file=slow.py,line=8,col=5,title=starlette-lint STL101::STL101 "), proc.stdout


# ------------------------------------------------------------------ configuration
def test_pyproject_configuration_is_read(project):
    write(project, "pyproject.toml", '[tool.starlette-lint]\nselect = ["STL5"]\n'
                                     'per-file-ignores = { "legacy/*" = ["STL504"] }\n')
    write(project, "app.py", DEBUG)
    write(project, "legacy/old.py", DEBUG)
    proc = run_cli("check", cwd=project)
    assert reported(proc.stdout) == [("app.py", 2, "STL504")]


@pytest.mark.parametrize("table, key", [
    ('colour = "red"', "colour"),
    ("select = 5", "select"),
    ('ignore = ["not a code"]', "ignore"),
    ('per-file-ignores = ["x"]', "per-file-ignores"),
    ('extend-blocking-calls = ["9bad"]', "extend-blocking-calls"),
])
def test_configuration_errors_name_the_key(project, table, key):
    write(project, "pyproject.toml", f"[tool.starlette-lint]\n{table}\n")
    write(project, "app.py", STARTUP)
    proc = run_cli("check", cwd=project)
    assert proc.returncode == 2
    assert key in proc.stderr and "Traceback" not in proc.stderr


def test_invalid_toml_is_a_configuration_error(project):
    write(project, "pyproject.toml", "[tool.starlette-lint\nselect = [\n")
    write(project, "app.py", STARTUP)
    proc = run_cli("check", cwd=project)
    assert proc.returncode == 2 and "invalid TOML" in proc.stderr


def test_isolated_and_explicit_config(project):
    write(project, "pyproject.toml", '[tool.starlette-lint]\nignore = ["STL201"]\n')
    write(project, "other.toml", '[tool.starlette-lint]\nselect = ["STL504"]\n')
    write(project, "app.py", DEBUG)
    assert {c for *_, c in reported(run_cli("check", cwd=project).stdout)} >= {"STL504"}
    assert "STL201" not in run_cli("check", cwd=project).stdout
    assert "STL201" in run_cli("check", "--isolated", cwd=project).stdout
    explicit = run_cli("check", "--config", "other.toml", cwd=project)
    assert {c for *_, c in reported(explicit.stdout)} == {"STL504"}


# ------------------------------------------------------------------ discovery
def test_walk_skips_excluded_and_gitignored_paths(project):
    for rel in ("app.py", "src/ok.py", "keep/important.py", "nested/keep.py",
                ".venv/lib/x.py", "venv/x.py", "build/x.py", "dist/x.py", "node_modules/x.py", "__pycache__/x.py",
                ".git/hooks/x.py", "generated/x.py", "src/secret_gen.py", "keep/skip.py", "nested/local.py",
                "migrations/0001.py", "scripts/tool.py"):
        write(project, rel, STARTUP)
    write(project, "notes.txt", STARTUP)
    write(project, ".gitignore", "generated/\n*_gen.py\nkeep/*\n!keep/important.py\n")
    write(project, "nested/.gitignore", "local.py\n")
    write(project, "pyproject.toml", '[tool.starlette-lint]\nextend-exclude = ["migrations"]\n')
    proc = run_cli("check", "--select", "STL201", "--exclude", "scripts/*.py", cwd=project)
    assert sorted(p for p, _, _ in reported(proc.stdout)) == [
        "app.py", "keep/important.py", "nested/keep.py", "src/ok.py"]


def test_gitignore_of_parent_directories_applies_below(project):
    write(project, ".gitignore", "/pkg/gen/\n")
    write(project, "pkg/gen/x.py", STARTUP)
    write(project, "pkg/y.py", STARTUP)
    proc = run_cli("check", "--select", "STL201", ".", cwd=project / "pkg")
    assert [p for p, _, _ in reported(proc.stdout)] == ["y.py"]


def test_named_files_are_checked_even_when_excluded_unless_forced(project):
    write(project, "build/gen.py", STARTUP)
    write(project, "script", "#!/usr/bin/env python\n" + STARTUP)
    proc = run_cli("check", "--select", "STL201", "build/gen.py", "script", cwd=project)
    assert sorted(p for p, _, _ in reported(proc.stdout)) == ["build/gen.py", "script"]
    forced = run_cli("check", "--select", "STL201", "--force-exclude", "build/gen.py", "script", cwd=project)
    assert [p for p, _, _ in reported(forced.stdout)] == ["script"]


def test_syntax_errors_are_e999_and_the_run_goes_on(project):
    write(project, "bad.py", "from fastapi import FastAPI\napp = FastAPI(\n")
    write(project, "good.py", STARTUP)
    proc = run_cli("check", "--select", "STL201", cwd=project)
    assert proc.returncode == 1
    codes = {(p, c) for p, _, c in reported(proc.stdout)}
    assert codes == {("bad.py", "E999"), ("good.py", "STL201")}
    assert "Traceback" not in proc.stderr


def test_broken_symlinks_and_unreadable_files(project):
    write(project, "good.py", STARTUP)
    (project / "dangling.py").symlink_to(project / "nowhere.py")
    walked = run_cli("check", "--select", "STL201", cwd=project)
    assert reported(walked.stdout) == [("good.py", 2, "STL201")]
    assert "dangling.py: skipped: broken symbolic link" in walked.stderr
    named = run_cli("check", "--select", "STL201", "dangling.py", "good.py", cwd=project)
    assert named.returncode == 1
    assert ("dangling.py", 1, "E902") in reported(named.stdout)
    assert ("good.py", 2, "STL201") in reported(named.stdout)


def test_encodings_bom_and_crlf(project):
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + STARTUP.replace("\n", "\r\n").encode())
    (project / "latin.py").write_bytes(("# -*- coding: latin-1 -*-\n# caf\xe9\n" + STARTUP).encode("latin-1"))
    proc = run_cli("check", "--select", "STL201", cwd=project)
    assert sorted(reported(proc.stdout)) == [("bom.py", 2, "STL201"), ("latin.py", 4, "STL201")]


# ------------------------------------------------------------------ cache
def _stats(stderr: str) -> tuple[int, int]:
    line = next(x for x in stderr.splitlines() if " from cache, " in x)
    words = line.split()
    return int(words[3]), int(words[6])  # (from cache, analysed)


def test_cache_hits_and_invalidation(project):
    write(project, "pyproject.toml", "[tool.starlette-lint]\nproject-mode = false\n")  # one file at a time
    for i in range(5):
        write(project, f"m{i}.py", STARTUP)
    first = run_cli("check", "-v", cwd=project)
    assert _stats(first.stderr) == (0, 5)
    assert (project / ".starlette_lint_cache" / ".gitignore").is_file()
    second = run_cli("check", "-v", cwd=project)
    assert _stats(second.stderr) == (5, 0)
    assert second.stdout == first.stdout
    # an edited file is analysed again, the others come from the cache
    write(project, "m0.py", CLEAN)
    third = run_cli("check", "-v", cwd=project)
    assert _stats(third.stderr) == (4, 1)
    assert "m0.py" not in third.stdout
    # another configuration invalidates everything
    write(project, "pyproject.toml", '[tool.starlette-lint]\nproject-mode = false\nignore = ["STL4"]\n')
    fourth = run_cli("check", "-v", cwd=project)
    assert _stats(fourth.stderr) == (0, 5)
    # --no-cache neither reads nor writes
    shutil.rmtree(project / ".starlette_lint_cache")
    fifth = run_cli("check", "-v", "--no-cache", cwd=project)
    assert _stats(fifth.stderr) == (0, 5)
    assert not (project / ".starlette_lint_cache").exists()


def test_project_mode_results_hold_while_the_project_answers_the_same(project):
    """In project mode (the default) a file's findings may depend on the other modules of its
    project: after an edit, a file is analysed again unless every question its analysis asked of
    the project gets the same answer (modules that ask nothing of each other keep their entries;
    ``tests/test_project.py`` has a chain through the edited module)."""
    for i in range(3):
        write(project, f"m{i}.py", STARTUP)
    (project / "other").mkdir()
    write(project, "other/n.py", STARTUP)
    first = run_cli("check", "-v", cwd=project)
    assert _stats(first.stderr) == (0, 4)
    assert _stats(run_cli("check", "-v", cwd=project).stderr) == (4, 0)
    write(project, "m0.py", CLEAN)
    again = run_cli("check", "-v", cwd=project)
    assert _stats(again.stderr) == (3, 1)  # m0.py itself
    assert "m0.py" not in again.stdout
    assert again.stdout == run_cli("check", "--no-cache", cwd=project).stdout


UVICORN_RELOAD = """import uvicorn
from fastapi import FastAPI

app = FastAPI()

if __name__ == "__main__":
    uvicorn.run(app, reload=True)
"""


@pytest.mark.parametrize("mode", ["true", "false"])
def test_a_package_made_above_a_file_is_not_answered_from_the_cache(project, mode):
    """STL701 names the module by the packages above the file (``__init__.py``): adding one
    changes the finding and not the file, nor (outside project mode, or for a file that asks
    the project nothing) anything else the key held."""
    write(project, "pyproject.toml", f"[project]\nname = 'demo'\n[tool.starlette-lint]\nproject-mode = {mode}\n")
    write(project, "pkg/main.py", UVICORN_RELOAD)
    assert '"main:app"' in run_cli("check", "pkg", cwd=project).stdout
    write(project, "pkg/__init__.py", "")
    again = run_cli("check", "pkg", cwd=project)
    assert '"pkg.main:app"' in again.stdout
    assert again.stdout == run_cli("check", "--no-cache", "pkg", cwd=project).stdout


def test_the_cache_key_reads_the_markers_the_stl701_fixer_reads() -> None:
    from starlette_lint.fixes.deployment import _PROJECT_MARKERS
    from starlette_lint.layout import PACKAGING_MARKERS

    assert PACKAGING_MARKERS == _PROJECT_MARKERS


def test_a_file_named_from_another_folder_is_not_answered_from_the_cache(project):
    write(project, "pyproject.toml", "[project]\nname = 'demo'\n[tool.starlette-lint]\n")  # one cache for both
    write(project, "pkg/__init__.py", "")
    write(project, "pkg/main.py", UVICORN_RELOAD)
    assert '"pkg.main:app"' in run_cli("check", "pkg/main.py", cwd=project).stdout
    inside = run_cli("check", "main.py", cwd=project / "pkg")
    assert inside.stdout == run_cli("check", "--no-cache", "main.py", cwd=project / "pkg").stdout
    assert '"main:app"' in inside.stdout


SETUP_CHAIN = """from fastapi.responses import JSONResponse


class AppError(Exception):
    pass


async def on_app_error(request, exc):
    return JSONResponse({"error": str(exc), "code": "app"}, status_code=400)


def s0(app):
    s1(app)


def s1(app):
    s2(app)


def s2(app):
    s3(app)


def s3(app):
    app.add_exception_handler(AppError, on_app_error)
"""


def test_a_setup_function_answers_the_same_whatever_was_asked_before(project):
    """Setup functions are followed a few calls deep from the one the app is handed to: what
    ``s0(app)`` registers must not depend on whether ``s2`` was asked about first (the result
    cache compares answers)."""
    from starlette_lint import project as index
    from starlette_lint.project import _MAX_SETUP_DEPTH

    calls = "\n".join(f"def s{i}(app):\n    s{i + 1}(app)\n\n" for i in range(_MAX_SETUP_DEPTH + 1))
    write(project, "pkg/__init__.py", "")
    write(project, "pkg/setup.py", SETUP_CHAIN.split("def s0")[0] + calls
          + f"def s{_MAX_SETUP_DEPTH + 1}(app):\n    app.add_exception_handler(AppError, on_app_error)\n")
    fresh = index.ProjectIndex(project).app_setup("pkg.setup.s0", "@0")
    later = index.ProjectIndex(project)
    later.app_setup("pkg.setup.s2", "@0")
    assert later.app_setup("pkg.setup.s0", "@0") == fresh
    # and through the command: asked first for a.py (s2), then for b.py (s0), after an edit elsewhere
    app = "from fastapi import FastAPI\nfrom pkg.setup import {0}\n\napp = FastAPI()\n{0}(app)\n"
    write(project, "pkg/a.py", app.format("s2"))
    write(project, "pkg/b.py", app.format("s0"))
    write(project, "pkg/c.py", "X = 1\n")
    run_cli("check", "pkg/b.py", cwd=project)
    write(project, "pkg/c.py", "X = 2\n")
    assert run_cli("check", "pkg", cwd=project).stdout == run_cli("check", "--no-cache", "pkg", cwd=project).stdout


def test_an_entry_point_beside_a_src_layout_is_part_of_the_project(project):
    """The index reads the folder above a ``src`` root (an entry point that mounts the package's
    routes): an edit there is an edit of the project."""
    from starlette_lint.layout import project_fingerprint

    write(project, "src/shop/__init__.py", "")
    write(project, "src/shop/pages.py", "X = 1\n")
    write(project, "main.py", "A = 1\n")
    before = project_fingerprint(project / "src/shop/pages.py", {})
    write(project, "main.py", "A = 2\n")
    assert project_fingerprint(project / "src/shop/pages.py", {}) != before
    # a ``src`` folder whose parent is not its project's (``/src`` in a container, ``~/src``):
    # the machine or the home folder is not fingerprinted
    write(project, "box/src/pyproject.toml", "[project]\nname = 'boxed'\n")
    write(project, "box/src/app/__init__.py", "")
    write(project, "box/src/app/main.py", "X = 1\n")
    write(project, "box/elsewhere.py", "A = 1\n")
    before = project_fingerprint(project / "box/src/app/main.py", {})
    write(project, "box/elsewhere.py", "A = 2\n")
    assert project_fingerprint(project / "box/src/app/main.py", {}) == before


def test_a_package_made_deep_above_a_file_is_not_answered_from_the_cache(project):
    """Every folder of the packages above a file counts, however deep (the fixer looks for a
    project marker where its 30 package levels end)."""
    deep = "/".join(f"p{i}" for i in range(31))
    for i in range(31):
        write(project, "/".join(f"p{j}" for j in range(i + 1)) + "/__init__.py", "")
    write(project, f"{deep}/main.py", UVICORN_RELOAD)
    run_cli("check", ".", cwd=project)
    write(project, "p0/setup.cfg", "")
    assert run_cli("check", ".", cwd=project).stdout == run_cli("check", "--no-cache", ".", cwd=project).stdout


def test_corrupt_cache_entries_are_ignored_and_rewritten(project):
    write(project, "app.py", STARTUP)
    clean = run_cli("check", cwd=project)
    entries = list((project / ".starlette_lint_cache").rglob("*.json"))
    assert len(entries) == 1
    for garbage in ("{not json", '{"key": "x", "findings": []}', '{"key": "%s", "findings": [[1, "a"]]}' % entries[0].stem):
        entries[0].write_text(garbage, encoding="utf-8")
        again = run_cli("check", "-v", cwd=project)
        assert again.stdout == clean.stdout
        assert _stats(again.stderr) == (0, 1)
        assert json.loads(entries[0].read_text(encoding="utf-8"))["key"] == entries[0].stem


def test_concurrent_runs_share_the_cache_safely(project):
    for i in range(12):
        write(project, f"m{i:02}.py", STARTUP if i % 2 else DEBUG)
    expected = run_cli("check", "--no-cache", cwd=project).stdout
    procs = [subprocess.Popen([*CLI, "check", "-j", "1"], cwd=project, env=environment(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert outs == [expected] * 3
    assert run_cli("check", cwd=project).stdout == expected
    assert not list((project / ".starlette_lint_cache").rglob(".tmp-*"))


def test_parallel_run_gives_the_serial_output(project):
    for i in range(14):
        write(project, f"pkg{i % 3}/m{i:02}.py", STARTUP if i % 2 else DEBUG)
    serial = run_cli("check", "--no-cache", "-j", "1", cwd=project)
    parallel = run_cli("check", "--no-cache", "-j", "2", cwd=project)
    assert parallel.stdout == serial.stdout and parallel.returncode == serial.returncode == 1
    lines = serial.stdout.splitlines()
    assert lines == sorted(lines, key=lambda x: (x.split(":")[0], int(x.split(":")[1]), int(x.split(":")[2])))


# ------------------------------------------------------------------ fix / diff through the command
def test_diff_shows_and_fix_writes(project):
    src = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def home():\n"
           "    time.sleep(1)  # wait\n    return {}\n")
    path = write(project, "app.py", src)
    diff = run_cli("check", "--select", "STL101", "--diff", cwd=project)
    assert diff.returncode == 1
    assert "-    time.sleep(1)  # wait\n+    await asyncio.sleep(1)  # wait\n" in diff.stdout
    assert diff.stdout.startswith("--- a/app.py\n+++ b/app.py\n")
    assert path.read_text(encoding="utf-8") == src
    fixed = run_cli("check", "--select", "STL101", "--fix", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "fixed 1 problem in 1 file" in fixed.stderr
    assert "await asyncio.sleep(1)  # wait" in path.read_text(encoding="utf-8")
    again = run_cli("check", "--select", "STL101", "--diff", cwd=project)
    assert again.returncode == 0 and again.stdout == ""


def test_fix_leaves_unsafe_findings_reported(project):
    src = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def home():\n"
           "    x = [time.sleep(1)]\n    return x\n")
    write(project, "app.py", src)
    proc = run_cli("check", "--select", "STL101", "--fix", cwd=project)
    assert proc.returncode == 1
    assert reported(proc.stdout) == [("app.py", 9, "STL101")]


# ------------------------------------------------------------------ rule docs
def test_rule_command_prints_the_documentation(project):
    proc = run_cli("rule", "stl201", cwd=project)
    assert proc.returncode == 0
    for heading in ("# STL201", "## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix"):
        assert heading in proc.stdout
    for code in ("STL101", "STL202", "STL302", "STL607", "STL803"):
        assert "## Fix" in run_cli("rule", code, cwd=project).stdout, code


def test_rules_table_is_the_readme_table(project):
    md = run_cli("rules", "--format", "markdown", cwd=project)
    assert md.stdout.strip() == rule_table()  # the README's table (tests/test_docs.py keeps that one current)
    text = run_cli("rules", cwd=project)
    assert [line.split()[0] for line in text.stdout.splitlines()[1:]] == [r.code for r in all_rules()]
    listed = json.loads(run_cli("rules", "--format", "json", cwd=project).stdout)
    assert [r["code"] for r in listed] == [r.code for r in all_rules()]


# ------------------------------------------------------------------ progress
def _stderr_through_pty(args: list[str], cwd: Path, env: dict) -> str:
    pty = pytest.importorskip("pty")
    try:
        master, slave = pty.openpty()
    except OSError:  # pragma: no cover - no pseudo-terminals here
        pytest.skip("no pseudo-terminal available")
    try:
        proc = subprocess.Popen([*CLI, *args], cwd=cwd, env=environment(env),
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.communicate(timeout=120)
    finally:
        os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_progress_only_on_a_terminal_outside_ci(project):
    for i in range(25):
        write(project, f"m{i:02}.py", CLEAN)
    on_tty = _stderr_through_pty(["check", "--no-cache"], project, {})
    assert "25/25 files" in on_tty
    in_ci = _stderr_through_pty(["check", "--no-cache"], project, {"CI": "true"})
    assert "/25 files" not in in_ci
    piped = run_cli("check", "--no-cache", cwd=project)
    assert "/25 files" not in piped.stderr


# ------------------------------------------------------------------ pre-commit
def _pre_commit() -> list[str] | None:
    import importlib.util

    if shutil.which("git") is None:
        return None
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    exe = shutil.which("pre-commit")
    return [exe] if exe else None


PRE_COMMIT = _pre_commit()


@pytest.mark.slow  # ~10 s: pre-commit builds the hook's environment
@pytest.mark.skipif(PRE_COMMIT is None, reason="needs git and pre-commit")
def test_pre_commit_try_repo(tmp_path):
    """The real hooks file, installed by pre-commit from a snapshot of this checkout, on a repo with a problem."""
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull}

    def git(*args: str, cwd: Path) -> None:
        proc = run_process(["git", *args], cwd=cwd, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr

    # the hook repository: what a release holds (committed, so try-repo sees the new files too)
    hooks = tmp_path / "hooks"
    shutil.copytree(ROOT / "src", hooks / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, hooks / name)
    git("init", "-q", cwd=hooks)
    git("add", "-A", cwd=hooks)
    git("commit", "-q", "-m", "snapshot", cwd=hooks)

    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    write(repo, "app.py", STARTUP)
    git("add", "app.py", cwd=repo)
    # both hooks in one run (one environment to install): the report hook first, then the fix hook
    proc = run_process([*PRE_COMMIT, "try-repo", str(hooks), "--files", "app.py"], cwd=repo, env=env, timeout=600)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    report_part, _, fix_part = out.partition("starlette-lint (fix)")
    assert "app.py:2:17: STL201" in report_part, out
    assert "files were modified by this hook" in fix_part, out
    assert "on_startup" not in (repo / "app.py").read_text(encoding="utf-8")


# ------------------------------------------------------------------ standard input, statistics
SLEEPY = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\n"
          "async def home():\n    time.sleep(1)\n    return {}\n")


def test_standard_input_is_checked_as_the_stdin_filename(project: Path) -> None:
    """``check -`` reads one file from stdin; ``--stdin-filename`` names it in the report and picks the
    configuration of its folder (per-file-ignores match it), without reading the file on disk."""
    write(project, "pyproject.toml", "[tool.starlette-lint]\nper-file-ignores = {'quiet/*.py' = ['STL101']}\n")
    write(project, "app/main.py", CLEAN)  # on disk: clean; the buffer is not
    proc = spawn_cli("check", "-", "--stdin-filename", "app/main.py", cwd=project, stdin=SLEEPY)
    assert proc.returncode == 1, proc.stderr
    assert reported(proc.stdout) == [("app/main.py", 9, "STL101")]
    proc = spawn_cli("check", "-", cwd=project, stdin=SLEEPY)
    assert proc.returncode == 1 and proc.stdout.startswith("-:9:5: STL101"), proc.stdout
    proc = spawn_cli("check", "-", "--stdin-filename", "quiet/x.py", cwd=project, stdin=SLEEPY)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout
    proc = spawn_cli("check", "-", "--format", "json", cwd=project, stdin=SLEEPY)
    assert [i["code"] for i in json.loads(proc.stdout)] == ["STL101"]


def test_fixing_standard_input_writes_the_fixed_source_to_stdout(project: Path) -> None:
    write(project, "app/main.py", CLEAN)
    proc = spawn_cli("check", "-", "--stdin-filename", "app/main.py", "--fix", cwd=project, stdin=SLEEPY)
    assert proc.returncode == 0, proc.stderr
    assert "await asyncio.sleep(1)" in proc.stdout and "import asyncio" in proc.stdout
    assert "fixed 1 problem" in proc.stderr
    assert (project / "app" / "main.py").read_text() == CLEAN  # never written
    proc = spawn_cli("check", "-", "--fix", cwd=project, stdin=CLEAN)  # nothing to fix: the input as it came
    assert proc.returncode == 0 and proc.stdout == CLEAN


def test_force_exclude_covers_the_stdin_filename(project: Path) -> None:
    """An editor or hook piping every buffer: ``--force-exclude`` skips the paths a walk skips."""
    write(project, "pyproject.toml", "[tool.starlette-lint]\nextend-exclude = ['migrations']\n")
    for name in ("migrations/0001.py", ".venv/lib/x.py"):
        proc = spawn_cli("check", "-", "--stdin-filename", name, "--force-exclude", cwd=project, stdin=SLEEPY)
        assert proc.returncode == 0 and proc.stdout == "", (name, proc.stdout)
        fixed = spawn_cli("check", "-", "--stdin-filename", name, "--force-exclude", "--fix", cwd=project,
                          stdin=SLEEPY)
        assert fixed.returncode == 0 and fixed.stdout == SLEEPY  # the source back as it came
        # without --force-exclude, a named file is checked, as a file named on the command line is
        plain = spawn_cli("check", "-", "--stdin-filename", name, cwd=project, stdin=SLEEPY)
        assert reported(plain.stdout) == [(name, 9, "STL101")]
    proc = spawn_cli("check", "-", "--stdin-filename", "app/main.py", "--force-exclude", cwd=project, stdin=SLEEPY)
    assert reported(proc.stdout) == [("app/main.py", 9, "STL101")]


def test_standard_input_sees_the_project_of_its_filename() -> None:
    """Project mode: the buffer is read with the other modules of the project its filename is in."""
    wiring = ROOT / "tests" / "projects" / "wiring"
    main = (wiring / "svc" / "main.py").read_text(encoding="utf-8")
    proc = spawn_cli("check", "-", "--stdin-filename", "svc/main.py", "--no-cache", cwd=wiring, stdin=main)
    assert {c for _, _, c in reported(proc.stdout)} == {"STL401", "STL402", "STL304"}, proc.stdout


@pytest.mark.parametrize("args, error", [
    (["-", "x.py"], "checked alone"),
    (["--stdin-filename", "x.py", "."], "goes with -"),
])
def test_standard_input_usage_errors(project: Path, args: list[str], error: str) -> None:
    proc = spawn_cli("check", *args, cwd=project, stdin="")
    assert proc.returncode == 2 and error in proc.stderr


def test_statistics_count_each_code(project: Path) -> None:
    write(project, "a.py", SLEEPY)
    write(project, "b.py", SLEEPY + "\n\n@app.get('/x')\nasync def other():\n    time.sleep(2)\n")
    write(project, "c.py", STARTUP)
    proc = spawn_cli("check", "--statistics", "--no-cache", ".", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["3  STL101  [*] blocking-sleep", "1  STL201  [*] startup-shutdown-kwarg"]
    assert "4 problems in 3 files" in proc.stderr


def test_show_fixes_lists_what_was_fixed(project: Path) -> None:
    write(project, "a.py", SLEEPY + "\n\n@app.get('/x')\nasync def other():\n    time.sleep(2)\n")
    write(project, "b.py", STARTUP)
    diff = spawn_cli("check", "--diff", "--show-fixes", "--no-cache", ".", cwd=project)
    assert diff.stdout.startswith("--- a/") and "Would fix 3 problems:" in diff.stderr  # stdout stays a patch
    proc = spawn_cli("check", "--fix", "--show-fixes", "--no-cache", ".", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("Fixed 3 problems:\n- a.py:\n    2 x STL101 (blocking-sleep)\n"
                           "- b.py:\n    1 x STL201 (startup-shutdown-kwarg)\n"), proc.stdout
    again = spawn_cli("check", "--fix", "--show-fixes", "--no-cache", ".", cwd=project)
    assert again.stdout == "No problems fixed.\n"


def test_add_noqa_marks_every_finding_and_both_front_ends_then_pass(project: Path) -> None:
    """``--add-noqa`` writes ``# noqa: STLxxx`` where each finding is (joining an existing ``# noqa:``
    list, after a multi-line string's closing quotes), keeping line ends and a BOM; afterwards the
    command and flake8 report nothing, and a second run adds nothing."""
    write(project, "a.py", SLEEPY.replace("    time.sleep(1)\n", "    time.sleep(1)  # noqa: E501\n"))
    crlf = ("import time\r\nfrom fastapi import FastAPI\r\n\r\napp = FastAPI()\r\n\r\n\r\n@app.get('/')\r\n"
            "async def home():\r\n    time.sleep(len('''a\r\nb'''))\r\n    return {}\r\n")
    (project / "b.py").write_bytes(b"\xef\xbb\xbf" + crlf.encode())
    proc = spawn_cli("check", "--add-noqa", "--no-cache", ".", cwd=project)
    assert proc.returncode == 0 and "added 2 noqa comments in 2 files" in proc.stderr, proc.stderr
    assert "    time.sleep(1)  # noqa: E501, STL101\n" in (project / "a.py").read_text()
    b = (project / "b.py").read_bytes()
    assert b.startswith(b"\xef\xbb\xbf") and b"b'''))  # noqa: STL101\r\n    return {}\r\n" in b
    assert spawn_cli("check", "--no-cache", ".", cwd=project).returncode == 0
    assert run_flake8("--isolated", "--select", "STL", "a.py", "b.py", cwd=project).stdout == ""
    again = spawn_cli("check", "--add-noqa", "--no-cache", ".", cwd=project)
    assert "added 0 noqa comments in 0 files" in again.stderr
    assert spawn_cli("check", "--add-noqa", "--fix", ".", cwd=project).returncode == 2


def test_add_noqa_edits_comments_only(project: Path) -> None:
    """A ``# noqa`` inside a string is not a comment: never edited, and a finding whose line holds
    one is left (flake8 would read the string's first); text after a noqa list stays apart; syntax
    errors get no noqa (it would hide them)."""
    quoted = SLEEPY.replace("    time.sleep(1)\n", "    print('see # noqa: E501 docs'); time.sleep(1)\n")
    tail = SLEEPY.replace("    time.sleep(1)\n", "    time.sleep(1)  # noqa: E501  long line\n")
    write(project, "quoted.py", quoted)
    write(project, "tail.py", tail)
    write(project, "broken.py", SLEEPY + "x = = 1\n")
    proc = spawn_cli("check", "--add-noqa", "--no-cache", ".", cwd=project)
    assert (project / "quoted.py").read_text() == quoted and "quoted.py: not changed" in proc.stderr
    assert "    time.sleep(1)  # noqa: E501, STL101  long line\n" in (project / "tail.py").read_text()
    assert (project / "broken.py").read_text() == SLEEPY + "x = = 1\n"


def test_show_fixes_and_stdin_fixes_keep_reports_machine_readable(project: Path) -> None:
    write(project, "a.py", SLEEPY)
    proc = spawn_cli("check", "--fix", "--show-fixes", "--format", "json", "--no-cache", ".", cwd=project)
    assert json.loads(proc.stdout) == [] and "Fixed 1 problem:" in proc.stderr
    proc = spawn_cli("check", "-", "--stdin-filename", "b.py", "--fix", "--format", "json", "-o", "report.json",
                     cwd=project, stdin=SLEEPY + "\n\n@app.get('/x')\ndef sync():\n    return open('f').read()\n")
    assert "await asyncio.sleep(1)" in proc.stdout
    assert json.loads((project / "report.json").read_text()) == []


def test_statistics_name_syntax_errors(project: Path) -> None:
    write(project, "a.py", SLEEPY)
    write(project, "bad.py", "from fastapi import FastAPI\nx = (\n")
    proc = spawn_cli("check", "--statistics", "--no-cache", ".", cwd=project)
    assert proc.stdout.splitlines() == ["1  E999        syntax-error", "1  STL101  [*] blocking-sleep"], proc.stdout


def test_the_bundled_example_has_red_lines_for_both_front_ends() -> None:
    """The README's first screen: ``starlette-lint check examples/`` from a clone gives findings
    (its own table judges it as application code), and flake8 gives the same."""
    want = {"STL101", "STL102", "STL105", "STL107", "STL201", "STL304", "STL401", "STL402", "STL502", "STL601"}
    cli, flake8 = spawn_cli("check", "--no-cache", "examples/", cwd=ROOT), \
        run_flake8("--select", "STL", "examples/", cwd=ROOT, core=True)
    assert cli.returncode == 1, cli.stderr
    assert {c for _, _, c in reported(cli.stdout)} == want, cli.stdout
    assert sorted(reported(cli.stdout)) == sorted((p.replace("./", ""), line, c) for p, line, c in reported(flake8.stdout))
