"""Runtime proof of the version claims (``Rule.claims``, versions.py) on the installed release.

Each test states what a claim says on each side of the release that changed the API, and checks
the side the installed Starlette (or FastAPI) is on. The default run covers the newest releases;
``tests/test_runtime_old.py`` (slow) runs this folder again on Starlette 0.47 with FastAPI 0.116,
so both sides of every 1.0 claim are executed in CI.
"""

from __future__ import annotations

import warnings

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from starlette_lint.rules import get_rule
from starlette_lint.versions import VISIBLE_WARNINGS, environment_target

from .conftest import FASTAPI_VERSION, STARLETTE_VERSION, StarletteDeprecationWarning, TestClient, fastapi

INSTALLED = environment_target()


def side(code: str, form: str) -> str | None:
    """The side of ``code``'s claim ``form`` that the installed releases are on."""
    return get_rule(code).claims[form].side(INSTALLED)


def deprecations(fn) -> list[warnings.WarningMessage]:
    """The deprecation warnings ``fn()`` emits (Starlette's own class included)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w for w in caught if issubclass(w.category, (DeprecationWarning, StarletteDeprecationWarning))]


def test_installed_releases_are_the_target_of_runs_without_a_project():
    assert INSTALLED.origin == "installed"
    assert INSTALLED.starlette.at_least(STARLETTE_VERSION) and not INSTALLED.starlette.allows_from(
        (*STARLETTE_VERSION[:-1], STARLETTE_VERSION[-1] + 1))


# ------------------------------------------------------------------ STL802: the 0.48 status renames
def test_stl802_new_status_names_exist_exactly_from_0_48():
    from starlette import status

    has_new = hasattr(status, "HTTP_422_UNPROCESSABLE_CONTENT")
    assert has_new == (STARLETTE_VERSION >= (0, 48))
    # the rule reports the old names only where the new ones exist (its fix renames to them)
    assert (side("STL802", "old status names") is not None) == has_new


def test_stl802_old_status_names_warn_exactly_from_0_48():
    from starlette import status

    warned = deprecations(lambda: status.HTTP_422_UNPROCESSABLE_ENTITY)
    assert bool(warned) == (STARLETTE_VERSION >= (0, 48))
    if warned:
        visible = issubclass(warned[0].category, UserWarning)
        assert visible == (STARLETTE_VERSION >= VISIBLE_WARNINGS)  # what warning_kind() says


# ------------------------------------------------------------------ STL201 / STL202 / STL801: removed in 1.0
async def _startup():
    pass


def test_stl201_on_startup_is_typeerror_from_1_0_and_a_deprecation_before():
    form = side("STL201", "Starlette()/Router()")
    if STARLETTE_VERSION >= (1, 0):
        assert form == "after"
        with pytest.raises(TypeError, match="on_startup"):
            Starlette(on_startup=[_startup])
    else:
        assert form == ("before" if STARLETTE_VERSION >= (0, 26) else None)
        warned = deprecations(lambda: Starlette(on_startup=[_startup]))
        assert bool(warned) == (STARLETTE_VERSION >= (0, 26))


def test_stl202_on_event_and_add_event_handler_on_each_side():
    app = Starlette()
    if STARLETTE_VERSION >= (1, 0):
        assert not hasattr(app, "on_event") and not hasattr(app, "add_event_handler")
        return
    # 0.x: on_event warns (the rule says "deprecated since 0.23"), add_event_handler never warns
    # (the rule does not report it on 0.x-only targets)
    assert bool(deprecations(lambda: app.on_event("startup")(_startup))) == (STARLETTE_VERSION >= (0, 23))
    assert deprecations(lambda: app.add_event_handler("startup", _startup)) == []
    assert side("STL202", "Starlette/Router add_event_handler") is None


def test_stl801_route_decorator_on_each_side():
    app = Starlette()
    if STARLETTE_VERSION >= (1, 0):
        with pytest.raises(AttributeError, match="'Starlette' object has no attribute 'route'"):
            app.route("/")
    else:
        assert bool(deprecations(lambda: app.route("/")(_startup))) == (STARLETTE_VERSION >= (0, 23))


def test_stl801_file_response_method_on_each_side(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("x")
    if STARLETTE_VERSION >= (1, 0):
        with pytest.raises(TypeError, match="method"):
            FileResponse(str(path), method="GET")
    else:
        assert bool(deprecations(lambda: FileResponse(str(path), method="GET"))) == (STARLETTE_VERSION >= (0, 34))


def test_stl801_jinja_env_options_on_each_side(tmp_path):
    if STARLETTE_VERSION >= (1, 0):
        with pytest.raises(TypeError, match="autoescape"):
            Jinja2Templates(directory=str(tmp_path), autoescape=False)
    else:
        warned = deprecations(lambda: Jinja2Templates(directory=str(tmp_path), autoescape=False))
        assert bool(warned) == (STARLETTE_VERSION >= (0, 28))


# ------------------------------------------------------------------ STL803, STL507: templates
def _templates_app(tmp_path, template: str, call: str) -> TestClient:
    (tmp_path / template).write_text("<p>{{ name }}</p>")
    templates = Jinja2Templates(directory=str(tmp_path))

    async def page(request: Request):
        if call == "old":
            return templates.TemplateResponse(template, {"request": request, "name": "<b>x</b>"})
        return templates.TemplateResponse(request, template, {"name": "<b>x</b>"})

    return TestClient(Starlette(routes=[Route("/", page)]), raise_server_exceptions=False)


def test_stl803_old_template_response_on_each_side(tmp_path):
    client = _templates_app(tmp_path, "page.html", "old")
    if STARLETTE_VERSION >= (1, 0):
        assert client.get("/").status_code == 500
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert client.get("/").status_code == 200
        warned = [w for w in caught if issubclass(w.category, DeprecationWarning) and "name" in str(w.message)]
        assert bool(warned) == (STARLETTE_VERSION >= (0, 29))


def test_stl507_autoescape_of_other_extensions_on_each_side(tmp_path):
    body = _templates_app(tmp_path, "page.jinja", "new").get("/").text
    if STARLETTE_VERSION >= (1, 0):
        assert side("STL507", "default environment") == "after"
        assert "<b>x</b>" in body  # rendered raw: the XSS the rule names
    else:
        assert side("STL507", "default environment") is None  # not reported on 0.x
        assert "&lt;b&gt;x&lt;/b&gt;" in body


# ------------------------------------------------------------------ STL608: sessions
def test_stl608_nested_session_change_on_each_side():
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware

    async def add(request: Request):
        request.session.setdefault("cart", [])
        if request.query_params.get("nested"):
            request.session["cart"].append("book")
        return PlainTextResponse(str(len(request.session["cart"])))

    app = Starlette(routes=[Route("/", add)], middleware=[Middleware(SessionMiddleware, secret_key="k")])
    client = TestClient(app)
    client.get("/")
    client.get("/?nested=1")
    kept = client.get("/").text
    if STARLETTE_VERSION >= (1, 0):
        assert kept == "0" and side("STL608", "nested change") == "after"
    else:
        assert kept == "1" and side("STL608", "nested change") is None


# ------------------------------------------------------------------ STL204: generator lifespans
def test_stl204_generator_lifespan_warns_from_0_16():
    async def gen(app):
        yield

    warned = deprecations(lambda: Starlette(lifespan=gen))
    assert bool(warned) == (STARLETTE_VERSION >= (0, 16))
    assert issubclass(warned[0].category, UserWarning) == (STARLETTE_VERSION >= VISIBLE_WARNINGS)


# ------------------------------------------------------------------ FastAPI
@pytest.mark.skipif(fastapi is None, reason="FastAPI is not installed")
def test_stl202_fastapi_add_event_handler_exists_exactly_before_starlette_1():
    app = fastapi.FastAPI()
    assert hasattr(app, "add_event_handler") == (STARLETTE_VERSION < (1, 0))
    assert (side("STL202", "FastAPI add_event_handler") is not None) == (STARLETTE_VERSION >= (1, 0))


@pytest.mark.skipif(fastapi is None, reason="FastAPI is not installed")
def test_stl202_fastapi_on_event_is_deprecated_from_0_104():
    app = fastapi.FastAPI()
    warned = deprecations(lambda: app.on_event("startup")(_startup))
    assert bool(warned) == (FASTAPI_VERSION >= (0, 104))
    assert (side("STL202", "FastAPI on_event") is not None) == (FASTAPI_VERSION >= (0, 104))
