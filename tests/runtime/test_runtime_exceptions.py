"""Runtime proof for the STL4xx exception-handling rules."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route

from .conftest import TestClient, fastapi, requires_fastapi


async def ok(request: Request):
    return PlainTextResponse("ok")


async def missing_widget(request: Request):
    raise HTTPException(status_code=404, detail="no such widget")


async def broken(request: Request):
    raise ValueError("bad value")


ROUTES = [Route("/ok", ok), Route("/widget", missing_widget), Route("/broken", broken)]


async def json_http_error(request: Request, exc: HTTPException):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def json_server_error(request: Request, exc: Exception):
    return JSONResponse({"error": "internal"}, status_code=500)


# --------------------------------------------------------------------------- STL401 / STL402


def test_stl401_no_http_exception_handler_gives_text_plain():
    """STL401: a Starlette app without an HTTPException / 4xx handler answers API clients with text/plain, not the API's JSON."""
    client = TestClient(Starlette(routes=ROUTES))
    resp = client.get("/widget")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "no such widget"

    unknown = client.get("/nope")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/plain")
    assert unknown.text == "Not Found"


def test_stl402_no_exception_handler_gives_text_plain_500():
    """STL402: a Starlette app without an `Exception`/500 handler answers an unhandled error with bare text/plain "Internal Server Error"."""
    resp = TestClient(Starlette(routes=ROUTES), raise_server_exceptions=False).get("/broken")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "Internal Server Error"


@requires_fastapi
def test_stl402_fastapi_no_exception_handler_gives_text_plain_500():
    """STL402: FastAPI answers HTTPException as JSON but an unhandled error as text/plain "Internal Server Error"."""
    app = fastapi.FastAPI()

    @app.get("/widget")
    async def widget():
        raise fastapi.HTTPException(status_code=404, detail="no such widget")

    @app.get("/broken")
    async def fastapi_broken():
        raise ValueError("bad value")

    client = TestClient(app, raise_server_exceptions=False)
    widget_resp = client.get("/widget")
    assert widget_resp.status_code == 404
    assert widget_resp.json() == {"detail": "no such widget"}

    resp = client.get("/broken")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "Internal Server Error"


def test_stl401_stl402_good_form_handlers_give_json():
    """STL401/STL402 fix: handlers for HTTPException and Exception give the API's JSON format for 404 and 500."""
    app = Starlette(
        routes=ROUTES,
        exception_handlers={HTTPException: json_http_error, Exception: json_server_error},
    )
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/widget").json() == {"error": "no such widget"}
    assert client.get("/nope").json() == {"error": "Not Found"}
    resp = client.get("/broken")
    assert resp.status_code == 500
    assert resp.json() == {"error": "internal"}


def test_stl402_exception_handler_still_reraises_for_the_server_log():
    """STL402 note: ServerErrorMiddleware re-raises after the custom `Exception` handler (for logging), so a raising TestClient still sees the error."""
    app = Starlette(routes=ROUTES, exception_handlers={Exception: json_server_error})
    with pytest.raises(ValueError, match="bad value"):
        TestClient(app).get("/broken")


# ---- the error contract: the red line is an app that answers its errors in its own JSON format


class OutOfStock(Exception):
    pass


async def out_of_stock(request: Request):
    raise OutOfStock("sold out")


async def stock_error(request: Request, exc: OutOfStock):
    return JSONResponse({"error": "out of stock"}, status_code=409)


CONTRACT_ROUTES = [*ROUTES, Route("/stock", out_of_stock)]


def test_stl402_json_contract_breaks_on_unhandled_exception():
    """STL402: the app answers its domain errors as JSON {"error": ...}, yet an unhandled exception is a text/plain 500."""
    app = Starlette(routes=CONTRACT_ROUTES, exception_handlers={OutOfStock: stock_error})
    client = TestClient(app, raise_server_exceptions=False)
    stock = client.get("/stock")
    assert stock.status_code == 409
    assert stock.json() == {"error": "out of stock"}

    resp = client.get("/broken")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "Internal Server Error"


def test_stl402_good_form_exception_handler_keeps_the_json_contract():
    """STL402 fix: with an `Exception` handler the same unhandled exception answers the app's JSON."""
    app = Starlette(routes=CONTRACT_ROUTES,
                    exception_handlers={OutOfStock: stock_error, Exception: json_server_error})
    resp = TestClient(app, raise_server_exceptions=False).get("/broken")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json() == {"error": "internal"}


def test_stl401_json_contract_breaks_on_http_exception_and_unknown_paths():
    """STL401: beside a JSON {"error": ...} handler, HTTPException and unknown paths still answer text/plain; an HTTPException handler fixes both."""
    client = TestClient(Starlette(routes=CONTRACT_ROUTES, exception_handlers={OutOfStock: stock_error}))
    for path in ("/widget", "/nope"):
        resp = client.get(path)
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith("text/plain")

    fixed = TestClient(Starlette(routes=CONTRACT_ROUTES,
                                 exception_handlers={OutOfStock: stock_error, HTTPException: json_http_error}))
    assert fixed.get("/widget").json() == {"error": "no such widget"}
    assert fixed.get("/nope").json() == {"error": "Not Found"}


def test_stl402_text_handler_makes_text_the_contract():
    """STL402 (not reported): when the app's handlers answer plain text, the text/plain 500 is the same format."""

    async def text_stock_error(request: Request, exc: OutOfStock):
        return PlainTextResponse("out of stock", status_code=409)

    client = TestClient(Starlette(routes=CONTRACT_ROUTES, exception_handlers={OutOfStock: text_stock_error}),
                        raise_server_exceptions=False)
    assert client.get("/stock").headers["content-type"].startswith("text/plain")
    assert client.get("/broken").headers["content-type"].startswith("text/plain")


def test_stl402_endpoint_that_catches_exception_never_reaches_the_500():
    """STL402 (not reported): a proxy endpoint that catches `Exception` answers for itself; the app's 500 never happens."""

    async def proxy(request: Request):
        try:
            raise ConnectionError("upstream down")
        except Exception:
            return PlainTextResponse("bad gateway", status_code=502)

    resp = TestClient(Starlette(routes=[Route("/{path:path}", proxy)]), raise_server_exceptions=False).get("/x")
    assert resp.status_code == 502
    assert resp.text == "bad gateway"


def test_stl401_stl402_mounted_app_answers_its_own_errors():
    """STL401/STL402 (mount-only apps not reported): a mounted app answers its own errors, and a catch-all `Mount("/")` answers the unknown paths.

    The mounted app's ServerErrorMiddleware sends its 500 and re-raises (for the server log): the parent's
    `Exception` handler is then called, but its response is dropped because the response has started.
    """
    calls: list[str] = []

    async def parent_handler(request: Request, exc: Exception):
        calls.append(type(exc).__name__)
        return JSONResponse({"parent": True}, status_code=500)

    sub = Starlette(routes=CONTRACT_ROUTES, exception_handlers={HTTPException: json_http_error,
                                                                Exception: json_server_error})
    parent = Starlette(routes=[Mount("/", app=sub)],
                       exception_handlers={HTTPException: parent_handler, Exception: parent_handler})
    client = TestClient(parent, raise_server_exceptions=False)
    assert client.get("/nope").json() == {"error": "Not Found"}  # the mounted app's 404
    assert client.get("/broken").json() == {"error": "internal"}  # the mounted app's 500
    assert calls == ["ValueError"]  # the parent's handler ran, and its answer went nowhere


@requires_fastapi
def test_stl402_fastapi_json_contract_breaks_on_unhandled_exception():
    """STL402: a FastAPI app with a JSON {"error": ...} handler gets a text/plain 500 for an unhandled exception, JSON once an `Exception` handler is added."""

    def build(*extra):
        app = fastapi.FastAPI(exception_handlers=dict([(OutOfStock, stock_error), *extra]))

        @app.get("/stock")
        async def stock():
            raise OutOfStock("sold out")

        @app.get("/broken")
        async def fastapi_broken():
            raise ValueError("bad value")

        return TestClient(app, raise_server_exceptions=False)

    client = build()
    assert client.get("/stock").json() == {"error": "out of stock"}
    resp = client.get("/broken")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "Internal Server Error"

    fixed = build((Exception, json_server_error)).get("/broken")
    assert fixed.status_code == 500
    assert fixed.json() == {"error": "internal"}


@requires_fastapi
def test_stl401_fastapi_detail_breaks_an_error_contract_without_detail():
    """STL401: FastAPI answers unknown paths `{"detail": ...}`, not the app's `{"error": ...}`; only a handler for Starlette's HTTPException (not FastAPI's subclass) covers routing 404s."""

    def build(key):
        handlers = {OutOfStock: stock_error}
        if key is not None:
            handlers[key] = json_http_error
        app = fastapi.FastAPI(exception_handlers=handlers)

        @app.get("/stock")
        async def stock():
            raise OutOfStock("sold out")

        return TestClient(app)

    assert build(None).get("/nope").json() == {"detail": "Not Found"}
    assert build(fastapi.HTTPException).get("/nope").json() == {"detail": "Not Found"}
    assert build(HTTPException).get("/nope").json() == {"error": "Not Found"}


# --------------------------------------------------------------------------- STL403


async def one_param(request):
    return PlainTextResponse("never")  # pragma: no cover


async def three_params(request, exc, extra):
    return PlainTextResponse("never")  # pragma: no cover


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        pytest.param(one_param, "takes 1 positional argument but 2 were given", id="one-param"),
        pytest.param(three_params, "missing 1 required positional argument: 'extra'", id="three-params"),
    ],
)
@pytest.mark.parametrize("key", [404, HTTPException], ids=["status-404", "HTTPException"])
def test_stl403_wrong_arity_handler_turns_error_into_500(handler, message, key):
    """STL403: a handler that cannot take `(request, exc)` registers fine, then raises TypeError when the error happens: a 404 becomes a 500."""
    app = Starlette(routes=ROUTES, exception_handlers={key: handler})  # no error at registration
    resp = TestClient(app, raise_server_exceptions=False).get("/widget")
    assert resp.status_code == 500
    assert resp.text == "Internal Server Error"
    with pytest.raises(TypeError, match=message):
        TestClient(app).get("/widget")


def test_stl403_wrong_arity_exception_handler_sends_no_response():
    """STL403: for the `Exception` key a wrong-arity handler raises TypeError inside ServerErrorMiddleware: the app sends nothing, the server makes the 500."""
    app = Starlette(routes=ROUTES, exception_handlers={Exception: one_param})
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        TestClient(app).get("/broken")
    assert TestClient(app, raise_server_exceptions=False).get("/broken").status_code == 500


@requires_fastapi
def test_stl403_fastapi_wrong_arity_handler_is_500():
    """STL403: FastAPI `add_exception_handler(KeyError, one_param)` gives a TypeError and a 500 the same way."""
    app = fastapi.FastAPI()
    app.add_exception_handler(KeyError, one_param)

    @app.get("/broken")
    async def fastapi_broken():
        raise KeyError("k")

    assert TestClient(app, raise_server_exceptions=False).get("/broken").status_code == 500
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        TestClient(app).get("/broken")


def test_stl403_good_form_two_param_handler_works():
    """STL403 fix: `async def handler(request, exc)` is called with both and its response is sent."""

    async def handler(request, exc):
        return PlainTextResponse(f"handled {exc.detail}", status_code=exc.status_code)

    resp = TestClient(Starlette(routes=ROUTES, exception_handlers={404: handler})).get("/widget")
    assert resp.status_code == 404
    assert resp.text == "handled no such widget"


# --------------------------------------------------------------------------- STL404


def _recording_handler(calls: list[str]):
    async def handler(request, exc):
        calls.append("called")
        return PlainTextResponse("handled", status_code=418)

    return handler


@pytest.mark.parametrize("key", [200, 302, 399, 600], ids=lambda k: f"status-{k}")
def test_stl404_handler_for_non_error_status_is_never_called(key):
    """STL404: a handler keyed by a status outside 400-599 (e.g. 200) is accepted and never called; responses are unchanged."""
    calls: list[str] = []
    app = Starlette(routes=ROUTES, exception_handlers={key: _recording_handler(calls)})
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/ok").status_code == 200
    assert client.get("/widget").text == "no such widget"
    assert client.get("/broken").text == "Internal Server Error"
    assert calls == []


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        pytest.param("ValueError", TypeError, "issubclass\\(\\) arg 1 must be a class", id="string-key"),
        pytest.param("404", TypeError, "issubclass\\(\\) arg 1 must be a class", id="string-status"),
        pytest.param(int, AssertionError, None, id="non-exception-class"),
        pytest.param(KeyboardInterrupt, AssertionError, None, id="baseexception-only"),
    ],
)
def test_stl404_handler_for_non_exception_key_breaks_the_whole_app(key, error, message):
    """STL404 (observed): a handler keyed by a string or a non-Exception class is never called; worse, building the middleware stack fails, so every request is a 500."""
    calls: list[str] = []
    app = Starlette(routes=ROUTES, exception_handlers={key: _recording_handler(calls)})  # accepted here
    with pytest.raises(error, match=message):
        TestClient(app).get("/ok")
    with pytest.raises(error, match=message):  # and at lifespan startup
        with TestClient(app):
            pass  # pragma: no cover
    resp = TestClient(app, raise_server_exceptions=False).get("/ok")
    assert resp.status_code == 500  # even the healthy route
    assert calls == []


@requires_fastapi
def test_stl404_fastapi_string_key_breaks_the_whole_app():
    """STL404 (observed): FastAPI with `exception_handlers={"ValueError": h}` fails on the first request in the same way."""
    calls: list[str] = []
    app = fastapi.FastAPI(exception_handlers={"ValueError": _recording_handler(calls)})

    @app.get("/ok")
    async def fastapi_ok():
        return {"ok": True}

    with pytest.raises(TypeError, match="issubclass"):
        TestClient(app).get("/ok")
    assert TestClient(app, raise_server_exceptions=False).get("/ok").status_code == 500
    assert calls == []


# --------------------------------------------------------------------------- STL405


def test_stl405_add_exception_handler_after_first_request_is_silently_ignored():
    """STL405: `add_exception_handler(404, h)` after the app served a request returns normally, and h never runs."""
    calls: list[str] = []
    app = Starlette(routes=ROUTES)
    client = TestClient(app)
    assert client.get("/widget").text == "no such widget"

    app.add_exception_handler(404, _recording_handler(calls))  # no error

    resp = client.get("/widget")
    assert resp.status_code == 404
    assert resp.text == "no such widget"
    assert calls == []


def test_stl405_add_exception_handler_inside_endpoint_is_silently_ignored():
    """STL405: `add_exception_handler` called from an endpoint (after startup) is silently ignored on later requests."""
    calls: list[str] = []

    async def register(request: Request):
        request.app.add_exception_handler(ValueError, _recording_handler(calls))
        return PlainTextResponse("registered")

    app = Starlette(routes=[*ROUTES, Route("/register", register)])
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/register").text == "registered"
    resp = client.get("/broken")
    assert resp.status_code == 500
    assert resp.text == "Internal Server Error"
    assert calls == []


def test_stl405_good_form_register_before_start_is_used():
    """STL405 fix: the same `add_exception_handler` before the first request is used."""
    calls: list[str] = []
    app = Starlette(routes=ROUTES)
    app.add_exception_handler(404, _recording_handler(calls))
    resp = TestClient(app).get("/widget")
    assert resp.status_code == 418
    assert calls == ["called"]
