"""Target releases: specifiers, the FastAPI table, detection from each project format, the
configuration keys, claims on each side of a change, fixes gated on the range, --show-settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import concurrently, run_cli, run_flake8, spawn_cli
from markers import FIXTURES
from starlette_lint.config import ConfigError, from_mapping, load
from starlette_lint.engine import check_source
from starlette_lint.rules import all_rules
from starlette_lint.versions import (
    Claim,
    Range,
    clear,
    detect,
    environment_target,
    exactly,
    fastapi_for_starlette,
    make_target,
    parse_requirement,
    parse_specifier,
    starlette_for_fastapi,
)

PROJECTS = FIXTURES / "projects"


@pytest.fixture(autouse=True)
def _fresh():
    clear()
    yield
    clear()


# ------------------------------------------------------------------ specifiers
@pytest.mark.parametrize("text, shown", [
    (">=0.40,<0.48", ">=0.40,<0.48"),
    (">= 0.40, < 0.48", ">=0.40,<0.48"),
    ("<0.48,>=0.40", ">=0.40,<0.48"),
    ("==0.47.3", "==0.47.3"),
    ("===0.47.3", "==0.47.3"),
    ("==0.47.*", ">=0.47,<0.48"),
    ("~=0.47.1", ">=0.47.1,<0.48"),
    ("~=1.4", ">=1.4,<2.0"),
    ("<=0.47", "<=0.47"),
    ("!=0.47.0,>=0.40", ">=0.40"),
    ("^0.47", ">=0.47,<0.48"),  # Poetry caret on 0.x
    ("^1.2.3", ">=1.2.3,<2.0"),
    ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("~0.47.1", ">=0.47.1,<0.48"),  # Poetry tilde
    ("~1", ">=1.0,<2.0"),
    ("0.47.3", "==0.47.3"),  # Poetry: a bare version is a pin
    (">=0.40 <0.48", ">=0.40,<0.48"),  # Poetry: space-separated
    ("^0.40 || ^0.46", ">=0.40,<0.47"),
    ("*", "any"),
    ("", "any"),
    (">=1.0.0rc1", ">=1.0"),
])
def test_specifiers(text, shown):
    assert str(parse_specifier(text)) == shown


@pytest.mark.parametrize("text", ["latest", ">>1", "1.0 or 2.0", "@ git+https://example.invalid/x"])
def test_specifiers_not_understood(text):
    assert parse_specifier(text) is None


def test_ranges_sides():
    pinned = parse_specifier(">=0.40,<0.48")
    assert pinned.allows_below((1, 0)) and not pinned.allows_from((1, 0))
    assert pinned.allows_from((0, 47, 3)) and not pinned.at_least((0, 48))
    assert parse_specifier("<=1.0").allows_from((1, 0)) and not parse_specifier("<1.0").allows_from((1, 0))
    assert parse_specifier(">=1.0.0").at_least((1, 0)) and not parse_specifier(">=1.0").allows_below((1, 0))
    assert Range((0, 50), (0, 40)).empty and not Range((0, 40), (0, 50)).empty


@pytest.mark.parametrize("line, expected", [
    ("fastapi[standard]>=0.115,<0.116 ; python_version >= '3.9'", ("fastapi", ">=0.115,<0.116")),
    ("Starlette==0.47.3  # pinned", ("starlette", "==0.47.3")),
    ("starlette (>=0.40)", ("starlette", ">=0.40")),
    ("starlette", ("starlette", "any")),
    ("starlette @ git+https://example.invalid/starlette", ("starlette", None)),
])
def test_requirements(line, expected):
    name, rng = parse_requirement(line)
    assert (name, None if rng is None else str(rng)) == expected


# ------------------------------------------------------------------ FastAPI <-> Starlette
def test_fastapi_implies_starlette():
    assert str(starlette_for_fastapi(parse_specifier("==0.115.12"))) == ">=0.40,<0.47"
    assert str(starlette_for_fastapi(parse_specifier("~=0.116.0"))) == ">=0.40,<0.49"
    assert str(starlette_for_fastapi(parse_specifier(">=0.164"))) == ">=1.6"
    # 0.133 to 0.163 allow both release lines
    both = starlette_for_fastapi(parse_specifier(">=0.133,<0.164"))
    assert both.allows_below((1, 0)) and both.allows_from((1, 0))


def test_starlette_implies_fastapi():
    assert fastapi_for_starlette(parse_specifier("<0.48")).allows_from((0, 116))
    assert not fastapi_for_starlette(parse_specifier("<0.48")).allows_from((0, 164))
    assert fastapi_for_starlette(parse_specifier(">=1.6")).allows_from((0, 165))


def test_declared_starlette_is_narrowed_by_fastapi():
    target = make_target(parse_specifier(">=0.40"), parse_specifier("==0.116.1"), "project")
    assert str(target.starlette) == ">=0.40,<0.48"


# ------------------------------------------------------------------ detection, one fixture per format
@pytest.mark.parametrize("project, starlette, fastapi, source", [
    ("pep621", ">=0.40,<0.47", ">=0.115.3,<0.116", "[project.dependencies]"),
    ("extras", ">=0.37,<0.48", None, "[project.optional-dependencies] server"),
    ("dependency_groups", "==0.47.3", None, "[dependency-groups] dev"),
    ("poetry", ">=0.40,<0.49", ">=0.116,<0.117", "[tool.poetry.dependencies]"),
    ("poetry_group", ">=0.47,<0.48", None, "[tool.poetry.group.web.dependencies]"),
    ("requirements", "==0.47.3", None, "requirements/base.txt"),
    ("requirements_dir", ">=0.40,<0.49", ">=0.116.1,<0.117", "requirements/prod.txt"),
    ("uv_lock", "==0.47.3", None, "uv.lock"),
    ("poetry_lock", "==0.47.2", "==0.116.1", "poetry.lock"),
    ("pdm_lock", "==0.46.2", None, "pdm.lock"),
    ("order", ">=0.40", None, "pyproject.toml"),  # before requirements.txt and uv.lock
    ("nested/src/shop/api", ">=1.0", None, "pyproject.toml"),  # below the project root
])
def test_detection(project, starlette, fastapi, source):
    target = detect(str(PROJECTS / project))
    assert target.origin == "project"
    assert str(target.starlette) == starlette
    if fastapi is not None:
        assert str(target.fastapi) == fastapi
    assert any(source in s for s in target.sources), target.sources


def test_every_project_fixture_is_tested():
    tested = {"pep621", "extras", "dependency_groups", "poetry", "poetry_group", "requirements", "requirements_dir",
              "uv_lock", "poetry_lock", "pdm_lock", "order", "nested"}
    assert {p.name for p in PROJECTS.iterdir() if p.is_dir()} == tested


def test_detection_stops_at_the_nearest_project_and_the_git_root(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "inner"
    inner.mkdir(parents=True)
    (outer / "requirements.txt").write_text("starlette==0.47.3\n")
    # a project that declares dependencies, neither of them: the installed releases
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["httpx"]\n')
    assert detect(str(inner)) == environment_target()
    # a pyproject.toml with tool settings only is not a project: the search goes on up
    (inner / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    clear()
    assert str(detect(str(inner)).starlette) == "==0.47.3"
    (inner / ".git").mkdir()
    clear()
    assert detect(str(inner)) == environment_target()


def test_unreadable_and_odd_files_never_fail(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\nthis is not toml")
    (tmp_path / "requirements.txt").write_bytes(b"\xff\xfe starlette==0.47.3\n-r requirements.txt\n--index-url x\n")
    (tmp_path / "uv.lock").write_text("package = 3\n")
    target = detect(str(tmp_path))
    assert target.origin in ("project", "installed", "latest")


def test_without_anything_the_installed_releases_then_the_latest():
    assert environment_target().origin == "installed"  # the test environment has both
    latest = make_target(None, None, "latest")
    assert latest.starlette.at_least((1, 0)) and latest.fastapi.at_least((0, 165))


# ------------------------------------------------------------------ configuration
def test_configuration_keys_win_over_the_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["starlette>=1.0"]\n\n'
        '[tool.starlette-lint]\nstarlette-version = "^0.47"\n')
    config = load(tmp_path)
    assert config.target.origin == "config" and str(config.target.starlette) == ">=0.47,<0.48"
    assert str(load(tmp_path / "missing-dir-is-fine").target.starlette) == ">=0.47,<0.48"


def test_configuration_fastapi_key_implies_starlette():
    config = from_mapping({"fastapi-version": "==0.115.12"})
    assert str(config.target.starlette) == ">=0.40,<0.47"


@pytest.mark.parametrize("value", ["latest", 0.47, ["0.47"], ">=0.48,<0.40"])
def test_configuration_rejects_bad_specifiers(value):
    with pytest.raises(ConfigError, match="starlette-version"):
        from_mapping({"starlette-version": value})


# ------------------------------------------------------------------ claims
def test_claim_sides():
    claim = Claim("starlette", (1, 0), after="removed", before="deprecated", before_from=(0, 23))
    assert claim.text(make_target(parse_specifier(">=1.0"), None, "config")) == "removed"
    assert claim.text(make_target(parse_specifier("<0.48"), None, "config")) == "deprecated"
    assert claim.text(make_target(exactly((0, 22)), None, "config")) is None
    assert claim.text(make_target(parse_specifier(">=0.40"), None, "config")) == (
        "removed (your project allows Starlette 1.x)")


def test_every_claim_is_documented_and_worded_on_every_side():
    targets = [make_target(parse_specifier(s), None, "config") for s in ("==0.15", "==0.30", "<0.48", ">=0.40", ">=1.6")]
    for rule in all_rules():
        for form, claim in rule.claims.items():
            assert form in rule.doc
            for target in targets:
                fields = ("cls", "first", "when", "where", "method", "name", "error", "verb")
                text = claim.text(target, **{k: "x" for k in fields})
                assert text is None or "{" not in text, (rule.code, form)


def test_pinned_fixture_messages_claim_no_1x_breakage():
    """The 0.47 fixture's findings: deprecations, never an error that only 1.x raises."""
    path = FIXTURES / "versions" / "pinned_047.py"
    from markers import fixture_config

    text = path.read_text(encoding="utf-8")
    findings = check_source(text, str(path), fixture_config(text))
    assert findings
    for f in findings:
        for claim in ("1.x", "Error", "a 500", "StarletteDeprecationWarning", "XSS"):
            assert claim not in f.message, f.message


# ------------------------------------------------------------------ the command
STATUS_APP = "from starlette.status import HTTP_422_UNPROCESSABLE_ENTITY\n\nCODE = HTTP_422_UNPROCESSABLE_ENTITY\n"


@pytest.mark.parametrize("requirement, renamed, reported", [
    ("starlette>=0.48", True, True),
    ("starlette>=0.40", False, True),  # reported (1.x warns), not fixed: 0.40-0.47 lack the new name
    ("starlette>=0.40,<0.48", False, False),  # the old name is the only one there is
])
def test_status_rename_fix_follows_the_lower_bound(tmp_path, requirement, renamed, reported):
    (tmp_path / "requirements.txt").write_text(requirement + "\n")
    (tmp_path / "app.py").write_text(STATUS_APP)
    proc = run_cli("check", "--no-cache", "--fix", "--format", "json", "app.py", cwd=tmp_path)
    left = json.loads(proc.stdout)
    assert ("HTTP_422_UNPROCESSABLE_CONTENT" in (tmp_path / "app.py").read_text()) == renamed
    assert bool(left) == (reported and not renamed), left
    if left:
        assert "require starlette>=0.48" in left[0]["message"]


def test_show_settings_names_the_releases_and_their_source(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["fastapi~=0.115.0"]\n')
    proc = spawn_cli("check", "--show-settings", ".", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "starlette: >=0.37.2,<0.47" in proc.stdout
    assert "fastapi: >=0.115,<0.116" in proc.stdout
    assert "[project.dependencies]: fastapi~=0.115.0" in proc.stdout
    assert "file-timeout: 10" in proc.stdout
    isolated = spawn_cli("check", "--show-settings", "--isolated", ".", cwd=tmp_path, timeout=120)
    assert "installed" in isolated.stdout


def test_flake8_follows_the_project_pin(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["starlette<0.48"]\n')
    (tmp_path / "app.py").write_text(
        "from starlette.applications import Starlette\n\napp = Starlette()\n"
        "app.add_event_handler('startup', print)\n@app.route('/')\nasync def home(request):\n    pass\n")
    proc = run_flake8("--select", "STL", "app.py", cwd=tmp_path, timeout=120, core=True)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and "STL801" in lines[0] and "deprecated since Starlette 0.23" in lines[0], proc.stdout


def test_detection_climbs_past_a_folder_that_declares_nothing(tmp_path):
    """A monorepo service whose pyproject.toml holds settings only, or dynamic dependencies: the
    repository's own declarations apply."""
    (tmp_path / "requirements.txt").write_text("starlette==0.40.0\n")
    settings_only = tmp_path / "services" / "api"
    settings_only.mkdir(parents=True)
    (settings_only / "pyproject.toml").write_text("[tool.starlette-lint]\n")
    dynamic = tmp_path / "pkg"
    dynamic.mkdir()
    (dynamic / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\ndynamic = ["dependencies"]\n')
    assert str(detect(str(settings_only)).starlette) == "==0.40"
    assert str(detect(str(dynamic)).starlette) == "==0.40"
    assert str(load(settings_only).merged(target=None).target) == "None"  # detected per file, not per config


def test_a_version_beats_a_bare_name_in_the_same_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["fastapi"]\n')
    (tmp_path / "uv.lock").write_text('version = 1\n\n[[package]]\nname = "fastapi"\nversion = "0.116.1"\n')
    assert str(detect(str(tmp_path)).fastapi) == "==0.116.1"


def test_requirement_files_constraints_hashes_and_distributions(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "-c constraints.txt\nstarlette\nfastapi-slim==0.115.12 --hash sha256:0123\n")
    (tmp_path / "constraints.txt").write_text("starlette==0.46.2\n")
    target = detect(str(tmp_path))
    assert str(target.starlette) == "==0.46.2"  # narrowed by the constraint, and inside what fastapi allows
    assert str(target.fastapi) == "==0.115.12"  # fastapi-slim is FastAPI; the hash does not blur the pin


def test_a_fastapi_older_than_the_table_allows_any_starlette_not_the_latest():
    target = make_target(None, parse_specifier("==0.0.1"), "project")
    assert target.starlette.allows_below((1, 0))


def _monorepo(tmp_path: Path) -> Path:
    for name, requirement in (("old", "starlette<0.48"), ("new", "starlette>=1.0")):
        project = tmp_path / name
        project.mkdir()
        (project / "requirements.txt").write_text(requirement + "\n")
        (project / "app.py").write_text("from starlette.status import HTTP_422_UNPROCESSABLE_ENTITY\n")
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_each_file_gets_its_own_projects_releases_in_both_front_ends(tmp_path):
    root = _monorepo(tmp_path)

    def command_twice():
        first = spawn_cli("check", "--format", "json", "old/app.py", "new/app.py", cwd=root, timeout=120)
        return first, spawn_cli("check", "--format", "json", ".", cwd=root, timeout=120)  # the cached run too

    def flake8_once():
        return run_flake8("--select", "STL", "old/app.py", "new/app.py", cwd=root, timeout=120, core=True)

    (cli, again), flake8 = concurrently(command_twice, flake8_once)
    assert [(r["path"].replace("\\", "/"), r["code"]) for r in json.loads(cli.stdout)] == [("new/app.py", "STL802")]
    assert [r["code"] for r in json.loads(again.stdout)] == ["STL802"]
    assert [line.split(":")[0] for line in flake8.stdout.splitlines()] == ["new/app.py"], flake8.stdout


ROUTER_APP = """\
from fastapi import APIRouter, FastAPI


async def startup():
    pass


router = APIRouter(on_startup=[startup])
app = FastAPI()
app.include_router(router)
"""


@pytest.mark.parametrize("fastapi, fixed", [("fastapi>=0.100,<0.110", False), ("fastapi>=0.115", True)])
def test_router_lifespan_fix_needs_include_router_to_merge_it(tmp_path, fastapi, fixed):
    (tmp_path / "requirements.txt").write_text(fastapi + "\n")
    (tmp_path / "app.py").write_text(ROUTER_APP)
    proc = run_cli("check", "--no-cache", "--fix", "--format", "json", "app.py", cwd=tmp_path)
    assert ("lifespan=" in (tmp_path / "app.py").read_text()) == fixed
    if not fixed:
        [finding] = json.loads(proc.stdout)
        assert "including app's" in finding["message"] and "0.112.2" in finding["message"]


def test_flake8_reports_a_bad_configured_release_in_one_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.starlette-lint]\nstarlette-version = "latest"\n')
    (tmp_path / "app.py").write_text("import starlette\n")
    proc = run_flake8("app.py", cwd=tmp_path, timeout=120, core=True)
    assert proc.returncode != 0 and "starlette-version" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow  # three flake8 runs; test_flake8_follows_the_project_pin covers the default path
def test_flake8_options_set_the_releases_and_are_validated(tmp_path):
    (tmp_path / "app.py").write_text(
        "from starlette.applications import Starlette\n\napp = Starlette()\napp.add_event_handler('startup', print)\n")
    pinned = run_flake8("--select", "STL", "--starlette-version=<0.48", "app.py", cwd=tmp_path, timeout=120, core=True)
    assert pinned.stdout == "" and pinned.returncode == 0, pinned.stdout + pinned.stderr
    (tmp_path / "setup.cfg").write_text("[flake8]\nstarlette-version = >=1.0\n")
    configured = run_flake8("--select", "STL", "app.py", cwd=tmp_path, timeout=120, core=True)
    assert "STL202" in configured.stdout and "removed in Starlette 1.0" in configured.stdout
    bad = run_flake8("--starlette-version=latest", "app.py", cwd=tmp_path, timeout=120, core=True)
    assert bad.returncode != 0 and "starlette-version" in bad.stderr + bad.stdout


def test_python_range_reads_requires_python_or_poetrys_python(tmp_path):
    from starlette_lint.versions import python_range

    (tmp_path / ".git").mkdir()
    sub = tmp_path / "pkg"
    sub.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nrequires-python = '>=3.8'\n")
    python_range.cache_clear()
    assert str(python_range(str(sub))) == ">=3.8" and python_range(str(sub)).allows_below((3, 9))
    (tmp_path / "pyproject.toml").write_text("[tool.poetry.dependencies]\npython = '^3.10'\n")
    python_range.cache_clear()
    assert not python_range(str(sub)).allows_below((3, 9))
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python_range.cache_clear()
    assert python_range(str(sub)) is None  # the nearest pyproject says nothing: unknown
    python_range.cache_clear()
