"""Runtime proof for the STL1xx event-loop rules.

The stall is proven by the ORDER of events recorded inside the endpoint, never
by wall-clock durations: two requests run concurrently on one event loop; if
the endpoint blocks the loop, each request's "start"/"end" pair is adjacent
(start1, end1, start2, end2); if it yields, both start before either ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from .conftest import TestClient

try:
    import httpx
except ImportError:  # pragma: no cover - Starlette 1.x may ship with httpx2 only
    import httpx2 as httpx

PAUSE = 0.2  # only the order of events is asserted, never a duration


def run_concurrently(app, path: str = "/", n: int = 2) -> list[int]:
    """Send n concurrent GETs through one event loop (ASGITransport + gather); return the status codes."""

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            responses = await asyncio.gather(*(client.get(path, params={"i": str(i)}) for i in range(1, n + 1)))
        return [r.status_code for r in responses]

    return asyncio.run(main())


def is_serialised(events: list[str]) -> bool:
    """True when every "start<i>" is immediately followed by its own "end<i>" (no interleaving)."""
    pairs = list(zip(events[0::2], events[1::2]))
    return len(events) % 2 == 0 and all(s == "start" + e[3:] and e.startswith("end") for s, e in pairs)


def starts_before_ends(events: list[str], n: int = 2) -> bool:
    return all(e.startswith("start") for e in events[:n]) and all(e.startswith("end") for e in events[n:])


# --------------------------------------------------------------------------- STL101


def test_stl101_time_sleep_in_async_endpoint_serialises_requests():
    """STL101: `time.sleep()` in an `async def` endpoint freezes the event loop: a concurrent request cannot even start until the first ends."""
    events: list[str] = []

    async def endpoint(request: Request):
        i = request.query_params["i"]
        events.append(f"start{i}")
        time.sleep(PAUSE)  # blocking
        events.append(f"end{i}")
        return PlainTextResponse("ok")

    assert run_concurrently(Starlette(routes=[Route("/", endpoint)])) == [200, 200]
    assert sorted(events) == ["end1", "end2", "start1", "start2"]
    assert is_serialised(events), events
    assert events == ["start1", "end1", "start2", "end2"]


def test_stl101_good_form_asyncio_sleep_interleaves_requests():
    """STL101 fix: with `await asyncio.sleep()` both requests start before either ends: the loop keeps serving."""
    events: list[str] = []

    async def endpoint(request: Request):
        i = request.query_params["i"]
        events.append(f"start{i}")
        await asyncio.sleep(PAUSE)
        events.append(f"end{i}")
        return PlainTextResponse("ok")

    assert run_concurrently(Starlette(routes=[Route("/", endpoint)])) == [200, 200]
    assert starts_before_ends(events), events
    assert events[:2] == ["start1", "start2"]


def test_stl101_time_sleep_in_middleware_dispatch_serialises_requests():
    """STL101: the same blocking call in `BaseHTTPMiddleware.dispatch` (request-path code) serialises every request."""
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware

    events: list[str] = []

    class Slow(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            i = request.query_params["i"]
            events.append(f"start{i}")
            time.sleep(PAUSE)  # blocking
            events.append(f"end{i}")
            return await call_next(request)

    async def endpoint(request: Request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(Slow)])
    assert run_concurrently(app) == [200, 200]
    assert is_serialised(events), events


# --------------------------------------------------------------------------- STL107


def load_report() -> str:
    time.sleep(PAUSE)  # the blocking call, one call away from the endpoint
    return "report"


def test_stl107_sync_helper_called_from_async_endpoint_serialises_requests():
    """STL107: a sync helper that calls `time.sleep()`, called from an `async def` endpoint, blocks the loop just the same."""
    events: list[str] = []

    async def endpoint(request: Request):
        i = request.query_params["i"]
        events.append(f"start{i}")
        load_report()
        events.append(f"end{i}")
        return PlainTextResponse("ok")

    assert run_concurrently(Starlette(routes=[Route("/", endpoint)])) == [200, 200]
    assert is_serialised(events), events


def test_stl107_good_form_run_in_threadpool_interleaves_requests():
    """STL107 fix: `await run_in_threadpool(helper)` moves the blocking call off the loop: both requests start before either ends."""
    events: list[str] = []

    async def endpoint(request: Request):
        i = request.query_params["i"]
        events.append(f"start{i}")
        await run_in_threadpool(load_report)
        events.append(f"end{i}")
        return PlainTextResponse("ok")

    assert run_concurrently(Starlette(routes=[Route("/", endpoint)])) == [200, 200]
    assert starts_before_ends(events), events


def test_stl101_scope_sync_def_endpoint_runs_in_threadpool_concurrently():
    """STL101 scope: a plain `def` endpoint runs in the threadpool, so blocking there is fine: two requests are inside it at the same time."""
    events: list[str] = []
    lock = threading.Lock()
    # Both requests must be inside the endpoint at once to pass the barrier;
    # if they were serialised, wait() would time out (BrokenBarrierError -> 500).
    barrier = threading.Barrier(2, timeout=10)

    def endpoint(request: Request):
        i = request.query_params["i"]
        with lock:
            events.append(f"start{i}")
        barrier.wait()
        time.sleep(PAUSE / 4)  # blocking is fine here
        with lock:
            events.append(f"end{i}")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint)])
    with TestClient(app) as client:  # one portal = one event loop shared by both threads
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(client.get, "/", params={"i": str(i)}) for i in (1, 2)]
            statuses = [f.result(timeout=30).status_code for f in futures]
    assert statuses == [200, 200]
    assert starts_before_ends(events), events


# --------------------------------------------------------------------------- STL108


def test_stl108_fire_and_forget_task_error_only_reaches_the_log():
    """STL108: an exception in a discarded `asyncio.create_task(...)` never reaches the response or the exception handlers, only the asyncio log ("Task exception was never retrieved")."""
    handled: list[str] = []
    logged: list[dict] = []

    async def job():
        await asyncio.sleep(0)
        raise RuntimeError("background job failed")

    async def accept(request: Request):
        asyncio.create_task(job())  # result discarded
        return PlainTextResponse("accepted")

    async def on_error(request, exc):
        handled.append(repr(exc))
        return PlainTextResponse("handled", status_code=500)

    app = Starlette(routes=[Route("/", accept)], exception_handlers={Exception: on_error})

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: logged.append(context))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            resp = await client.get("/")
        for _ in range(20):  # let the orphan task run to its failure
            await asyncio.sleep(0)
        gc.collect()  # the only reference left is weak: the task is collected, its error logged
        return resp

    resp = asyncio.run(main())
    assert resp.status_code == 200
    assert resp.text == "accepted"
    assert handled == []
    assert [c["message"] for c in logged] == ["Task exception was never retrieved"]
    assert isinstance(logged[0]["exception"], RuntimeError)
    assert str(logged[0]["exception"]) == "background job failed"


def test_stl108_a_task_kept_in_a_local_never_read_is_dropped_too():
    """STL108: ``task = asyncio.create_task(...)`` with ``task`` never read is the same weak reference:
    once the endpoint returns, the task's error only reaches the log."""
    logged: list[dict] = []

    async def job():
        await asyncio.sleep(0)
        raise RuntimeError("background job failed")

    async def accept(request: Request):
        task = asyncio.create_task(job())  # noqa: F841 - never read
        return PlainTextResponse("accepted")

    app = Starlette(routes=[Route("/", accept)])

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: logged.append(context))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            resp = await client.get("/")
        for _ in range(20):
            await asyncio.sleep(0)
        gc.collect()
        return resp

    assert asyncio.run(main()).text == "accepted"
    assert [c["message"] for c in logged] == ["Task exception was never retrieved"]


def test_stl108_a_task_as_a_context_manager_is_a_type_error_after_it_started():
    """STL108: ``with asyncio.create_task(...)``: the task is started, then ``with`` fails (a task is
    no context manager), and the started task is left behind."""
    started: list[str] = []

    async def job():
        started.append("job")

    async def main():
        with pytest.raises(TypeError):
            with asyncio.create_task(job()):  # type: ignore[attr-defined]
                pass
        await asyncio.sleep(0)

    asyncio.run(main())
    assert started == ["job"]


def test_stl108_good_form_background_task_error_propagates():
    """STL108 fix: a `BackgroundTask` runs after the response and its exception propagates to the server (not silently logged)."""
    ran: list[str] = []

    def job():
        ran.append("job")
        raise RuntimeError("background job failed")

    async def accept(request: Request):
        return PlainTextResponse("accepted", background=BackgroundTask(job))

    app = Starlette(routes=[Route("/", accept)])
    with pytest.raises(RuntimeError, match="background job failed"):
        TestClient(app).get("/")
    assert ran == ["job"]


def test_stl108_good_form_kept_reference_is_awaited():
    """STL108 fix: keeping a reference to the task (and awaiting it) surfaces its result and errors."""
    done: list[str] = []

    async def job():
        await asyncio.sleep(0)
        done.append("done")

    async def accept(request: Request):
        task = asyncio.create_task(job())
        await task
        return PlainTextResponse("accepted")

    assert TestClient(Starlette(routes=[Route("/", accept)])).get("/").text == "accepted"
    assert done == ["done"]


def test_stl108_good_form_task_set_keeps_a_lifespan_task_alive():
    """STL108 advice outside request handling (a lifespan: no response to attach a BackgroundTask to): a set of tasks plus `add_done_callback(tasks.discard)` holds a strong reference while the task runs, and the callback drops it once done (no leak)."""
    done: list[str] = []
    tasks: set[asyncio.Task] = set()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        gate = asyncio.Event()

        async def job():
            await gate.wait()
            done.append("done")

        task = asyncio.create_task(job())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        assert tasks == {task}  # the strong reference the event loop does not keep
        gate.set()
        yield
        for _ in range(5):
            await asyncio.sleep(0)

    async def home(request: Request):
        return PlainTextResponse("ok")

    with TestClient(Starlette(routes=[Route("/", home)], lifespan=lifespan)) as client:
        assert client.get("/").text == "ok"
    assert done == ["done"]
    assert tasks == set()


# --------------------------------------------------------------------------- STL104 scope


def test_stl104_scope_os_read_after_readiness_does_not_stall():
    """STL104 scope: `os.read` on a pipe the event loop reported readable returns at once, so concurrent requests interleave; os.read/os.write on descriptors not known to be regular files are not reported."""
    events: list[str] = []

    async def endpoint(request: Request):
        i = request.query_params["i"]
        loop = asyncio.get_running_loop()
        r, w = os.pipe()
        ready = loop.create_future()
        loop.add_reader(r, lambda: ready.done() or ready.set_result(None))
        events.append(f"start{i}")
        loop.call_later(PAUSE, os.write, w, b"x")
        try:
            await ready
            data = os.read(r, 1)  # the pipe is readable: no wait
        finally:
            loop.remove_reader(r)
            os.close(r)
            os.close(w)
        events.append(f"end{i}")
        return PlainTextResponse(data.decode())

    assert run_concurrently(Starlette(routes=[Route("/", endpoint)])) == [200, 200]
    assert starts_before_ends(events), events


# --------------------------------------------------------------------------- STL109


async def compute() -> int:
    return 42


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_stl109_asyncio_run_in_async_endpoint_is_runtimeerror_500(collect_unawaited):
    """STL109: `asyncio.run()` inside an `async def` endpoint raises RuntimeError "cannot be called from a running event loop": a 500."""

    async def endpoint(request: Request):
        return PlainTextResponse(str(asyncio.run(compute())))

    app = Starlette(routes=[Route("/", endpoint)])
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500
    with pytest.raises(RuntimeError, match="cannot be called from a running event loop"):
        TestClient(app).get("/")


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_stl109_run_until_complete_in_async_endpoint_is_runtimeerror_500(collect_unawaited):
    """STL109: `loop.run_until_complete()` inside async code raises RuntimeError "This event loop is already running": a 500."""

    async def endpoint(request: Request):
        loop = asyncio.get_running_loop()
        return PlainTextResponse(str(loop.run_until_complete(compute())))

    app = Starlette(routes=[Route("/", endpoint)])
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500
    with pytest.raises(RuntimeError, match="already running"):
        TestClient(app).get("/")


def test_stl109_good_form_await_the_coroutine():
    """STL109 fix: `await compute()` returns the value."""

    async def endpoint(request: Request):
        return PlainTextResponse(str(await compute()))

    assert TestClient(Starlette(routes=[Route("/", endpoint)])).get("/").text == "42"
