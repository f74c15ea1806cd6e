"""Shared helpers for the runtime-proof tests.

These tests run real Starlette / FastAPI code to prove that the failure each
lint rule names actually happens on the installed release, and that the
recommended form works.  Version flags let every assertion branch between the
Starlette 0.x and 1.x behaviour documented in ``RUNTIME_FACTS.md``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import starlette

# Importing the TestClient may warn (httpx instead of httpx2 on Starlette 1.x,
# the anyio BlockingPortal alias on 0.x).  Keep that out of the test results.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: F401  (re-exported for the tests)

try:  # FastAPI is optional: the Starlette 0.52 environment has none.
    import fastapi
except ImportError:  # pragma: no cover - depends on the environment
    fastapi = None


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


STARLETTE_VERSION = _version_tuple(starlette.__version__)
STARLETTE_1 = STARLETTE_VERSION >= (1, 0)
FASTAPI_VERSION = _version_tuple(fastapi.__version__) if fastapi is not None else None

try:  # Starlette >= 1.0
    from starlette.exceptions import StarletteDeprecationWarning
except ImportError:  # pragma: no cover - Starlette 0.x
    StarletteDeprecationWarning = DeprecationWarning

requires_starlette_1 = pytest.mark.skipif(not STARLETTE_1, reason="Starlette >= 1.0 behaviour")
requires_starlette_0 = pytest.mark.skipif(STARLETTE_1, reason="Starlette 0.x behaviour")
requires_fastapi = pytest.mark.skipif(fastapi is None, reason="FastAPI is not installed")

# Warnings that are about the test harness, not about the code under test.
_HARNESS_WARNING_FILTERS = (
    "ignore:Using `httpx` with `starlette.testclient` is deprecated",
    "ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning",
)


_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            for spec in _HARNESS_WARNING_FILTERS:
                item.add_marker(pytest.mark.filterwarnings(spec))


def run_python(code: str, cwd, timeout: float = 30.0, until: str | None = None) -> tuple[int | None, str]:
    """Run ``python -c code`` in ``cwd`` and return ``(exit code, output)``.

    stdout and stderr are merged.  With ``until``, the child is killed as soon
    as that text appears in its output.  The exit code is None when the child
    was still running (killed at ``until`` or at the timeout).  The child gets
    its own session, and its whole process group (uvicorn workers included) is
    killed by id in the ``finally``.
    """
    import os
    import selectors
    import signal
    import subprocess
    import sys
    import time

    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=str(cwd),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    chunks: list[bytes] = []
    returncode: int | None = None
    try:
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if not sel.select(timeout=min(remaining, 0.5)):
                    continue
                data = os.read(proc.stdout.fileno(), 65536)
                if not data:  # EOF: the child (and its children) closed stdout
                    break
                chunks.append(data)
                if until is not None and until in b"".join(chunks).decode(errors="replace"):
                    break
        if until is None or until not in b"".join(chunks).decode(errors="replace"):
            try:
                returncode = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                returncode = None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        proc.stdout.close()
    return returncode, b"".join(chunks).decode(errors="replace")


@pytest.fixture
def collect_unawaited():
    """Garbage-collect at teardown with warnings ignored.

    Tests that deliberately leave a coroutine un-awaited (the bug being shown)
    use this so that the "coroutine ... was never awaited" RuntimeWarning is
    released here, not in whatever test the garbage collector runs next.
    """
    import gc

    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
