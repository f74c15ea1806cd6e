"""Every analysis ends, and ends soon, on valid programs whose names, classes, routes and calls loop.

A valid five-line module (``global counter`` at module level) once made both
front ends run forever: name lookup went around in a circle. The same can
happen wherever the engine follows names, aliases, class bases, calls, route
lists, routers, Mounts, handler maps or lifespans. Checked here:

* generated programs (:mod:`scope_programs`) through the engine, as a property;
* a fixed batch of them, and the regression shapes of ``fixtures/termination``,
  through the real ``starlette-lint`` command and real flake8, in subprocesses
  with a timeout (a hang fails the test instead of hanging it);
* inputs that used to blow up (exponential fan-out, cubic walks) stay fast.

No STL000 anywhere: a rule that loops is stopped by the file-timeout and
reported as STL000, which these tests treat as a failure. ``pytest -m slow``
runs the property on half of ``STARLETTE_LINT_LARGE_FUZZ`` examples (default 2,000), larger programs among them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from starlette_lint.engine import INTERNAL, analyze_source, check_source
from starlette_lint.fixes import fix_once
from starlette_lint.rules import all_rules

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from helpers import concurrently, run_flake8, spawn_cli  # noqa: E402
from scope_programs import programs, scope_programs  # noqa: E402

TERMINATION = Path(__file__).resolve().parent / "fixtures" / "termination"
FUZZ = int(os.environ.get("STARLETTE_LINT_FUZZ", "40"))
LARGE = int(os.environ.get("STARLETTE_LINT_LARGE_FUZZ", "2000"))
RULES = all_rules()  # the opt-in rules too (STL703 reads whole route tables)
OPT_IN = ",".join(r.code for r in RULES if r.opt_in)
SUBPROCESS_TIMEOUT = 240  # seconds for one front end over a whole folder (a hang fails, it does not hang)


def _internal(findings) -> list[str]:
    return [f.message for f in findings if f.code == INTERNAL]


def _check(source: str) -> None:
    """The engine as flake8 calls it, then one round of the fixers (``--fix``) over what it reported."""
    assert _internal(check_source(source, "gen.py", rules=RULES)) == [], source
    analysis = analyze_source(source, "gen.py", rules=RULES)
    assert _internal(analysis.findings) == [], source
    if analysis.module is not None and analysis.model is not None and analysis.framework is not None:
        try:
            fix_once(analysis.module, analysis.model, analysis.framework, "gen.py",
                     [report for report, _ in analysis.reports])
        finally:
            analysis.release()


# ------------------------------------------------------------------ the engine, as a property
@settings(max_examples=FUZZ, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(source=scope_programs())
def test_scope_programs_end(source):
    _check(source)


@pytest.mark.slow
@settings(max_examples=LARGE // 2, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(source=st.one_of(scope_programs(), scope_programs(size=6)))
def test_scope_programs_end_large(source):
    _check(source)


def test_generated_programs_compile():
    """The generator's promise (``program`` also asserts it): every program is valid Python."""
    for source in programs(40, seed=1):
        compile(source, "gen.py", "exec", dont_inherit=True)
        assert "import fastapi" in source or "from fastapi" in source


# ------------------------------------------------------------------ the real front ends
BATCH = 40


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scope_programs")
    for i, source in enumerate(programs(BATCH, seed=0)):
        (folder / f"gen_{i:02d}.py").write_text(source, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def front_ends(batch) -> dict:
    """The command and flake8, each once over the generated batch and the regression shapes, side by side."""
    cli, flake8 = concurrently(
        lambda: spawn_cli("check", "--isolated", "--no-cache", "--extend-select", OPT_IN, str(batch), ".",
                          cwd=TERMINATION, timeout=SUBPROCESS_TIMEOUT, python_flags=("-I",)),
        lambda: run_flake8("--isolated", "--select", "STL", "--enable-extensions", OPT_IN, str(batch), ".",
                           cwd=TERMINATION, timeout=SUBPROCESS_TIMEOUT, core=True))
    return {"cli": cli, "flake8": flake8}


def _assert_ended_cleanly(proc, what: str) -> None:
    assert proc.returncode in (0, 1), f"{what}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, f"{what}:\n{proc.stderr[-3000:]}"
    stuck = [line for line in proc.stdout.splitlines() if INTERNAL in line]
    assert stuck == [], f"{what}:\n" + "\n".join(stuck[:20])


def test_generated_batch_and_fixtures_through_cli(front_ends):
    """``starlette-lint check`` once over the generated batch and the regression shapes."""
    proc = front_ends["cli"]
    _assert_ended_cleanly(proc, "starlette-lint check")
    assert proc.returncode == 1
    assert "gen_" in proc.stdout and "module_global.py" in proc.stdout  # both folders were analysed


def test_generated_batch_and_fixtures_through_flake8(front_ends):
    """Real flake8 (the plugin, as users run it) once over the same two folders."""
    proc = front_ends["flake8"]
    _assert_ended_cleanly(proc, "flake8")
    assert proc.returncode == 1
    assert "gen_" in proc.stdout and "module_global.py" in proc.stdout


# ------------------------------------------------------------------ inputs that used to blow up
PREAMBLE = (
    "from fastapi import APIRouter, FastAPI\n"
    "from starlette.applications import Starlette\n"
    "from starlette.middleware import Middleware\n"
    "from starlette.middleware.base import BaseHTTPMiddleware\n"
    "from starlette.responses import JSONResponse\n"
    "from starlette.routing import Mount, Route\n"
    "import time\n\n\n"
    "async def on_error(request, exc):\n"
    "    return JSONResponse({'detail': 'error'}, status_code=500)\n\n\n"
)


def _included_routers(levels: int, times: int, leaf: str) -> str:
    """Routers each included ``times`` times into the one above: ``times ** levels`` ways down."""
    lines = [f"r{i} = APIRouter()" for i in range(levels + 1)]
    lines.append(f"\n\n@r{levels}.get('/x')\nasync def leaf():\n    {leaf}\n")
    for i in range(levels):
        lines += [f"r{i}.include_router(r{i + 1})"] * times
    return "\n".join(lines) + "\n"


SUBCLASS = "class C{i}(C{j}):\n    pass\n\n\n"
LARGE_SHAPES = {
    # STL703 read every path: 6 ** 7 of them
    "included_routers": (PREAMBLE + "app = FastAPI(exception_handlers={500: on_error})\n"
                         + _included_routers(7, 6, "return {}") + "app.include_router(r0)\n" * 6),
    # the apps above a router, once per inclusion: 20 ** 6 ways up
    "routers_above": (PREAMBLE + "app = FastAPI()\n"
                      + _included_routers(7, 20, "return JSONResponse({'error': 'no'}, status_code=500)")
                      + "app.include_router(r0)\n"),
    # route lists spread into each other: 25 ** 6 readings
    "spread_lists": (PREAMBLE + "async def home(request):\n    return JSONResponse({})\n\n\n"
                     + "a = [" + "*b, " * 25 + "Route('/a', home)]\n"
                     + "b = [" + "*a, " * 25 + "Route('/b', home)]\n"
                     + "app = Starlette(routes=a)\n"),
    # a chain of 1,200 subclasses: each class's base search walked the chain, scanning every class per step
    "subclass_chain": (PREAMBLE + "class C0(BaseHTTPMiddleware):\n    async def dispatch(self, request, call_next):\n"
                       + "        time.sleep(1)\n        return await call_next(request)\n\n\n"
                       + "".join(SUBCLASS.format(i=i, j=i - 1) for i in range(1, 1200))
                       + "app = Starlette(middleware=[Middleware(C1199)])\n"),
}


@pytest.mark.parametrize("name", sorted(LARGE_SHAPES))
def test_large_shapes_stay_fast(name):
    source = LARGE_SHAPES[name]
    started = time.perf_counter()
    findings = check_source(source, f"{name}.py", rules=RULES)
    elapsed = time.perf_counter() - started
    assert _internal(findings) == []
    # each took from tens of seconds to forever; now well under a second (a wide margin for slow machines)
    assert elapsed < 8, f"{name}: {elapsed:.1f} s"
