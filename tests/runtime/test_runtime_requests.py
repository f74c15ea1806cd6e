"""Runtime proof for the STL6xx request / response usage rules."""

from __future__ import annotations

import inspect

import pytest
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route, WebSocketRoute

from .conftest import FASTAPI_VERSION, STARLETTE_1, TestClient, fastapi, requires_fastapi

unawaited = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
unraisable = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


# --------------------------------------------------------------------------- STL601


async def json_subscript(request: Request):
    data = request.json()  # missing await
    return JSONResponse({"x": data["x"]})


async def json_passthrough(request: Request):
    data = request.json()  # missing await
    return JSONResponse(data)


@unawaited
@unraisable
@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        pytest.param(json_subscript, "'coroutine' object is not subscriptable", id="subscript"),
        pytest.param(json_passthrough, "Object of type coroutine is not JSON serializable", id="serialize"),
    ],
)
def test_stl601_unawaited_request_json_is_500(endpoint, message, collect_unawaited):
    """STL601: `request.json()` without `await` yields a coroutine object, and using it raises TypeError: a 500."""
    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    resp = TestClient(app, raise_server_exceptions=False).post("/", json={"x": 1})
    assert resp.status_code == 500
    with pytest.raises(TypeError, match=message):
        TestClient(app).post("/", json={"x": 1})


@unawaited
@unraisable
def test_stl601_unawaited_body_and_form_are_not_data(collect_unawaited):
    """STL601: `request.body()` / `request.form()` without `await` return awaitables (a coroutine, a wrapper), never bytes or FormData."""
    seen: dict[str, object] = {}

    async def endpoint(request: Request):
        seen["body"] = request.body()
        seen["form"] = request.form()
        return PlainTextResponse("ok")

    TestClient(Starlette(routes=[Route("/", endpoint, methods=["POST"])])).post("/", data={"a": "1"})
    assert inspect.iscoroutine(seen["body"])
    assert inspect.isawaitable(seen["form"])
    assert not isinstance(seen["form"], FormData)
    with pytest.raises(AttributeError):
        seen["form"].get("a")  # type: ignore[union-attr]
    seen.clear()


def test_stl601_good_form_awaited_json_works():
    """STL601 fix: `await request.json()` returns the parsed data."""

    async def endpoint(request: Request):
        data = await request.json()
        return JSONResponse({"x": data["x"]})

    resp = TestClient(Starlette(routes=[Route("/", endpoint, methods=["POST"])])).post("/", json={"x": 1})
    assert resp.json() == {"x": 1}


def test_stl601_scope_async_with_request_form_is_valid_without_await():
    """STL601 scope: `async with request.form() as form:` is a correct use of an un-awaited `form()` (it must not be reported)."""

    async def endpoint(request: Request):
        async with request.form() as form:
            return PlainTextResponse(form["a"])

    resp = TestClient(Starlette(routes=[Route("/", endpoint, methods=["POST"])])).post("/", data={"a": "1"})
    assert resp.text == "1"


# --------------------------------------------------------------------------- STL602


async def stream_then_body(request: Request):
    async for _ in request.stream():
        pass
    body = await request.body()
    return PlainTextResponse(body)  # pragma: no cover


async def stream_twice(request: Request):
    async for _ in request.stream():
        pass
    async for _ in request.stream():
        pass  # pragma: no cover
    return PlainTextResponse("unreachable")  # pragma: no cover


async def stream_then_json(request: Request):
    async for _ in request.stream():
        pass
    return JSONResponse(await request.json())  # pragma: no cover


@pytest.mark.parametrize("endpoint", [stream_then_body, stream_twice, stream_then_json])
def test_stl602_stream_then_read_again_is_stream_consumed(endpoint):
    """STL602: iterating `request.stream()` and then reading the body again raises RuntimeError "Stream consumed": a 500."""
    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    assert TestClient(app, raise_server_exceptions=False).post("/", content=b'{"a": 1}').status_code == 500
    with pytest.raises(RuntimeError, match="Stream consumed"):
        TestClient(app).post("/", content=b'{"a": 1}')


def test_stl602_good_form_body_is_cached_and_rereadable():
    """STL602 fix: `await request.body()` twice, or `body()` then `stream()`, works because the body is cached."""

    async def endpoint(request: Request):
        a = await request.body()
        b = await request.body()
        chunks = [chunk async for chunk in request.stream()]
        return PlainTextResponse(f"a={a!r} b={b!r} s={b''.join(chunks)!r}")

    resp = TestClient(Starlette(routes=[Route("/", endpoint, methods=["POST"])])).post("/", content=b"hello")
    assert resp.text == "a=b'hello' b=b'hello' s=b'hello'"


# --------------------------------------------------------------------------- STL603


async def returns_dict(request):
    return {"ok": True}


async def returns_list(request):
    return [1, 2]


async def returns_str(request):
    return "ok"


async def falls_off_the_end(request):
    request.state.touched = True


def sync_returns_dict(request):
    return {"ok": True}


class DictEndpoint(HTTPEndpoint):
    async def get(self, request):
        return {"ok": True}


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        pytest.param(returns_dict, "'dict' object is not callable", id="dict"),
        pytest.param(returns_list, "'list' object is not callable", id="list"),
        pytest.param(returns_str, "'str' object is not callable", id="str"),
        pytest.param(falls_off_the_end, "'NoneType' object is not callable", id="none"),
        pytest.param(sync_returns_dict, "'dict' object is not callable", id="sync-def-dict"),
        pytest.param(DictEndpoint, "'dict' object is not callable", id="HTTPEndpoint"),
    ],
)
def test_stl603_starlette_endpoint_returning_non_response_is_typeerror(endpoint, message):
    """STL603: a plain Starlette endpoint that returns a dict/list/str/None gives TypeError "... object is not callable" at request time: a 500."""
    app = Starlette(routes=[Route("/", endpoint)])
    assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500
    with pytest.raises(TypeError, match=message):
        TestClient(app).get("/")


@requires_fastapi
def test_stl603_fastapi_path_operation_returning_dict_is_fine():
    """STL603 scope: a FastAPI path operation returning a dict is serialised to JSON (not reported)."""
    app = fastapi.FastAPI()

    @app.get("/")
    async def index():
        return {"ok": True}

    resp = TestClient(app).get("/")
    assert resp.status_code == 200
    assert resp.json() == {"ok": True}


def test_stl603_good_form_response_object_works():
    """STL603 fix: returning `JSONResponse({...})` works."""

    async def endpoint(request):
        return JSONResponse({"ok": True})

    assert TestClient(Starlette(routes=[Route("/", endpoint)])).get("/").json() == {"ok": True}


# --------------------------------------------------------------------------- STL604


async def two_params(request, user_id):
    return PlainTextResponse(user_id)  # pragma: no cover


async def zero_params():
    return PlainTextResponse("never")  # pragma: no cover


async def kw_only_required(request, *, user_id):
    return PlainTextResponse(user_id)  # pragma: no cover


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        pytest.param(two_params, "missing 1 required positional argument: 'user_id'", id="two-params"),
        pytest.param(zero_params, "takes 0 positional arguments but 1 was given", id="zero-params"),
        pytest.param(kw_only_required, "missing 1 required keyword-only argument: 'user_id'", id="kw-only"),
    ],
)
def test_stl604_endpoint_not_callable_with_request_only_is_typeerror(endpoint, message):
    """STL604: a Route endpoint that cannot be called with exactly `(request)` is accepted at construction, then raises TypeError at request: a 500."""
    app = Starlette(routes=[Route("/users/{user_id}", endpoint)])  # no error here
    assert TestClient(app, raise_server_exceptions=False).get("/users/1").status_code == 500
    with pytest.raises(TypeError, match=message):
        TestClient(app).get("/users/1")


def test_stl604_websocket_endpoint_with_two_params_is_typeerror():
    """STL604: a WebSocketRoute endpoint with a second required parameter raises TypeError when a client connects."""

    async def ws_two(websocket, room):
        await websocket.accept()  # pragma: no cover

    app = Starlette(routes=[WebSocketRoute("/ws", ws_two)])
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'room'"):
        with TestClient(app).websocket_connect("/ws"):
            pass  # pragma: no cover


def test_stl604_good_form_single_param_or_defaulted_extras_work():
    """STL604 fix: `(request)` reading `request.path_params`, or extra parameters with defaults, work."""

    async def one(request):
        return PlainTextResponse(request.path_params["user_id"])

    async def defaulted(request, user_id="default"):
        return PlainTextResponse(user_id)

    app = Starlette(routes=[Route("/users/{user_id}", one), Route("/d/{user_id}", defaulted)])
    client = TestClient(app)
    assert client.get("/users/7").text == "7"
    assert client.get("/d/7").text == "default"  # extra params are never filled from the path


# --------------------------------------------------------------------------- STL605


async def read_user_id(request: Request):
    return PlainTextResponse(request.path_params["user_id"])


def test_stl605_missing_path_param_is_keyerror_500():
    """STL605: `request.path_params["user_id"]` on a route whose path has no `{user_id}` raises KeyError: a 500."""
    app = Starlette(routes=[Route("/users/{id}", read_user_id)])
    assert TestClient(app, raise_server_exceptions=False).get("/users/1").status_code == 500
    with pytest.raises(KeyError, match="user_id"):
        TestClient(app).get("/users/1")


def test_stl605_good_form_param_present_in_route_or_mount_prefix():
    """STL605 fix: with `{user_id}` in the route path (or in a Mount prefix) the value is there."""
    app = Starlette(
        routes=[
            Route("/users/{user_id}", read_user_id),
            Mount("/orgs/{user_id}", routes=[Route("/profile", read_user_id)]),
        ]
    )
    client = TestClient(app)
    assert client.get("/users/42").text == "42"
    assert client.get("/orgs/7/profile").text == "7"


# --------------------------------------------------------------------------- STL606


async def ok(request):
    return PlainTextResponse("ok")


async def ws_ok(websocket):
    await websocket.accept()  # pragma: no cover


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: Route("users", ok), id="Route"),
        pytest.param(lambda: WebSocketRoute("ws", ws_ok), id="WebSocketRoute"),
        pytest.param(lambda: Mount("api", routes=[]), id="Mount"),
    ],
)
def test_stl606_path_without_leading_slash_fails_at_construction(build):
    """STL606: `Route("users")` (or `WebSocketRoute("ws")`, `Mount("api")`) raises AssertionError "Routed paths must start with '/'" at construction, i.e. import."""
    with pytest.raises(AssertionError, match="Routed paths must start with '/'"):
        build()


def test_stl606_good_form_empty_mount_and_slashed_paths_are_valid():
    """STL606 fix: `Route("/users")` works, and `Mount("", ...)` is valid (routes mounted at the root)."""
    app = Starlette(routes=[Route("/users", ok), Mount("", routes=[Route("/inner", ok)])])
    client = TestClient(app)
    assert client.get("/users").text == "ok"
    assert client.get("/inner").text == "ok"


# --------------------------------------------------------------------------- STL607


def redirect_app(status_code: int | None, done_methods: list[str], seen: list[tuple[str, bytes]]) -> Starlette:
    async def submit(request: Request):
        await request.form()
        if status_code is None:
            return RedirectResponse("/done")
        return RedirectResponse("/done", status_code=status_code)

    async def done(request: Request):
        seen.append((request.method, await request.body()))
        return PlainTextResponse(f"done via {request.method}")

    return Starlette(routes=[Route("/submit", submit, methods=["POST"]), Route("/done", done, methods=done_methods)])


def test_stl607_default_redirect_after_post_is_307_and_repeats_the_post():
    """STL607: `RedirectResponse(url)` after a POST is a 307, so the client re-POSTs the form body to the target (double submit)."""
    seen: list[tuple[str, bytes]] = []
    client = TestClient(redirect_app(None, ["GET", "POST"], seen))

    first = client.post("/submit", data={"amount": "100"}, follow_redirects=False)
    assert first.status_code == 307
    assert first.headers["location"] == "/done"

    followed = client.post("/submit", data={"amount": "100"}, follow_redirects=True)
    assert followed.text == "done via POST"
    assert seen == [("POST", b"amount=100")]


def test_stl607_default_redirect_to_get_only_target_is_405():
    """STL607: with a GET-only target the re-POST after the default 307 gets `405 Method Not Allowed`."""
    client = TestClient(redirect_app(None, ["GET"], []))
    resp = client.post("/submit", data={"amount": "100"}, follow_redirects=True)
    assert resp.status_code == 405


def test_stl607_good_form_303_follow_up_is_get():
    """STL607 fix: `status_code=303` makes the follow-up a GET with no body."""
    seen: list[tuple[str, bytes]] = []
    client = TestClient(redirect_app(303, ["GET"], seen))
    first = client.post("/submit", data={"amount": "100"}, follow_redirects=False)
    assert first.status_code == 303
    resp = client.post("/submit", data={"amount": "100"}, follow_redirects=True)
    assert resp.status_code == 200
    assert resp.text == "done via GET"
    assert seen == [("GET", b"")]


# --------------------------------------------------------------------------- STL608


def session_cart_app(nested: bool) -> Starlette:
    async def login(request: Request):
        request.session["cart"] = []
        return PlainTextResponse("ok")

    async def add(request: Request):
        if nested:
            request.session["cart"].append("book")  # nested mutation
        else:
            cart = request.session["cart"]
            cart.append("book")
            request.session["cart"] = cart  # assign back
        return JSONResponse(request.session["cart"])

    async def cart(request: Request):
        return JSONResponse(request.session["cart"])

    return Starlette(
        routes=[Route("/login", login), Route("/add", add), Route("/cart", cart)],
        middleware=[Middleware(SessionMiddleware, secret_key="test-only")],
    )


def test_stl608_nested_session_mutation_is_lost_on_starlette_1x():
    """STL608: on Starlette 1.x `request.session["cart"].append(x)` sends no Set-Cookie, so the change is silently lost (0.x persisted it)."""
    client = TestClient(session_cart_app(nested=True))
    client.get("/login")
    first = client.get("/add")
    assert first.json() == ["book"]  # looks fine inside the request
    client.get("/add")
    if STARLETTE_1:
        assert "set-cookie" not in first.headers
        assert client.get("/cart").json() == []
    else:
        assert client.get("/cart").json() == ["book", "book"]


def test_stl608_a_write_on_the_missing_key_branch_saves_only_the_first_change():
    """STL608: ``if "k" not in request.session: request.session["k"] = []`` then ``.append(x)``: the
    write happens only while the key is missing, so on Starlette 1.x every later append is lost."""

    async def add(request):
        if "_messages" not in request.session:
            request.session["_messages"] = []
        request.session["_messages"].append(request.query_params["m"])
        return JSONResponse(request.session["_messages"])

    async def show(request):
        return JSONResponse(request.session.get("_messages"))

    app = Starlette(routes=[Route("/add", add), Route("/show", show)],
                    middleware=[Middleware(SessionMiddleware, secret_key="test-only")])
    client = TestClient(app)
    assert client.get("/add", params={"m": "one"}).json() == ["one"]
    assert client.get("/add", params={"m": "two"}).json() == ["one", "two"]  # looks fine inside the request
    assert client.get("/show").json() == (["one"] if STARLETTE_1 else ["one", "two"])


def test_stl608_good_form_assign_back_persists():
    """STL608 fix: read, modify, assign back to `request.session[...]` persists the change on every version."""
    client = TestClient(session_cart_app(nested=False))
    client.get("/login")
    first = client.get("/add")
    assert "set-cookie" in first.headers
    client.get("/add")
    assert client.get("/cart").json() == ["book", "book"]


# --------------------------------------------------------------------------- STL609


class StreamLoggingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        request.state.size = size
        return await call_next(request)


class BodyLoggingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        request.state.size = len(await request.body())
        return await call_next(request)


async def echo(request: Request):
    body = await request.body()
    return PlainTextResponse(f"endpoint got {body!r}")


def test_stl609_stream_consumed_in_dispatch_leaves_endpoint_empty_body():
    """STL609: consuming `request.stream()` in `BaseHTTPMiddleware.dispatch` makes the endpoint silently get `b''` (status 200)."""
    app = Starlette(routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(StreamLoggingMiddleware)])
    resp = TestClient(app).post("/", content=b"hello")
    assert resp.status_code == 200
    assert resp.text == "endpoint got b''"


def test_stl609_good_form_body_in_dispatch_is_replayed():
    """STL609 fix: `await request.body()` in dispatch is fine: Starlette replays it and the endpoint gets the data."""
    app = Starlette(routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(BodyLoggingMiddleware)])
    resp = TestClient(app).post("/", content=b"hello")
    assert resp.text == "endpoint got b'hello'"



# --------------------------------------------------------------------------- STL610


@requires_fastapi
def test_stl610_path_value_no_parameter_takes_is_dropped():
    """``{item_id}`` with no parameter ``item_id``: the route matches and the value never arrives."""
    app = fastapi.FastAPI()
    seen = []

    @app.get("/items/{item_id}")
    async def read_item(q: str = "x"):
        seen.append(q)
        return {"q": q}

    client = TestClient(app)
    assert [client.get(f"/items/{n}").json() for n in (5, 6)] == [{"q": "x"}, {"q": "x"}]
    assert seen == ["x", "x"]  # nothing told 5 from 6


@requires_fastapi
def test_stl610_taken_by_a_parameter_or_a_dependency_arrives():
    app = fastapi.FastAPI()

    def owner(owner_id: int):
        return owner_id

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        return {"item": item_id}

    @app.get("/owners/{owner_id}")
    async def read_owner(o: int = fastapi.Depends(owner)):
        return {"owner": o}

    @app.get("/books/{book_id}")
    async def read_book(b: int = fastapi.Path(alias="book_id")):
        return {"book": b}

    client = TestClient(app)
    assert client.get("/items/5").json() == {"item": 5}
    assert client.get("/owners/7").json() == {"owner": 7}
    assert client.get("/books/9").json() == {"book": 9}


@requires_fastapi
@pytest.mark.skipif(fastapi is not None and FASTAPI_VERSION < (0, 105), reason="FastAPI 0.105 takes the last marker")
def test_stl610_only_the_last_fastapi_marker_of_annotated_counts():
    """Two FastAPI markers in ``Annotated``: the last one is used (before 0.105, an AssertionError at
    startup), so a dependency that takes the value but comes first never runs."""
    from typing import Annotated

    app = fastapi.FastAPI()
    ran = []

    def lorem(lorem: str = "unused"):
        return lorem

    def owner(owner_id: int):
        ran.append(owner_id)
        return owner_id

    async def read_owner(o):
        return {"owner": o}

    # (this module's annotations are strings: FastAPI could not evaluate one naming these locals)
    read_owner.__annotations__["o"] = Annotated[str, fastapi.Depends(owner), fastapi.Depends(lorem)]
    app.get("/owners/{owner_id}")(read_owner)

    assert TestClient(app).get("/owners/7").json() == {"owner": "unused"}
    assert ran == []  # the dependency that takes {owner_id} never ran


@requires_fastapi
def test_stl610_positional_only_path_parameters_are_a_500():
    app = fastapi.FastAPI()

    @app.get("/books/{author}/{title}")
    async def read_book(author: str, title: str, /):
        return {"author": author}

    response = TestClient(app, raise_server_exceptions=False).get("/books/x/y")
    assert response.status_code == 500
    with pytest.raises(TypeError):
        TestClient(app).get("/books/x/y")


@requires_fastapi
def test_stl610_varargs_are_parameters_named_args_and_kwargs():
    """``**kwargs`` collects nothing: FastAPI reads it as a query parameter named ``kwargs``, so the
    path value is dropped (here with a 422 for the missing ``kwargs``). ``*args`` is a parameter
    named ``args`` that FastAPI passes by keyword: ``{args}`` is a TypeError, a 500, unless a
    ``**kwargs`` takes it."""
    app = fastapi.FastAPI()

    @app.get("/things/{thing_id}")
    async def takes_kwargs(**kwargs: str):
        return kwargs

    @app.get("/words/{args}")
    async def takes_args(*args: str):
        return {"args": args}

    client = TestClient(app)
    missing = client.get("/things/1").json()["detail"]
    assert [(e["loc"], e["type"]) for e in missing] == [(["query", "kwargs"], "missing")]
    # called as takes_kwargs(kwargs="k"): thing_id never arrives
    assert client.get("/things/1", params={"kwargs": "k"}).json() == {"kwargs": "k"}
    assert TestClient(app, raise_server_exceptions=False).get("/words/hi").status_code == 500

    @app.get("/both/{args}")
    async def takes_both(*args, **kwargs):
        return kwargs

    # with a **kwargs, args= lands there
    assert client.get("/both/hi", params={"kwargs": "k"}).json() == {"args": "hi", "kwargs": "k"}


@requires_fastapi
def test_stl610_an_instance_dependency_is_called_through_its_call_method():
    """``Depends(Checker())``: FastAPI reads ``Checker.__call__``'s signature, not ``__init__``'s."""
    from typing import Annotated

    app = fastapi.FastAPI()

    class Checker:
        def __init__(self, thing_id: str = "constructed"):
            self.thing_id = thing_id

        def __call__(self, token: str = "none"):
            return f"{self.thing_id}/{token}"

    async def read_thing(checked):
        return {"checked": checked}

    read_thing.__annotations__["checked"] = Annotated[str, fastapi.Depends(Checker())]
    app.get("/things/{thing_id}")(read_thing)
    assert TestClient(app).get("/things/42").json() == {"checked": "constructed/none"}


# --------------------------------------------------------------------------- STL612


@requires_fastapi
def test_stl612_a_direct_call_gets_the_marker_and_annotated_serves_the_same():
    """The default-value form: FastAPI fills ``q``, but a direct call gets the ``Query`` object
    itself. The ``Annotated`` form (what the fix writes) serves the same requests."""
    from typing import Annotated, Optional

    app = fastapi.FastAPI()

    async def old_form(q: Optional[str] = fastapi.Query(None, max_length=5)):
        return {"q": q}

    async def new_form(q=None):
        return {"q": q}

    # (this module's annotations are strings: set the one FastAPI must evaluate)
    old_form.__annotations__["q"] = Optional[str]
    new_form.__annotations__["q"] = Annotated[Optional[str], fastapi.Query(max_length=5)]
    app.get("/old")(old_form)
    app.get("/new")(new_form)
    client = TestClient(app)
    for path in ("/old", "/new"):
        assert client.get(path).json() == {"q": None}
        assert client.get(path, params={"q": "abc"}).json() == {"q": "abc"}
        assert client.get(path, params={"q": "too long"}).status_code == 422
    import asyncio

    direct = asyncio.run(old_form())["q"]
    assert direct is not None and type(direct).__name__ == "Query"  # not None: the marker itself
    assert asyncio.run(new_form()) == {"q": None}
