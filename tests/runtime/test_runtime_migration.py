"""Runtime proof for the STL8xx Starlette 1.0 migration rules."""

from __future__ import annotations

import importlib
import sys
import warnings

import anyio
import jinja2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route, Router
from starlette.templating import Jinja2Templates

from .conftest import (
    STARLETTE_1,
    StarletteDeprecationWarning,
    TestClient,
    fastapi,
    requires_fastapi,
    requires_starlette_1,
)

# --------------------------------------------------------------------------- STL801

STARLETTE_REMOVED = [
    "route",
    "websocket_route",
    "add_websocket_route",
    "middleware",
    "exception_handler",
    "on_event",
    "add_event_handler",
]
ROUTER_REMOVED = ["route", "websocket_route", "startup", "shutdown", "on_event", "add_event_handler"]


@pytest.mark.parametrize("attr", STARLETTE_REMOVED)
def test_stl801_removed_starlette_app_methods_are_attributeerror_on_1x(attr):
    """STL801: `@app.route`, `@app.middleware`, `@app.exception_handler`, `app.on_event`, `app.add_event_handler`... on a Starlette app are AttributeError on 1.x (present on 0.x)."""
    app = Starlette()
    if STARLETTE_1:
        with pytest.raises(AttributeError, match=f"'Starlette' object has no attribute '{attr}'"):
            getattr(app, attr)
    else:
        assert callable(getattr(app, attr))


@requires_starlette_1
def test_stl801_decorator_use_fails_at_import_time():
    """STL801: the decorator form fails while the module is being imported, e.g. `@app.route("/r")` raises AttributeError before any request."""
    source = (
        "from starlette.applications import Starlette\n"
        "app = Starlette()\n"
        "@app.route('/r')\n"
        "async def r(request):\n"
        "    pass\n"
    )
    with pytest.raises(AttributeError, match="'Starlette' object has no attribute 'route'"):
        exec(compile(source, "stl801_module.py", "exec"), {})


@pytest.mark.parametrize("attr", ROUTER_REMOVED)
def test_stl801_removed_router_methods_are_attributeerror_on_1x(attr):
    """STL801: `Router.route`, `websocket_route`, `startup()`, `shutdown()`, `on_event`, `add_event_handler` are AttributeError on 1.x."""
    router = Router()
    if STARLETTE_1:
        with pytest.raises(AttributeError, match=f"'Router' object has no attribute '{attr}'"):
            getattr(router, attr)
    else:
        assert callable(getattr(router, attr))


def test_stl801_good_form_remaining_apis_still_work():
    """STL801 fix: the replacements (`routes=[Route(...)]`, `add_route`, `add_middleware`, `add_exception_handler`, `Router.add_websocket_route`, `lifespan`) exist and work."""
    app = Starlette()
    for attr in ("add_route", "add_middleware", "add_exception_handler", "mount", "host", "url_path_for"):
        assert callable(getattr(app, attr)), attr
    for attr in ("add_route", "add_websocket_route", "mount", "host", "lifespan"):
        assert callable(getattr(Router(), attr)), attr

    async def r(request):
        return PlainTextResponse("r")

    app.add_route("/r", r)
    assert TestClient(app).get("/r").text == "r"


def test_stl801_iscoroutinefunction_or_partial_import_is_importerror_on_1x():
    """STL801: `from starlette.routing import iscoroutinefunction_or_partial` is an ImportError on 1.x."""
    if STARLETTE_1:
        with pytest.raises(ImportError, match="cannot import name 'iscoroutinefunction_or_partial'"):
            from starlette.routing import iscoroutinefunction_or_partial  # noqa: F401
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from starlette.routing import iscoroutinefunction_or_partial  # noqa: F401


@requires_starlette_1
def test_stl801_iscoroutinefunction_or_partial_attribute_call_is_attributeerror_on_1x():
    """STL801 message: `starlette.routing.iscoroutinefunction_or_partial(f)` is an AttributeError when the call runs."""
    import starlette.routing

    with pytest.raises(AttributeError, match="module 'starlette.routing' has no attribute 'iscoroutinefunction_or_partial'"):
        starlette.routing.iscoroutinefunction_or_partial(print)


def test_stl801_file_response_method_kwarg_is_typeerror_on_1x(tmp_path):
    """STL801: `FileResponse(path, method="GET")` is a TypeError on 1.x (a DeprecationWarning on 0.x)."""
    path = tmp_path / "f.txt"
    path.write_text("data")
    if STARLETTE_1:
        with pytest.raises(TypeError, match="unexpected keyword argument 'method'"):
            FileResponse(path, method="GET")
    else:
        with pytest.warns(DeprecationWarning, match="'method' parameter is not used"):
            FileResponse(path, method="GET")


def test_stl801_file_response_method_kwarg_in_endpoint_is_500_on_1x(tmp_path):
    """STL801: inside an endpoint the removed `FileResponse(method=)` fails when the call runs: a 500 on 1.x."""
    path = tmp_path / "f.txt"
    path.write_text("data")

    async def download(request):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return FileResponse(path, method="GET")

    resp = TestClient(Starlette(routes=[Route("/f", download)]), raise_server_exceptions=False).get("/f")
    if STARLETTE_1:
        assert resp.status_code == 500
    else:
        assert resp.text == "data"


def test_stl801_good_form_file_response_without_method(tmp_path):
    """STL801 fix: `FileResponse(path)` serves the file."""
    path = tmp_path / "f.txt"
    path.write_text("data")

    async def download(request):
        return FileResponse(path)

    assert TestClient(Starlette(routes=[Route("/f", download)])).get("/f").text == "data"


def test_stl801_jinja2templates_env_options_are_typeerror_on_1x(tmp_path):
    """STL801: `Jinja2Templates(directory, autoescape=False)` (extra env options) is a TypeError at construction on 1.x."""
    if STARLETTE_1:
        with pytest.raises(TypeError, match="unexpected keyword argument 'autoescape'"):
            Jinja2Templates(directory=str(tmp_path), autoescape=False)
    else:
        with pytest.warns(DeprecationWarning, match="Extra environment options are deprecated"):
            Jinja2Templates(directory=str(tmp_path), autoescape=False)


def test_stl801_good_form_jinja2templates_with_env(tmp_path):
    """STL801 fix: a preconfigured `jinja2.Environment` passed as `env=` works."""
    (tmp_path / "t.txt").write_text("{{ x }}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)), autoescape=False)
    templates = Jinja2Templates(env=env)
    assert templates.get_template("t.txt").render(x="<b>") == "<b>"


@requires_fastapi
@pytest.mark.parametrize("attr", ["route", "add_websocket_route", "add_event_handler"])
def test_stl801_fastapi_app_lacks_removed_starlette_methods(attr):
    """STL801/STL202: a FastAPI app on Starlette 1.x has no `route`, `add_websocket_route` or `add_event_handler` (AttributeError)."""
    app = fastapi.FastAPI()
    if STARLETTE_1:
        with pytest.raises(AttributeError, match=f"'FastAPI' object has no attribute '{attr}'"):
            getattr(app, attr)
    else:
        assert callable(getattr(app, attr))


@requires_fastapi
@pytest.mark.parametrize("attr", ["middleware", "exception_handler", "websocket_route", "on_event"])
def test_stl801_scope_fastapi_keeps_its_own_decorators(attr):
    """STL801 scope: FastAPI's own `middleware`, `exception_handler`, `websocket_route` and `on_event` still exist (not reported)."""
    assert callable(getattr(fastapi.FastAPI(), attr))


# --------------------------------------------------------------------------- STL802

OLD_STATUS_NAMES = {
    "HTTP_413_REQUEST_ENTITY_TOO_LARGE": "HTTP_413_CONTENT_TOO_LARGE",
    "HTTP_414_REQUEST_URI_TOO_LONG": "HTTP_414_URI_TOO_LONG",
    "HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE": "HTTP_416_RANGE_NOT_SATISFIABLE",
    "HTTP_422_UNPROCESSABLE_ENTITY": "HTTP_422_UNPROCESSABLE_CONTENT",
}


@pytest.mark.parametrize(("old", "new"), OLD_STATUS_NAMES.items(), ids=list(OLD_STATUS_NAMES))
def test_stl802_old_status_names_emit_starlette_deprecation_warning(old, new):
    """STL802: `starlette.status.HTTP_422_UNPROCESSABLE_ENTITY` (and the other old names) still work but emit a StarletteDeprecationWarning naming the replacement."""
    from starlette import status

    if not hasattr(status, new):  # pragma: no cover - Starlette 0.46: plain constants, no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            getattr(status, old)
        return
    with pytest.warns(StarletteDeprecationWarning, match=f"'{old}' is deprecated. Use '{new}' instead"):
        value = getattr(status, old)
    assert value == getattr(status, new)


@requires_starlette_1
def test_stl802_starlette_deprecation_warning_is_not_a_deprecationwarning():
    """STL802 note: StarletteDeprecationWarning is a UserWarning, so `-W error::DeprecationWarning` does not catch it (but it is visible by default)."""
    assert issubclass(StarletteDeprecationWarning, UserWarning)
    assert not issubclass(StarletteDeprecationWarning, DeprecationWarning)
    from starlette import status

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        warnings.filterwarnings("error", category=DeprecationWarning)
        assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422  # not turned into an error
    assert any(issubclass(w.category, StarletteDeprecationWarning) for w in caught)


@requires_fastapi
def test_stl802_fastapi_status_is_starlette_status():
    """STL802: `from fastapi import status` is Starlette's status module, so the old names warn there too."""
    from fastapi import status

    if not hasattr(status, "HTTP_422_UNPROCESSABLE_CONTENT"):  # pragma: no cover - old Starlette
        return
    with pytest.warns(StarletteDeprecationWarning, match="HTTP_422_UNPROCESSABLE_ENTITY"):
        assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422


@requires_fastapi
def test_stl802_note_fastapi_status_submodule_may_not_exist():
    """STL802 note (observed on FastAPI 0.165): `from fastapi import status` works, but there is no `fastapi.status` submodule, so `from fastapi.status import ...` is a ModuleNotFoundError."""
    import importlib.util

    from fastapi import status
    from starlette import status as starlette_status

    assert status is starlette_status
    if importlib.util.find_spec("fastapi.status") is None:
        with pytest.raises(ModuleNotFoundError, match="fastapi.status"):
            importlib.import_module("fastapi.status")
    else:  # pragma: no cover - older FastAPI releases ship fastapi/status.py
        assert importlib.import_module("fastapi.status").HTTP_200_OK == 200


def test_stl802_good_form_new_status_names_do_not_warn():
    """STL802 fix: the new names (`HTTP_422_UNPROCESSABLE_CONTENT`...) do not warn."""
    from starlette import status

    if not hasattr(status, "HTTP_422_UNPROCESSABLE_CONTENT"):  # pragma: no cover - Starlette 0.46
        pytest.skip("no new status names on this Starlette")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for new in OLD_STATUS_NAMES.values():
            getattr(status, new)


def _record(func) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        func()
    return [str(w.message) for w in caught if issubclass(w.category, StarletteDeprecationWarning)]


@requires_starlette_1
def test_stl802_scope_guarded_renames_do_not_warn():
    """STL802 scope: `NEW if hasattr(status, "NEW") else OLD` and the try/except spellings never read the old name on 1.x."""
    from starlette import status

    def ifexp():
        return (status.HTTP_422_UNPROCESSABLE_CONTENT if hasattr(status, "HTTP_422_UNPROCESSABLE_CONTENT")
                else status.HTTP_422_UNPROCESSABLE_ENTITY)

    def try_attribute():
        try:
            return status.HTTP_422_UNPROCESSABLE_CONTENT
        except AttributeError:  # pragma: no cover - old Starlette only
            return status.HTTP_422_UNPROCESSABLE_ENTITY

    def try_import():
        try:
            from starlette.status import HTTP_422_UNPROCESSABLE_CONTENT as code
        except ImportError:  # pragma: no cover - old Starlette only
            from starlette.status import HTTP_422_UNPROCESSABLE_ENTITY as code
        return code

    for guarded in (ifexp, try_attribute, try_import):
        assert _record(guarded) == [], guarded.__name__
        assert guarded() == 422


@requires_starlette_1
def test_stl802_getattr_default_is_evaluated_first_and_warns():
    """STL802: `getattr(status, "NEW", status.OLD)` is no guard: Python evaluates the default first, so it warns."""
    from starlette import status

    warned = _record(lambda: getattr(status, "HTTP_422_UNPROCESSABLE_CONTENT", status.HTTP_422_UNPROCESSABLE_ENTITY))
    assert warned == ["'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated. Use 'HTTP_422_UNPROCESSABLE_CONTENT' instead."]


def test_stl802_middleware_wsgi_import_warns(monkeypatch):
    """STL802: importing `starlette.middleware.wsgi` emits a deprecation warning pointing to a2wsgi."""
    monkeypatch.delitem(sys.modules, "starlette.middleware.wsgi", raising=False)
    with pytest.warns(StarletteDeprecationWarning, match="starlette.middleware.wsgi is deprecated"):
        importlib.import_module("starlette.middleware.wsgi")


def test_stl802_run_until_first_complete_warns():
    """STL802: `run_until_first_complete` still runs but emits a deprecation warning."""
    from starlette.concurrency import run_until_first_complete

    ran: list[str] = []

    async def job():
        ran.append("job")

    with pytest.warns(StarletteDeprecationWarning, match="run_until_first_complete is deprecated"):
        anyio.run(run_until_first_complete, (job, {}))
    assert ran == ["job"]


def test_stl802_testclient_timeout_kwarg_warns():
    """STL802: `TestClient(...).get(..., timeout=...)` works but emits a deprecation warning."""

    async def home(request):
        return PlainTextResponse("home")

    client = TestClient(Starlette(routes=[Route("/", home)]))
    with pytest.warns(StarletteDeprecationWarning, match="You should not use the 'timeout' argument"):
        assert client.get("/", timeout=5).text == "home"


# --------------------------------------------------------------------------- STL803


def templates_app(tmp_path, call: str) -> Starlette:
    (tmp_path / "index.html").write_text("<p>Hello {{ name }}</p>")
    templates = Jinja2Templates(directory=str(tmp_path))

    async def page(request: Request):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 0.x: hidden deprecation
            if call == "positional":
                return templates.TemplateResponse("index.html", {"request": request, "name": "bob"})
            if call == "keywords":
                return templates.TemplateResponse(name="index.html", context={"request": request, "name": "bob"})
            return templates.TemplateResponse(request, "index.html", {"name": "bob"})

    return Starlette(routes=[Route("/", page)])


def test_stl803_old_template_response_is_unhashable_dict_500_on_1x(tmp_path):
    """STL803: `TemplateResponse("index.html", {"request": request})` is `TypeError: unhashable type: 'dict'` at request on 1.x: a 500 (works on 0.x)."""
    app = templates_app(tmp_path, "positional")
    if STARLETTE_1:
        assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500
        with pytest.raises(TypeError, match="unhashable type: 'dict'"):
            TestClient(app).get("/")
    else:
        assert TestClient(app).get("/").text == "<p>Hello bob</p>"


def test_stl803_keyword_template_response_is_missing_request_on_1x(tmp_path):
    """STL803: `TemplateResponse(name=..., context=...)` is a TypeError (missing `request`) at request on 1.x: a 500."""
    app = templates_app(tmp_path, "keywords")
    if STARLETTE_1:
        assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'request'"):
            TestClient(app).get("/")
    else:
        assert TestClient(app).get("/").text == "<p>Hello bob</p>"


def test_stl803_good_form_request_first_renders(tmp_path):
    """STL803 fix: `TemplateResponse(request, "index.html", {...})` renders on every version."""
    resp = TestClient(templates_app(tmp_path, "new")).get("/")
    assert resp.status_code == 200
    assert resp.text == "<p>Hello bob</p>"


TEMPLATE_CALLS = [
    'templates.TemplateResponse("index.html", {"request": request})',
    'templates.TemplateResponse("index.html", context={"request": request})',
    'templates.TemplateResponse("index.html")',
    'templates.TemplateResponse(name="index.html", context={"request": request})',
    'templates.TemplateResponse("index.html", {"request": request}, 404)',
]


@requires_starlette_1
@pytest.mark.parametrize("call", TEMPLATE_CALLS)
def test_stl803_message_quotes_the_call_and_the_error_it_raises(tmp_path, call):
    """STL803 message: for each call shape, the call as written and the exact exception Starlette 1.x raises."""
    from starlette_lint.engine import check_source

    source = (
        "from starlette.templating import Jinja2Templates\n"
        "templates = Jinja2Templates(directory=DIRECTORY)\n"
        "async def page(request):\n"
        f"    return {call}\n"
    )
    messages = [f.message for f in check_source(source, "app.py") if f.code == "STL803"]
    assert len(messages) == 1, messages
    assert messages[0].startswith(call + " is the pre-1.0")

    (tmp_path / "index.html").write_text("<p>Hello</p>")
    namespace: dict = {"DIRECTORY": str(tmp_path)}
    exec(compile(source, "app.py", "exec"), namespace)
    app = Starlette(routes=[Route("/", namespace["page"])])
    with pytest.raises(Exception) as raised:
        TestClient(app).get("/")
    assert f"{type(raised.value).__name__}: {raised.value}" in messages[0]
