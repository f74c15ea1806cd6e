"""Runtime proof for the STL3xx middleware rules."""

from __future__ import annotations

import contextlib

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from .conftest import TestClient, fastapi, requires_fastapi

ADD_MIDDLEWARE_ERROR = "Cannot add middleware after an application has started"
GOOD_ORIGIN = "https://good.example"

# A sync dispatch leaves `call_next(...)` un-awaited: the STL303 tests silence
# the resulting "coroutine ... was never awaited" RuntimeWarning on purpose.


async def home(request: Request):
    return PlainTextResponse("home")


# --------------------------------------------------------------------------- STL301


def test_stl301_add_middleware_in_endpoint_is_runtimeerror_500():
    """STL301: `app.add_middleware(...)` inside an endpoint raises "Cannot add middleware after an application has started": the client gets a 500."""

    async def late(request: Request):
        request.app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
        return PlainTextResponse("unreachable")

    app = Starlette(routes=[Route("/late", late)])
    resp = TestClient(app, raise_server_exceptions=False).get("/late")
    assert resp.status_code == 500
    assert resp.text == "Internal Server Error"

    with pytest.raises(RuntimeError, match=ADD_MIDDLEWARE_ERROR):
        TestClient(app).get("/late")


def test_stl301_add_middleware_in_lifespan_startup_fails_startup():
    """STL301: `app.add_middleware(...)` in lifespan startup raises the same RuntimeError, out of `TestClient.__enter__` (uvicorn: startup failed)."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
        yield

    app = Starlette(routes=[Route("/", home)], lifespan=lifespan)
    with pytest.raises(RuntimeError, match=ADD_MIDDLEWARE_ERROR):
        with TestClient(app):
            pass  # pragma: no cover


def test_stl301_add_middleware_after_first_request_raises_at_the_call():
    """STL301: at module level after the app served a request, `add_middleware` raises at the call."""
    app = Starlette(routes=[Route("/", home)])
    assert TestClient(app).get("/").text == "home"
    with pytest.raises(RuntimeError, match=ADD_MIDDLEWARE_ERROR):
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])


@requires_fastapi
def test_stl301_fastapi_add_middleware_in_endpoint_is_500():
    """STL301: the same RuntimeError -> 500 happens for a FastAPI app."""
    app = fastapi.FastAPI()

    @app.get("/late")
    async def late():
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
        return {"never": "sent"}

    assert TestClient(app, raise_server_exceptions=False).get("/late").status_code == 500
    with pytest.raises(RuntimeError, match=ADD_MIDDLEWARE_ERROR):
        TestClient(app).get("/late")


def test_stl301_good_form_add_middleware_at_construction_is_active():
    """STL301 fix: `add_middleware` before the app starts works (TrustedHost then rejects a foreign Host)."""
    app = Starlette(routes=[Route("/", home)])
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    client = TestClient(app)
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "example.com"}).text == "home"


# --------------------------------------------------------------------------- STL302


def test_stl302_bare_middleware_class_fails_when_stack_is_built():
    """STL302: `middleware=[CORSMiddleware]` constructs fine but the first request fails: TypeError "cannot unpack non-iterable type object"."""
    app = Starlette(routes=[Route("/", home)], middleware=[CORSMiddleware])  # no error here
    with pytest.raises(TypeError, match="cannot unpack non-iterable type object"):
        TestClient(app).get("/")
    resp = TestClient(app, raise_server_exceptions=False).get("/")
    assert resp.status_code == 500


def test_stl302_bare_middleware_class_fails_at_lifespan_startup():
    """STL302: with a lifespan (`with TestClient(app)`) the same TypeError is raised at startup."""
    app = Starlette(routes=[Route("/", home)], middleware=[CORSMiddleware])
    with pytest.raises(TypeError, match="cannot unpack non-iterable type object"):
        with TestClient(app):
            pass  # pragma: no cover


def test_stl302_middleware_instance_in_list_fails_too():
    """STL302: an instance in the list fails the same way: "cannot unpack non-iterable CORSMiddleware object"."""
    app = Starlette(routes=[Route("/", home)], middleware=[CORSMiddleware(home, allow_origins=[GOOD_ORIGIN])])
    with pytest.raises(TypeError, match="cannot unpack non-iterable CORSMiddleware object"):
        TestClient(app).get("/")


@requires_fastapi
def test_stl302_fastapi_bare_middleware_class_fails():
    """STL302: `FastAPI(middleware=[CORSMiddleware])` raises the same TypeError on first use."""
    app = fastapi.FastAPI(middleware=[CORSMiddleware])
    with pytest.raises(TypeError, match="cannot unpack non-iterable type object"):
        TestClient(app).get("/")


def test_stl302_scope_plain_three_tuple_works():
    """STL302 scope (observed): a plain `(cls, args, kwargs)` 3-tuple works, because the stack builder only unpacks each item."""
    app = Starlette(
        routes=[Route("/", home)],
        middleware=[(CORSMiddleware, (), {"allow_origins": [GOOD_ORIGIN]})],
    )
    resp = TestClient(app).get("/", headers={"Origin": GOOD_ORIGIN})
    assert resp.text == "home"
    assert resp.headers["access-control-allow-origin"] == GOOD_ORIGIN


def test_stl302_good_form_wrapped_in_middleware_works():
    """STL302 fix: `Middleware(CORSMiddleware, ...)` builds and applies the middleware."""
    app = Starlette(routes=[Route("/", home)], middleware=[Middleware(CORSMiddleware, allow_origins=[GOOD_ORIGIN])])
    with TestClient(app) as client:
        resp = client.get("/", headers={"Origin": GOOD_ORIGIN})
    assert resp.text == "home"
    assert resp.headers["access-control-allow-origin"] == GOOD_ORIGIN


# --------------------------------------------------------------------------- STL303


class SyncHeaderMiddleware(BaseHTTPMiddleware):
    def dispatch(self, request, call_next):  # plain def: the bug
        response = call_next(request)
        response.headers["X-Trace"] = "1"
        return response


class SyncShortCircuitMiddleware(BaseHTTPMiddleware):
    def dispatch(self, request, call_next):
        return PlainTextResponse("blocked", status_code=403)


class SyncPassThroughMiddleware(BaseHTTPMiddleware):
    def dispatch(self, request, call_next):
        return call_next(request)


class AsyncHeaderMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["X-Trace"] = "1"
        return response


@pytest.mark.parametrize(
    ("middleware_class", "error"),
    [
        pytest.param(SyncHeaderMiddleware, "'coroutine' object has no attribute 'headers'", id="touches-response"),
        pytest.param(SyncShortCircuitMiddleware, "can't be used in 'await' expression", id="returns-response"),
    ],
)
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_stl303_sync_dispatch_breaks_every_request(middleware_class, error, collect_unawaited):
    """STL303: a `BaseHTTPMiddleware` whose `dispatch` is a plain `def` turns every request into a 500."""
    app = Starlette(routes=[Route("/", home)], middleware=[Middleware(middleware_class)])
    resp = TestClient(app, raise_server_exceptions=False).get("/")
    assert resp.status_code == 500
    assert resp.text == "Internal Server Error"

    with pytest.raises(BaseException) as excinfo:
        TestClient(app).get("/")
    assert error in _flatten_messages(excinfo.value)


def _flatten_messages(exc: BaseException) -> str:
    """All messages of an exception, including ExceptionGroup members."""
    parts = [f"{type(exc).__name__}: {exc}"]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(_flatten_messages(sub))
    return "\n".join(parts)


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_stl303_sync_dispatch_function_via_middleware_is_500(collect_unawaited):
    """STL303: `Middleware(BaseHTTPMiddleware, dispatch=<def>)` that touches the response is a 500 too."""

    def dispatch(request, call_next):
        response = call_next(request)
        response.headers["X-Trace"] = "1"
        return response

    app = Starlette(routes=[Route("/", home)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


@requires_fastapi
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_stl303_fastapi_sync_http_middleware_is_500(collect_unawaited):
    """STL303: a FastAPI `@app.middleware("http")` on a plain `def` that touches the response gives a 500."""
    app = fastapi.FastAPI()

    @app.middleware("http")
    def add_header(request, call_next):
        response = call_next(request)
        response.headers["X-Trace"] = "1"
        return response

    @app.get("/")
    async def index():
        return {"ok": True}

    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_stl303_sync_pass_through_dispatch_works_by_accident():
    """STL303 (surprise): a sync `dispatch` that only does `return call_next(request)` works, because the coroutine is awaited by the base class."""
    app = Starlette(routes=[Route("/", home)], middleware=[Middleware(SyncPassThroughMiddleware)])
    resp = TestClient(app).get("/")
    assert resp.status_code == 200
    assert resp.text == "home"


def test_stl303_good_form_async_dispatch_works():
    """STL303 fix: `async def dispatch` that awaits `call_next` works and can edit the response."""
    app = Starlette(routes=[Route("/", home)], middleware=[Middleware(AsyncHeaderMiddleware)])
    resp = TestClient(app).get("/")
    assert resp.text == "home"
    assert resp.headers["x-trace"] == "1"


# --------------------------------------------------------------------------- STL304


class AuthMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        if "authorization" not in request.headers:
            return PlainTextResponse("Unauthorized", status_code=401)
        return await call_next(request)


def cors() -> Middleware:
    return Middleware(CORSMiddleware, allow_origins=[GOOD_ORIGIN], allow_methods=["*"], allow_headers=["*"])


def test_stl304_cors_inside_auth_middleware_drops_cors_headers_on_401():
    """STL304: with CORS not outermost, the 401 made by an outer auth middleware has no `access-control-allow-origin`: the browser shows a CORS error, not the 401."""
    app = Starlette(routes=[Route("/", home)], middleware=[Middleware(AuthMiddleware), cors()])
    resp = TestClient(app).get("/", headers={"Origin": GOOD_ORIGIN})
    assert resp.status_code == 401
    assert "access-control-allow-origin" not in resp.headers


def test_stl304_add_middleware_order_puts_last_call_outermost():
    """STL304: `add_middleware(CORS)` followed by `add_middleware(Auth)` makes Auth outermost, so the 401 lacks CORS headers."""
    app = Starlette(routes=[Route("/", home)])
    app.add_middleware(CORSMiddleware, allow_origins=[GOOD_ORIGIN])
    app.add_middleware(AuthMiddleware)
    resp = TestClient(app).get("/", headers={"Origin": GOOD_ORIGIN})
    assert resp.status_code == 401
    assert "access-control-allow-origin" not in resp.headers


def test_stl304_good_form_cors_outermost_decorates_401():
    """STL304 fix: with CORS first in `middleware=[...]` (or the last `add_middleware`), the 401 carries the CORS header."""
    app = Starlette(routes=[Route("/", home)], middleware=[cors(), Middleware(AuthMiddleware)])
    resp = TestClient(app).get("/", headers={"Origin": GOOD_ORIGIN})
    assert resp.status_code == 401
    assert resp.headers["access-control-allow-origin"] == GOOD_ORIGIN

    app2 = Starlette(routes=[Route("/", home)])
    app2.add_middleware(AuthMiddleware)
    app2.add_middleware(CORSMiddleware, allow_origins=[GOOD_ORIGIN])
    resp2 = TestClient(app2).get("/", headers={"Origin": GOOD_ORIGIN})
    assert resp2.status_code == 401
    assert resp2.headers["access-control-allow-origin"] == GOOD_ORIGIN


def _answering_middleware():
    from starlette.authentication import AuthenticationBackend, AuthenticationError
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    class Failing(AuthenticationBackend):
        async def authenticate(self, conn):
            raise AuthenticationError("bad token")

    return [
        (Middleware(TrustedHostMiddleware, allowed_hosts=["good.example"]), 400, "Invalid host header"),
        (Middleware(HTTPSRedirectMiddleware), 307, ""),
        (Middleware(AuthenticationMiddleware, backend=Failing()), 400, "bad token"),
    ]


@pytest.mark.parametrize("index", range(3), ids=["TrustedHost-400", "HTTPSRedirect-307", "Authentication-400"])
def test_stl304_message_the_middleware_it_names_answer_without_cors_headers(index):
    """STL304 message: TrustedHost (400), HTTPSRedirect (307) and Authentication (400 on failure) answer by themselves; outside CORS their answers lack CORS headers."""
    outer, status, text = _answering_middleware()[index]
    app = Starlette(routes=[Route("/", home)], middleware=[outer, cors()])
    resp = TestClient(app, follow_redirects=False).get("/", headers={"Origin": GOOD_ORIGIN})
    assert resp.status_code == status
    assert text in resp.text
    assert "access-control-allow-origin" not in resp.headers


def test_stl304_scope_gzip_outside_cors_answers_nothing_itself():
    """STL304 scope: GZipMiddleware never answers by itself, so outside CORS every response still gets CORS headers."""
    from starlette.middleware.gzip import GZipMiddleware

    app = Starlette(routes=[Route("/", home)], middleware=[Middleware(GZipMiddleware, minimum_size=1), cors()])
    resp = TestClient(app).get("/", headers={"Origin": GOOD_ORIGIN, "Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == GOOD_ORIGIN
