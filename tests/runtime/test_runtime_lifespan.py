"""Runtime proof for the STL2xx lifespan rules."""

from __future__ import annotations

import contextlib
import textwrap
import warnings

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router

from .conftest import (
    STARLETTE_1,
    StarletteDeprecationWarning,
    TestClient,
    fastapi,
    requires_fastapi,
    requires_starlette_0,
    requires_starlette_1,
    run_python,
)


def make_lifespan(ran: list[str]):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        ran.append("lifespan-enter")
        yield {"db": "connected"}
        ran.append("lifespan-exit")

    return lifespan


def make_handlers(ran: list[str]):
    async def startup():
        ran.append("startup")

    async def shutdown():
        ran.append("shutdown")

    return startup, shutdown


# --------------------------------------------------------------------------- STL201


def test_stl201_on_startup_kwarg_is_typeerror_on_starlette_1x():
    """STL201: `Starlette(on_startup=..., on_shutdown=...)` is a TypeError at construction on Starlette 1.x (a hidden DeprecationWarning on 0.x)."""
    ran: list[str] = []
    startup, shutdown = make_handlers(ran)
    if STARLETTE_1:
        with pytest.raises(TypeError, match="unexpected keyword argument 'on_startup'"):
            Starlette(on_startup=[startup], on_shutdown=[shutdown])
    else:
        with pytest.warns(DeprecationWarning, match="on_startup and on_shutdown parameters are deprecated"):
            app = Starlette(on_startup=[startup], on_shutdown=[shutdown])
        with TestClient(app):
            pass
        assert ran == ["startup", "shutdown"]


def test_stl201_router_on_startup_kwarg_is_typeerror_on_starlette_1x():
    """STL201: `Router(on_startup=...)` is a TypeError at construction on Starlette 1.x."""
    ran: list[str] = []
    startup, _ = make_handlers(ran)
    if STARLETTE_1:
        with pytest.raises(TypeError, match="unexpected keyword argument 'on_startup'"):
            Router(on_startup=[startup])
    else:
        with pytest.warns(DeprecationWarning):
            Router(on_startup=[startup])


@requires_fastapi
def test_stl201_fastapi_on_startup_kwarg_still_runs_without_a_warning():
    """STL201: `FastAPI(on_startup=...)` still runs its handlers; FastAPI 0.165 emits no warning at all (not deprecated)."""
    ran: list[str] = []
    startup, shutdown = make_handlers(ran)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = fastapi.FastAPI(on_startup=[startup], on_shutdown=[shutdown])
    with TestClient(app):
        pass
    assert ran == ["startup", "shutdown"]
    on_startup_warnings = [w for w in caught if "on_startup" in str(w.message)]
    if STARLETTE_1:  # FastAPI 0.165: no warning at all
        assert on_startup_warnings == []
    else:  # FastAPI 0.115: Starlette's (hidden by default) DeprecationWarning
        assert on_startup_warnings and issubclass(on_startup_warnings[0].category, DeprecationWarning)


@requires_fastapi
@pytest.mark.skipif(not STARLETTE_1, reason="FastAPI 0.165 behaviour")
def test_stl201_fastapi_keeps_its_own_on_startup_with_a_todo_to_deprecate_it():
    """STL201 message: FastAPI re-implements the hook Starlette removed and only plans its deprecation (a TODO)."""
    import inspect

    source = inspect.getsource(fastapi.routing.APIRouter.__init__)
    assert "TODO: deprecate this once the lifespan" in source
    assert "on_event is deprecated" not in source


@requires_fastapi
def test_stl201_apirouter_on_startup_runs_through_include_router_even_with_app_lifespan():
    """STL201/STL203: an APIRouter's on_startup= handlers run via include_router even when the app has lifespan=."""
    ran: list[str] = []
    startup, shutdown = make_handlers(ran)
    app = fastapi.FastAPI(lifespan=make_lifespan(ran))
    app.include_router(fastapi.APIRouter(on_startup=[startup], on_shutdown=[shutdown]))
    with TestClient(app):
        pass
    assert ran == ["lifespan-enter", "startup", "shutdown", "lifespan-exit"]


@requires_fastapi
@pytest.mark.skipif(not STARLETTE_1, reason="FastAPI 0.165 behaviour")
def test_stl201_apirouter_on_startup_runs_twice_when_the_app_has_no_lifespan():
    """STL201 message: FastAPI 0.165 runs an included APIRouter's handlers twice when the app has no lifespan=."""
    ran: list[str] = []
    startup, shutdown = make_handlers(ran)
    app = fastapi.FastAPI()
    app.include_router(fastapi.APIRouter(on_startup=[startup], on_shutdown=[shutdown]))
    with TestClient(app):
        pass
    assert ran == ["startup", "startup", "shutdown", "shutdown"]


@requires_fastapi
def test_stl201_good_form_apirouter_lifespan_is_merged_by_include_router():
    """STL201 fix for routers: `APIRouter(lifespan=...)` runs once, inside the app's lifespan."""
    ran: list[str] = []

    @contextlib.asynccontextmanager
    async def router_lifespan(app):
        ran.append("router-enter")
        yield
        ran.append("router-exit")

    app = fastapi.FastAPI(lifespan=make_lifespan(ran))
    app.include_router(fastapi.APIRouter(lifespan=router_lifespan))
    with TestClient(app):
        pass
    assert ran == ["lifespan-enter", "router-enter", "router-exit", "lifespan-exit"]


@requires_starlette_1
def test_stl201_in_a_factory_fails_when_the_factory_runs_not_at_import(tmp_path):
    """STL201/202/801 messages: in `create_app()` the TypeError comes when the factory runs; the import succeeds."""
    (tmp_path / "factory_app.py").write_text(textwrap.dedent('''
        from starlette.applications import Starlette

        async def connect():
            pass

        def create_app():
            return Starlette(on_startup=[connect], on_shutdown=[connect])
    '''))
    code = textwrap.dedent('''
        import factory_app
        print("IMPORTED")
        try:
            factory_app.create_app()
        except TypeError as exc:
            print("EXC", exc)
    ''')
    rc, out = run_python(code, tmp_path)
    assert rc == 0, out
    assert "IMPORTED" in out
    # Python names the first unexpected keyword of the call, whichever finding it is
    assert "EXC Starlette.__init__() got an unexpected keyword argument 'on_startup'" in out


def test_stl201_good_form_asynccontextmanager_lifespan_runs_and_yields_state():
    """STL201 fix: an `@asynccontextmanager` lifespan runs on every version and its yielded dict becomes `request.state`."""
    ran: list[str] = []

    async def home(request: Request):
        return PlainTextResponse(request.state.db)

    app = Starlette(routes=[Route("/", home)], lifespan=make_lifespan(ran))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", StarletteDeprecationWarning)
        with TestClient(app) as client:
            assert client.get("/").text == "connected"
    assert ran == ["lifespan-enter", "lifespan-exit"]


# --------------------------------------------------------------------------- STL202


@pytest.mark.parametrize("attr", ["on_event", "add_event_handler"])
def test_stl202_starlette_on_event_and_add_event_handler_removed_in_1x(attr):
    """STL202: `app.on_event` / `app.add_event_handler` on a Starlette app is an AttributeError on 1.x (works on 0.x)."""
    app = Starlette()
    if STARLETTE_1:
        with pytest.raises(AttributeError, match=f"'Starlette' object has no attribute '{attr}'"):
            getattr(app, attr)
    else:
        ran: list[str] = []
        startup, _ = make_handlers(ran)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if attr == "on_event":
                app.on_event("startup")(startup)
            else:
                app.add_event_handler("startup", startup)
        with TestClient(app):
            pass
        assert ran == ["startup"]


@pytest.mark.parametrize("attr", ["on_event", "add_event_handler"])
def test_stl202_router_on_event_removed_in_1x(attr):
    """STL202: `router.on_event` / `router.add_event_handler` on a Starlette Router is an AttributeError on 1.x."""
    router = Router()
    if STARLETTE_1:
        with pytest.raises(AttributeError, match=f"'Router' object has no attribute '{attr}'"):
            getattr(router, attr)
    else:
        assert callable(getattr(router, attr))


@requires_fastapi
def test_stl202_fastapi_has_no_add_event_handler_on_starlette_1x():
    """STL202: a FastAPI app built on Starlette 1.x has no `add_event_handler` at all (AttributeError)."""
    app = fastapi.FastAPI()
    if STARLETTE_1:
        with pytest.raises(AttributeError, match="'FastAPI' object has no attribute 'add_event_handler'"):
            app.add_event_handler("startup", lambda: None)
    else:
        assert callable(app.add_event_handler)


@requires_fastapi
def test_stl202_fastapi_on_event_works_but_warns_deprecated():
    """STL202: FastAPI `@app.on_event("startup")` still runs but emits a DeprecationWarning (hidden under uvicorn)."""
    ran: list[str] = []
    startup, _ = make_handlers(ran)
    app = fastapi.FastAPI()
    with pytest.warns(DeprecationWarning, match="on_event is deprecated"):
        app.on_event("startup")(startup)
    with TestClient(app):
        pass
    assert ran == ["startup"]


@requires_fastapi
@pytest.mark.skipif(not STARLETTE_1, reason="FastAPI 0.165 behaviour")
def test_stl202_apirouter_on_event_handler_runs_twice_when_the_app_has_no_lifespan():
    """STL202 message: `@router.on_event("startup")` on an included APIRouter runs twice on FastAPI 0.165."""
    ran: list[str] = []
    router = fastapi.APIRouter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        @router.on_event("startup")
        async def startup():
            ran.append("startup")

    app = fastapi.FastAPI()
    app.include_router(router)
    with TestClient(app):
        pass
    assert ran == ["startup", "startup"]


# --------------------------------------------------------------------------- STL203


@requires_fastapi
def test_stl203_fastapi_lifespan_plus_on_startup_silently_drops_handlers():
    """STL203: `FastAPI(lifespan=ls, on_startup=[f], on_shutdown=[g])` runs only the lifespan; f and g never run."""
    ran: list[str] = []
    startup, shutdown = make_handlers(ran)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = fastapi.FastAPI(lifespan=make_lifespan(ran), on_startup=[startup], on_shutdown=[shutdown])
        with TestClient(app):
            pass
    assert ran == ["lifespan-enter", "lifespan-exit"]
    ignored_warnings = [w for w in caught if "will be ignored" in str(w.message)]
    if STARLETTE_1:  # FastAPI 0.165: completely silent
        assert ignored_warnings == []
    else:  # FastAPI 0.115: a UserWarning is the only hint
        assert ignored_warnings


@requires_fastapi
def test_stl203_fastapi_lifespan_plus_on_event_silently_drops_handler():
    """STL203: `FastAPI(lifespan=ls)` plus `@app.on_event("startup")`: the on_event handler is never run."""
    ran: list[str] = []
    startup, _ = make_handlers(ran)
    app = fastapi.FastAPI(lifespan=make_lifespan(ran))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app.on_event("startup")(startup)
    with TestClient(app):
        pass
    assert "startup" not in ran
    assert ran == ["lifespan-enter", "lifespan-exit"]


def test_stl203_starlette_lifespan_plus_on_startup_fails_at_construction():
    """STL203: `Starlette(lifespan=ls, on_startup=[f])` fails at construction: TypeError on 1.x, AssertionError on 0.x."""
    ran: list[str] = []
    startup, _ = make_handlers(ran)
    expected = TypeError if STARLETTE_1 else AssertionError
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(expected):
            Starlette(lifespan=make_lifespan(ran), on_startup=[startup])


@requires_starlette_0
def test_stl203_starlette_0x_lifespan_plus_add_event_handler_silently_ignored():  # pragma: no cover - 0.x only
    """STL203: on Starlette 0.x, `Starlette(lifespan=ls)` plus `add_event_handler("startup", f)`: f is silently never run."""
    ran: list[str] = []
    startup, _ = make_handlers(ran)
    app = Starlette(lifespan=make_lifespan(ran))
    app.add_event_handler("startup", startup)
    with TestClient(app):
        pass
    assert ran == ["lifespan-enter", "lifespan-exit"]


@requires_starlette_1
def test_stl203_starlette_1x_lifespan_plus_event_handler_fails_at_import():
    """STL203: on Starlette 1.x the handler registration itself fails (AttributeError), so the app module cannot import."""
    app = Starlette(lifespan=make_lifespan([]))
    with pytest.raises(AttributeError):
        app.on_event("startup")


# --------------------------------------------------------------------------- STL204


def _gen_lifespan_app(ran: list[str], kind: str) -> Starlette:
    if kind == "async":

        async def lifespan(app):  # bare async generator, no @asynccontextmanager
            ran.append("enter")
            yield
            ran.append("exit")

    else:

        def lifespan(app):  # bare sync generator
            ran.append("enter")
            yield
            ran.append("exit")

    return Starlette(lifespan=lifespan)


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_stl204_bare_generator_lifespan_is_deprecated_on_starlette(kind):
    """STL204: a bare (async) generator as a Starlette `lifespan=` still runs but is deprecated (StarletteDeprecationWarning on 1.x)."""
    ran: list[str] = []
    category = StarletteDeprecationWarning if STARLETTE_1 else DeprecationWarning
    with pytest.warns(category, match="generator function lifespans are deprecated"):
        app = _gen_lifespan_app(ran, kind)
        with TestClient(app):
            pass
    assert ran == ["enter", "exit"]


@requires_fastapi
def test_stl204_fastapi_wraps_generator_lifespan_without_warning():
    """STL204 scope: FastAPI wraps a bare async-generator lifespan itself, so it works (and on Starlette 1.x emits no warning): not reported there."""
    ran: list[str] = []

    async def lifespan(app):
        ran.append("enter")
        yield
        ran.append("exit")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = fastapi.FastAPI(lifespan=lifespan)
        with TestClient(app):
            pass
    assert ran == ["enter", "exit"]
    if STARLETTE_1:
        assert not [w for w in caught if "lifespans are deprecated" in str(w.message)]


def test_stl204_good_form_decorated_lifespan_no_warning():
    """STL204 fix: the same generator wrapped in `@asynccontextmanager` emits no deprecation warning."""
    ran: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", StarletteDeprecationWarning)
        app = Starlette(lifespan=make_lifespan(ran))
        with TestClient(app):
            pass
    assert ran == ["lifespan-enter", "lifespan-exit"]


# --------------------------------------------------------------------------- STL206
_STL206_APP = '''
import asyncio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

counter = 0
client = None
built = []
lock = asyncio.Lock()

async def read_await_write(request):
    global counter
    n = counter
    await asyncio.sleep(0.01)
    counter = n + 1
    return PlainTextResponse("ok")

async def no_await_between(request):
    global counter
    await asyncio.sleep(0.01)
    counter += 1
    return PlainTextResponse("ok")

async def locked(request):
    global counter
    async with lock:
        n = counter
        await asyncio.sleep(0.01)
        counter = n + 1
    return PlainTextResponse("ok")

async def lazy(request):
    global client
    if client is None:
        await asyncio.sleep(0.01)
        built.append("client")
        client = object()
    return PlainTextResponse("ok")

app = Starlette(routes=[Route("/" + f.__name__, f) for f in (read_await_write, no_await_between, locked, lazy)])
'''


def _stl206_run(path: str, requests: int = 10) -> dict:
    """Run the STL206 app in a fresh namespace and send ``requests`` concurrent GETs to ``path``."""
    import asyncio

    import httpx

    namespace: dict = {}
    exec(compile(_STL206_APP, "stl206_app", "exec"), namespace)

    async def main():
        transport = httpx.ASGITransport(app=namespace["app"])
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(*(client.get(path) for _ in range(requests)))
        assert all(r.status_code == 200 for r in responses)

    asyncio.run(main())
    return namespace


def test_stl206_read_await_write_loses_concurrent_updates():
    """STL206: a global read, then awaited on, then rebound: 10 concurrent requests leave the counter at 1."""
    assert _stl206_run("/read_await_write")["counter"] == 1


def test_stl206_scope_counter_without_await_between_read_and_write_loses_nothing():
    """STL206 scope: `counter += 1` with no await between read and write is exact under concurrency (not reported)."""
    assert _stl206_run("/no_await_between")["counter"] == 10


def test_stl206_lazy_init_across_an_await_builds_the_object_once_per_concurrent_request():
    """STL206: `if client is None: ... await ...; client = ...` builds one object per concurrent request."""
    assert _stl206_run("/lazy")["built"] == ["client"] * 10


def test_stl206_good_form_lock_held_from_read_to_write_keeps_every_update():
    """STL206 fix: an asyncio.Lock held across the read, the await and the write keeps every update."""
    assert _stl206_run("/locked")["counter"] == 10


def test_stl206_request_state_is_copied_per_request_so_a_counter_there_does_not_persist():
    """STL206 message: rebinding `request.state.counter` does not persist (the lifespan state is copied per request)."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield {"counter": 0}

    async def count(request: Request):
        request.state.counter += 1
        return PlainTextResponse(str(request.state.counter))

    app = Starlette(routes=[Route("/", count)], lifespan=lifespan)
    with TestClient(app) as client:
        assert [client.get("/").text for _ in range(3)] == ["1", "1", "1"]


# --------------------------------------------------------------------------- STL207


def test_stl207_non_yielding_async_lifespan_fails_at_startup():
    """STL207: a plain `async def lifespan(app)` that never yields makes startup fail with a TypeError (TestClient.__enter__ raises)."""
    ran: list[str] = []

    async def lifespan(app):
        ran.append("connected")

    app = Starlette(lifespan=lifespan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine 'lifespan' was never awaited"
        with pytest.raises(TypeError, match="asynchronous context manager"):
            with TestClient(app):
                pass  # pragma: no cover
    assert ran == []  # the body never even ran


def test_stl207_non_yielding_sync_lifespan_fails_at_startup():
    """STL207: a plain `def lifespan(app)` (returns None) also makes startup fail with a TypeError."""

    def lifespan(app):
        return None

    app = Starlette(lifespan=lifespan)
    with pytest.raises(TypeError):
        with TestClient(app):
            pass  # pragma: no cover


def test_stl207_non_yielding_lifespan_makes_uvicorn_exit_3(tmp_path):
    """STL207: under uvicorn the non-yielding lifespan logs "Application startup failed" and the server exits with code 3."""
    (tmp_path / "stl207_app.py").write_text(
        textwrap.dedent(
            """
            from starlette.applications import Starlette

            async def lifespan(app):
                pass

            app = Starlette(lifespan=lifespan)
            """
        )
    )
    code = (
        "import uvicorn; uvicorn.run('stl207_app:app', host='127.0.0.1', port=0, "
        "lifespan='on', log_level='info')"
    )
    returncode, output = run_python(code, cwd=tmp_path, timeout=30)
    assert returncode == 3, output
    assert "Application startup failed" in output
