"""Canonical qualified names of the framework objects the rules care about.

FastAPI re-exports much of Starlette under its own module names
(``fastapi.responses.RedirectResponse`` *is* ``starlette.responses.RedirectResponse``).
The resolver folds every such alias onto one canonical name, so a rule matches
one string whichever import the user wrote.
"""

from __future__ import annotations

from typing import Literal

# Module prefixes that FastAPI re-exports verbatim from Starlette.
_FASTAPI_MODULE_ALIASES = {
    "fastapi.middleware.cors": "starlette.middleware.cors",
    "fastapi.middleware.gzip": "starlette.middleware.gzip",
    "fastapi.middleware.trustedhost": "starlette.middleware.trustedhost",
    "fastapi.middleware.httpsredirect": "starlette.middleware.httpsredirect",
    "fastapi.middleware.wsgi": "starlette.middleware.wsgi",
    "fastapi.responses": "starlette.responses",
    "fastapi.templating": "starlette.templating",
    "fastapi.staticfiles": "starlette.staticfiles",
    "fastapi.testclient": "starlette.testclient",
    "fastapi.requests": "starlette.requests",
    "fastapi.websockets": "starlette.websockets",
    "fastapi.background": "starlette.background",
    "fastapi.concurrency": "starlette.concurrency",
    "fastapi.status": "starlette.status",
}

# Single names re-exported at ``fastapi`` top level (or renamed).
_FASTAPI_NAME_ALIASES = {
    "fastapi.FastAPI": "fastapi.applications.FastAPI",
    "fastapi.APIRouter": "fastapi.routing.APIRouter",
    "fastapi.Request": "starlette.requests.Request",
    "fastapi.WebSocket": "starlette.websockets.WebSocket",
    "fastapi.WebSocketDisconnect": "starlette.websockets.WebSocketDisconnect",
    "fastapi.BackgroundTasks": "starlette.background.BackgroundTasks",
    "fastapi.Response": "starlette.responses.Response",
    "fastapi.HTTPException": "fastapi.exceptions.HTTPException",
    "fastapi.WebSocketException": "fastapi.exceptions.WebSocketException",
    "fastapi.status": "starlette.status",
    "fastapi.middleware.Middleware": "starlette.middleware.Middleware",
    "fastapi.routing.Mount": "starlette.routing.Mount",  # imported there from starlette.routing
    "fastapi.param_functions.Depends": "fastapi.Depends",
    "fastapi.param_functions.Security": "fastapi.Security",
    "fastapi.UploadFile": "fastapi.datastructures.UploadFile",
}

_STARLETTE_NAME_ALIASES = {
    "starlette.middleware.base.Middleware": "starlette.middleware.Middleware",
}


def canonical(qualname: str) -> str:
    """Fold re-exports onto one name (cheap for everything not from fastapi)."""
    if qualname.startswith("fastapi."):
        hit = _FASTAPI_NAME_ALIASES.get(qualname)
        if hit is not None:
            return hit
        for prefix, target in _FASTAPI_MODULE_ALIASES.items():
            if qualname == prefix or qualname.startswith(prefix + "."):
                return target + qualname[len(prefix):]
        if qualname.startswith("fastapi.status."):
            return "starlette.status." + qualname[len("fastapi.status."):]
        return qualname
    if qualname.startswith("starlette.middleware.base.M"):
        return _STARLETTE_NAME_ALIASES.get(qualname, qualname)
    return qualname


# Application / router classes, canonical names -> kind.
STARLETTE_APP = "starlette.applications.Starlette"
FASTAPI_APP = "fastapi.applications.FastAPI"
STARLETTE_ROUTER = "starlette.routing.Router"
FASTAPI_ROUTER = "fastapi.routing.APIRouter"

AppKind = Literal["starlette", "fastapi", "router", "apirouter"]
APP_CLASSES: dict[str, AppKind] = {
    STARLETTE_APP: "starlette",
    FASTAPI_APP: "fastapi",
    STARLETTE_ROUTER: "router",
    FASTAPI_ROUTER: "apirouter",
}

ROUTE = "starlette.routing.Route"
WEBSOCKET_ROUTE = "starlette.routing.WebSocketRoute"
MOUNT = "starlette.routing.Mount"
HOST = "starlette.routing.Host"
MIDDLEWARE = "starlette.middleware.Middleware"
BASE_HTTP_MIDDLEWARE = "starlette.middleware.base.BaseHTTPMiddleware"
HTTP_ENDPOINT = "starlette.endpoints.HTTPEndpoint"
WEBSOCKET_ENDPOINT = "starlette.endpoints.WebSocketEndpoint"
CORS_MIDDLEWARE = "starlette.middleware.cors.CORSMiddleware"
SESSION_MIDDLEWARE = "starlette.middleware.sessions.SessionMiddleware"
TRUSTED_HOST_MIDDLEWARE = "starlette.middleware.trustedhost.TrustedHostMiddleware"
REQUEST = "starlette.requests.Request"
WEBSOCKET = "starlette.websockets.WebSocket"
HTTP_CONNECTION = "starlette.requests.HTTPConnection"
BACKGROUND_TASK = "starlette.background.BackgroundTask"
BACKGROUND_TASKS = "starlette.background.BackgroundTasks"
DEPENDS = ("fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security")
ASYNCCONTEXTMANAGER = "contextlib.asynccontextmanager"

# FastAPI / APIRouter decorator methods that declare a path operation.
PATH_OPERATION_METHODS = {
    "get": ("GET",),
    "post": ("POST",),
    "put": ("PUT",),
    "patch": ("PATCH",),
    "delete": ("DELETE",),
    "options": ("OPTIONS",),
    "head": ("HEAD",),
    "trace": ("TRACE",),
    "api_route": None,  # methods= keyword, default GET
    "websocket": ("WEBSOCKET",),
}

HTTP_ENDPOINT_METHODS = {"get", "head", "post", "put", "patch", "delete", "options", "query", "trace"}
WEBSOCKET_ENDPOINT_METHODS = {"on_connect", "on_receive", "on_disconnect"}

# FastAPI re-exports starlette's Mount from fastapi.routing (not folded by canonical).
MOUNTS = frozenset({MOUNT, "fastapi.routing.Mount"})
# Calls that only serve or wrap an app: passing the app to them configures nothing.
SERVE_OR_WRAP = frozenset({
    "uvicorn.run", "uvicorn.main.run", "uvicorn.Config", "uvicorn.config.Config",
    "hypercorn.asyncio.serve", "hypercorn.trio.serve",
    "starlette.testclient.TestClient", "httpx.ASGITransport", "httpx2.ASGITransport",
    "httpx.AsyncClient", "httpx.Client", "httpx2.AsyncClient", "httpx2.Client",
    "asgi_lifespan.LifespanManager", "mangum.Mangum",
    HOST, *MOUNTS,
})
