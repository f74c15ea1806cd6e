"""Runtime proof for the STL5xx security and configuration rules."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode

import itsdangerous
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from .conftest import STARLETTE_1, TestClient, fastapi, requires_fastapi

EVIL = "https://evil.example"
XSS = "<script>alert(1)</script>"


# --------------------------------------------------------------------------- STL502 / STL503


async def account(request: Request):
    return JSONResponse({"user": request.cookies.get("sid", "anonymous"), "secret": "account-data"})


def cors_app(**cors_kwargs) -> Starlette:
    return Starlette(
        routes=[Route("/account", account, methods=["GET", "POST"])],
        middleware=[Middleware(CORSMiddleware, allow_methods=["*"], **cors_kwargs)],
    )


def preflight(client: TestClient, origin: str):
    return client.options(
        "/account",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Cookie": "sid=victim"},
    )


@pytest.mark.parametrize(
    "cors_kwargs",
    [
        pytest.param({"allow_origins": ["*"], "allow_credentials": True}, id="origins-star"),
        pytest.param({"allow_origin_regex": ".*", "allow_credentials": True}, id="regex-dotstar"),
    ],
)
def test_stl502_wildcard_with_credentials_reflects_attacker_origin(cors_kwargs):
    """STL502: a CORS wildcard plus `allow_credentials=True` echoes the attacker's Origin with credentials allowed, so any site reads authenticated responses."""
    client = TestClient(cors_app(**cors_kwargs))

    pre = preflight(client, EVIL)
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == EVIL
    assert pre.headers["access-control-allow-credentials"] == "true"

    resp = client.get("/account", headers={"Origin": EVIL, "Cookie": "sid=victim"})
    assert resp.json() == {"user": "victim", "secret": "account-data"}
    assert resp.headers["access-control-allow-origin"] == EVIL
    assert resp.headers["access-control-allow-credentials"] == "true"


def test_stl502_origins_star_with_credentials_reflects_even_without_cookie():
    """STL502: on Starlette 1.x `allow_origins=["*"]` + credentials reflects the attacker origin even on a cookie-less request (0.x sent `*`)."""
    client = TestClient(cors_app(allow_origins=["*"], allow_credentials=True))
    resp = client.get("/account", headers={"Origin": EVIL})
    assert resp.headers["access-control-allow-credentials"] == "true"
    if STARLETTE_1:
        assert resp.headers["access-control-allow-origin"] == EVIL
    else:
        assert resp.headers["access-control-allow-origin"] == "*"


def test_stl502_contrast_wildcard_without_credentials_does_not_allow_credentials():
    """STL501 (contrast for STL502): `allow_origins=["*"]` without credentials never sends `access-control-allow-credentials`."""
    client = TestClient(cors_app(allow_origins=["*"]))
    pre = preflight(client, EVIL)
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in pre.headers
    resp = client.get("/account", headers={"Origin": EVIL, "Cookie": "sid=victim"})
    assert "access-control-allow-credentials" not in resp.headers


def test_stl502_good_form_listed_origins_reject_attacker():
    """STL502 fix: with the origins listed, the attacker's preflight is rejected (400) and a simple GET carries no ACAO."""
    client = TestClient(cors_app(allow_origins=["https://good.example"], allow_credentials=True))
    pre = preflight(client, EVIL)
    assert pre.status_code == 400
    assert pre.text == "Disallowed CORS origin"
    resp = client.get("/account", headers={"Origin": EVIL, "Cookie": "sid=victim"})
    assert "access-control-allow-origin" not in resp.headers

    good = client.get("/account", headers={"Origin": "https://good.example", "Cookie": "sid=victim"})
    assert good.headers["access-control-allow-origin"] == "https://good.example"
    assert good.headers["access-control-allow-credentials"] == "true"


def test_stl503_unescaped_dot_in_origin_regex_accepts_lookalike_domain():
    """STL503: `allow_origin_regex="https://.*.good.example"` (dot unescaped) accepts `https://evilgood.example`."""
    client = TestClient(cors_app(allow_origin_regex="https://.*.good.example", allow_credentials=True))
    for origin in ("https://evilgood.example", "https://a.good.example"):
        resp = client.get("/account", headers={"Origin": origin, "Cookie": "sid=victim"})
        assert resp.headers.get("access-control-allow-origin") == origin
        assert resp.headers.get("access-control-allow-credentials") == "true"


def test_stl503_good_form_escaped_dot_rejects_lookalike_domain():
    r"""STL503 fix: the escaped regex `https://.*\.good\.example` (matched with fullmatch) rejects look-alikes and accepts subdomains."""
    client = TestClient(cors_app(allow_origin_regex=r"https://.*\.good\.example", allow_credentials=True))
    for origin in ("https://evilgood.example", "https://a.good.example.evil.example"):
        resp = client.get("/account", headers={"Origin": origin})
        assert "access-control-allow-origin" not in resp.headers, origin
        assert preflight(client, origin).status_code == 400
    ok = client.get("/account", headers={"Origin": "https://a.good.example"})
    assert ok.headers["access-control-allow-origin"] == "https://a.good.example"


# --------------------------------------------------------------------------- STL504

SECRET_MESSAGE = "db password is hunter2"


async def boom(request: Request):
    raise ValueError(SECRET_MESSAGE)


def test_stl504_debug_true_leaks_exception_message_and_traceback():
    """STL504: `Starlette(debug=True)` returns the traceback, the exception message and source lines to the client."""
    app = Starlette(debug=True, routes=[Route("/boom", boom)])
    client = TestClient(app, raise_server_exceptions=False)

    plain = client.get("/boom")
    assert plain.status_code == 500
    assert "Traceback (most recent call last)" in plain.text
    assert SECRET_MESSAGE in plain.text
    assert "raise ValueError(SECRET_MESSAGE)" in plain.text  # source line

    html = client.get("/boom", headers={"Accept": "text/html"})
    assert html.status_code == 500
    assert html.headers["content-type"].startswith("text/html")
    assert SECRET_MESSAGE in html.text


def test_stl504_debug_true_overrides_custom_500_handler():
    """STL504: with `debug=True` the traceback page wins over a custom `Exception` handler, so the leak happens even with one."""

    async def on_error(request, exc):
        return JSONResponse({"error": "internal"}, status_code=500)

    app = Starlette(debug=True, routes=[Route("/boom", boom)], exception_handlers={Exception: on_error})
    client = TestClient(app, raise_server_exceptions=False)
    resp = client.get("/boom", headers={"Accept": "text/html"})
    assert resp.status_code == 500
    assert SECRET_MESSAGE in resp.text
    assert resp.text != '{"error":"internal"}'


@requires_fastapi
def test_stl504_fastapi_debug_true_leaks_exception_message():
    """STL504: `FastAPI(debug=True)` leaks the exception message in its traceback page too."""
    app = fastapi.FastAPI(debug=True)

    @app.get("/boom")
    async def fastapi_boom():
        raise ValueError(SECRET_MESSAGE)

    resp = TestClient(app, raise_server_exceptions=False).get("/boom", headers={"Accept": "text/html"})
    assert resp.status_code == 500
    assert SECRET_MESSAGE in resp.text


def test_stl504_good_form_debug_false_hides_details():
    """STL504 fix: with `debug=False` the client only sees `500 Internal Server Error`."""
    app = Starlette(debug=False, routes=[Route("/boom", boom)])
    client = TestClient(app, raise_server_exceptions=False)
    for accept in ("*/*", "text/html"):
        resp = client.get("/boom", headers={"Accept": accept})
        assert resp.status_code == 500
        assert resp.text == "Internal Server Error"
        assert SECRET_MESSAGE not in resp.text


# --------------------------------------------------------------------------- STL505

HARD_CODED_SECRET = "change-me"


async def login(request: Request):
    request.session["user"] = "alice"
    request.session["cart"] = []
    return PlainTextResponse("ok")


async def whoami(request: Request):
    return JSONResponse({"user": request.session.get("user")})


def session_app(secret: str = HARD_CODED_SECRET) -> Starlette:
    return Starlette(
        routes=[Route("/login", login), Route("/me", whoami)],
        middleware=[Middleware(SessionMiddleware, secret_key=secret)],
    )


def forge_session_cookie(secret: str, payload: dict) -> str:
    """Build a session cookie exactly like Starlette's SessionMiddleware does."""
    data = b64encode(json.dumps(payload).encode("utf-8"))
    return itsdangerous.TimestampSigner(secret).sign(data).decode("utf-8")


def test_stl505_known_secret_lets_anyone_forge_a_session():
    """STL505: with the hard-coded secret known, a hand-made cookie for `{"user": "admin"}` is accepted as a valid session."""
    client = TestClient(session_app())
    forged = forge_session_cookie(HARD_CODED_SECRET, {"user": "admin"})
    resp = client.get("/me", headers={"Cookie": f"session={forged}"})
    assert resp.status_code == 200
    assert resp.json() == {"user": "admin"}


def test_stl505_session_payload_is_only_signed_not_encrypted():
    """STL505: the session cookie is readable by anyone (base64 JSON, only signed) and has no Secure flag by default."""
    client = TestClient(session_app())
    resp = client.get("/login")
    set_cookie = resp.headers["set-cookie"]
    assert "secure" not in set_cookie.lower()
    value = set_cookie.split(";", 1)[0].split("=", 1)[1]
    payload = value.split(".", 1)[0]
    assert json.loads(b64decode(payload)) == {"user": "alice", "cart": []}


def test_stl505_good_form_unknown_secret_rejects_forgery():
    """STL505 fix: when the server's secret is not the one in the code, the forged cookie is rejected (empty session)."""
    client = TestClient(session_app(secret="loaded-from-env-3f9a1c"))
    forged = forge_session_cookie(HARD_CODED_SECRET, {"user": "admin"})
    resp = client.get("/me", headers={"Cookie": f"session={forged}"})
    assert resp.json() == {"user": None}


# --------------------------------------------------------------------------- STL506


async def links(request: Request):
    return PlainTextResponse(str(request.url_for("links")))


async def directory(request: Request):
    return PlainTextResponse("dir")


def host_app(middleware: list[Middleware]) -> Starlette:
    return Starlette(
        routes=[Route("/links", links, name="links"), Route("/dir/", directory)],
        middleware=middleware,
    )


@pytest.mark.parametrize(
    "middleware",
    [
        pytest.param([Middleware(TrustedHostMiddleware, allowed_hosts=["*"])], id="allowed-hosts-star"),
        pytest.param([Middleware(TrustedHostMiddleware)], id="no-allowed-hosts"),
        pytest.param([Middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*"])], id="star-in-list"),
    ],
)
def test_stl506_trustedhost_wildcard_lets_attacker_host_into_url_for(middleware):
    """STL506: `TrustedHostMiddleware` with `"*"` (or no `allowed_hosts`) accepts `Host: evil.example`, which flows into `url_for` and redirects."""
    client = TestClient(host_app(middleware))
    resp = client.get("/links", headers={"Host": "evil.example"})
    assert resp.status_code == 200
    assert resp.text == "http://evil.example/links"

    redirect = client.get("/dir", headers={"Host": "evil.example"}, follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://evil.example/dir/"


def test_stl506_good_form_listed_hosts_reject_attacker_host():
    """STL506 fix: `allowed_hosts=["example.com"]` answers `400 Invalid host header` to `Host: evil.example`."""
    client = TestClient(host_app([Middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])]))
    resp = client.get("/links", headers={"Host": "evil.example"})
    assert resp.status_code == 400
    assert resp.text == "Invalid host header"
    ok = client.get("/links", headers={"Host": "example.com"})
    assert ok.text == "http://example.com/links"


# --------------------------------------------------------------------------- STL507


def template_app(tmp_path, name: str) -> Starlette:
    (tmp_path / name).write_text("<p>Hello {{ name }}</p>")
    templates = Jinja2Templates(directory=str(tmp_path))

    async def page(request: Request):
        return templates.TemplateResponse(request, name, {"name": request.query_params["name"]})

    return Starlette(routes=[Route("/page", page)])


@pytest.mark.parametrize("name", ["page.jinja", "page.j2", "page.html.j2", "mail.txt"])
def test_stl507_non_html_template_renders_script_raw_on_starlette_1x(tmp_path, name):
    """STL507: on Starlette 1.x a `.jinja`/`.j2`/`.txt` template renders user input unescaped, served as text/html: XSS (0.x escaped it)."""
    client = TestClient(template_app(tmp_path, name))
    resp = client.get("/page", params={"name": XSS})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    if STARLETTE_1:
        assert XSS in resp.text
    else:
        assert XSS not in resp.text
        assert "&lt;script&gt;" in resp.text


@pytest.mark.parametrize("name", ["page.html", "page.htm", "page.xml"])
def test_stl507_good_form_html_template_is_escaped(tmp_path, name):
    """STL507 fix: `.html`/`.htm`/`.xml` templates escape user input on every version."""
    client = TestClient(template_app(tmp_path, name))
    resp = client.get("/page", params={"name": XSS})
    assert XSS not in resp.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in resp.text


def test_stl507_good_form_explicit_env_with_autoescape_escapes_any_name(tmp_path):
    """STL507 fix: an explicit `env=` with `autoescape=True` escapes a `.jinja` template too."""
    import jinja2

    (tmp_path / "page.jinja").write_text("<p>Hello {{ name }}</p>")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)), autoescape=True)
    templates = Jinja2Templates(env=env)

    async def page(request: Request):
        return templates.TemplateResponse(request, "page.jinja", {"name": request.query_params["name"]})

    client = TestClient(Starlette(routes=[Route("/page", page)]))
    resp = client.get("/page", params={"name": XSS})
    assert XSS not in resp.text
    assert "&lt;script&gt;" in resp.text



# --------------------------------------------------------------------------- STL508


@requires_fastapi
def test_stl508_sql_formatted_with_a_query_parameter_runs_the_callers_sql():
    """SQL built with an f-string from a ``str`` parameter runs what the caller sends; the same
    query with a bound parameter does not. (sqlite3 stands in for the drivers the rule knows:
    formatting happens before any driver sees the text.)"""
    import sqlite3

    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript("CREATE TABLE users (name TEXT, secret TEXT);"
                     "INSERT INTO users VALUES ('alice', 'a-secret'), ('bob', 'b-secret');")
    app = fastapi.FastAPI()

    @app.get("/formatted")
    async def formatted(name: str):
        return db.execute(f"SELECT name, secret FROM users WHERE name = '{name}'").fetchall()

    @app.get("/bound")
    async def bound(name: str):
        return db.execute("SELECT name, secret FROM users WHERE name = ?", (name,)).fetchall()

    client = TestClient(app)
    injected = {"name": "nobody' OR '1'='1"}
    assert client.get("/formatted", params={"name": "alice"}).json() == [["alice", "a-secret"]]
    assert len(client.get("/formatted", params=injected).json()) == 2  # every user's secret
    assert client.get("/bound", params=injected).json() == []
