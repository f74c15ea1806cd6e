"""Runtime proof for the STL7xx deployment rules (real uvicorn in subprocesses).

Every server binds 127.0.0.1 on port 0 (a free port chosen by the OS), runs in
its own process group with a hard timeout, and is killed by that group's id.
"""

from __future__ import annotations

import textwrap

import pytest

from .conftest import run_python

IMPORT_STRING_MESSAGE = "You must pass the application as an import string to enable 'reload' or 'workers'"

APP_MODULE = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route


    async def home(request):
        return PlainTextResponse("home")


    app = Starlette(routes=[Route("/", home)])
    """
)


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "stl7_app.py").write_text(APP_MODULE)
    return tmp_path


# --------------------------------------------------------------------------- STL701


@pytest.mark.parametrize("option", ["workers=2", "reload=True"])
def test_stl701_app_object_with_workers_or_reload_exits_3(app_dir, option):
    """STL701: `uvicorn.run(app_object, workers=2)` (or `reload=True`) refuses to start: it logs "You must pass the application as an import string" and exits with code 3."""
    code = f"import uvicorn, stl7_app; uvicorn.run(stl7_app.app, host='127.0.0.1', port=0, {option})"
    returncode, output = run_python(code, cwd=app_dir, timeout=30)
    assert returncode == 3, output
    assert IMPORT_STRING_MESSAGE in output
    assert "Traceback" not in output  # only a WARNING line, nothing louder
    assert "Application startup complete" not in output


def test_stl701_good_form_import_string_with_workers_starts(app_dir):
    """STL701 fix: `uvicorn.run("module:app", workers=2)` passes the check and starts the parent and worker processes."""
    code = "import uvicorn; uvicorn.run('stl7_app:app', host='127.0.0.1', port=0, workers=2)"
    returncode, output = run_python(code, cwd=app_dir, timeout=30, until="Application startup complete")
    assert returncode is None, output  # still serving when we killed it
    assert IMPORT_STRING_MESSAGE not in output
    assert "Started parent process" in output
    assert "Application startup complete" in output


# --------------------------------------------------------------------------- STL702


def test_stl702_unguarded_module_level_uvicorn_run_starts_server_on_import(tmp_path):
    """STL702: importing a module with a module-level `uvicorn.run(...)` starts a server and never returns: the importer hangs."""
    (tmp_path / "stl702_app.py").write_text(
        APP_MODULE + "\nimport uvicorn\n\nuvicorn.run(app, host='127.0.0.1', port=0)\n"
    )
    code = "import stl702_app; print('IMPORT RETURNED', flush=True)"
    returncode, output = run_python(code, cwd=tmp_path, timeout=30, until="Uvicorn running on")
    assert returncode is None, output  # the import was still blocked in the server when killed
    assert "Application startup complete" in output
    assert "Uvicorn running on http://127.0.0.1:" in output
    assert "IMPORT RETURNED" not in output


def test_stl702_good_form_main_guard_imports_without_starting(tmp_path):
    """STL702 fix: behind `if __name__ == "__main__":` the import returns at once and no server starts."""
    (tmp_path / "stl702_guarded.py").write_text(
        APP_MODULE
        + "\nimport uvicorn\n\nif __name__ == '__main__':\n    uvicorn.run(app, host='127.0.0.1', port=0)\n"
    )
    code = "import stl702_guarded; print('IMPORT RETURNED', flush=True)"
    returncode, output = run_python(code, cwd=tmp_path, timeout=30)
    assert returncode == 0, output
    assert "IMPORT RETURNED" in output
    assert "Uvicorn running on" not in output
