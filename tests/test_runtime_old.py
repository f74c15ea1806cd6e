"""Both sides of the version claims, for real (slow: installs an old Starlette).

* The runtime proofs (``tests/runtime``) run again on Starlette 0.47.3 with FastAPI 0.116.1, the
  releases installed into a folder put first on ``PYTHONPATH`` (their own dependencies come from
  the test environment).
* A project pinned to Starlette 0.47 is checked and fixed with the real command: no finding claims
  1.x breakage, no fix uses a name 0.47 lacks, and the fixed module imports and serves on 0.47.
  The same module in a project that requires Starlette >= 0.48 gets the status-name rename,
  which 0.47 could not import: the pin is what keeps the fix away.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, run_python, spawn_cli

pytestmark = pytest.mark.slow

OLD = ("starlette==0.47.3", "fastapi==0.116.1")


@pytest.fixture(scope="module")
def old_site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("starlette-0.47")
    proc = run_python("-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), *OLD, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return target


def old_env(site: Path) -> dict[str, str]:
    """The environment overrides that put the old releases first."""
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def test_runtime_proofs_on_starlette_0_47(old_site):
    probe = run_python("-c", "import starlette, fastapi; print(starlette.__version__, fastapi.__version__)",
                       env=old_env(old_site), timeout=120)
    assert probe.stdout.split() == ["0.47.3", "0.116.1"], probe.stderr
    proc = run_python("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/runtime", cwd=ROOT, env=old_env(old_site),
                      timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


MODULE = '''\
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.status import HTTP_422_UNPROCESSABLE_ENTITY
from starlette.templating import Jinja2Templates

templates = Jinja2Templates(directory="templates")


async def lifespan(app):
    yield


async def check(request: Request):
    return PlainTextResponse("bad", status_code=HTTP_422_UNPROCESSABLE_ENTITY)


async def page(request: Request):
    return templates.TemplateResponse("page.html", {"request": request, "name": "x"})


app = Starlette(routes=[Route("/check", check), Route("/page", page)], lifespan=lifespan)
'''

SERVE = '''\
import warnings
warnings.simplefilter("ignore")
import starlette
from starlette.testclient import TestClient
import appmodule
with TestClient(appmodule.app) as client:
    print(starlette.__version__, client.get("/check").status_code, client.get("/page").status_code)
'''


def _project(root: Path, requirement: str) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[project]\nname = "shop"\nversion = "1"\ndependencies = ["{requirement}"]\n')
    (root / "templates").mkdir()
    (root / "templates" / "page.html").write_text("<p>{{ name }}</p>")
    (root / "appmodule.py").write_text(MODULE)
    return root


def _lint(root: Path, *args: str) -> subprocess.CompletedProcess:
    return spawn_cli("check", "--no-cache", *args, "appmodule.py", cwd=root, timeout=300)


def test_project_pinned_to_0_47_is_fixed_into_code_that_runs_on_0_47(tmp_path, old_site):
    root = _project(tmp_path / "pinned", "starlette>=0.40,<0.48")
    settings = _lint(root, "--show-settings")
    assert "starlette: >=0.40,<0.48" in settings.stdout, settings.stdout

    report = _lint(root, "--format", "json")
    import json

    findings = json.loads(report.stdout)
    codes = sorted(f["code"] for f in findings)
    assert codes == ["STL204", "STL803"], findings  # no STL802: 0.47 has no new status names
    for f in findings:  # deprecated, and gone in 1.0: never a 1.x failure
        for claim in ("1.x", "Error", "a 500", "StarletteDeprecationWarning"):
            assert claim not in f["message"], f["message"]

    fixed = _lint(root, "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    code = (root / "appmodule.py").read_text()
    assert "HTTP_422_UNPROCESSABLE_ENTITY" in code and "HTTP_422_UNPROCESSABLE_CONTENT" not in code
    assert "@asynccontextmanager" in code and 'TemplateResponse(request, "page.html"' in code

    served = run_python("-c", SERVE, cwd=root, env=old_env(old_site), timeout=120)
    assert served.returncode == 0, served.stderr[-3000:]
    assert served.stdout.split() == ["0.47.3", "422", "200"]


def test_the_same_module_on_a_0_48_floor_gets_the_rename_that_0_47_cannot_import(tmp_path, old_site):
    root = _project(tmp_path / "floor", "starlette>=0.48")
    fixed = _lint(root, "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "HTTP_422_UNPROCESSABLE_CONTENT" in (root / "appmodule.py").read_text()
    served = run_python("-c", SERVE, cwd=root, env=old_env(old_site), timeout=120)
    assert served.returncode != 0 and "HTTP_422_UNPROCESSABLE_CONTENT" in served.stderr
