"""What a middleware class is: pass-through or answering, ``BaseHTTPMiddleware``, plain ASGI.

Classes are resolved through imports; those of other modules are unknown (they may
answer requests themselves), and a rule built on these answers stays silent on them.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from .. import names as N
from ..framework import Framework
from ..model import LOCAL, ClassInfo, Function, Model, dotted_name, string_value, walk

PASS_THROUGH = frozenset({
    "starlette.middleware.gzip.GZipMiddleware",
    "starlette.middleware.sessions.SessionMiddleware",
    "starlette.middleware.opentelemetry.OpenTelemetryMiddleware",
    "uvicorn.middleware.proxy_headers.ProxyHeadersMiddleware",
    "opentelemetry.instrumentation.asgi.OpenTelemetryMiddleware",
    "sentry_sdk.integrations.asgi.SentryAsgiMiddleware",
    "brotli_asgi.BrotliMiddleware",
    "asgi_correlation_id.CorrelationIdMiddleware",
    "asgi_correlation_id.middleware.CorrelationIdMiddleware",
    N.CORS_MIDDLEWARE,
})


def makes_response(fw: Framework, fns: list[Function]) -> bool:
    """The functions (or same-module functions they call) build a response themselves.

    A call whose name ends in ``Response`` / ``response`` (``JSONResponse(...)``,
    ``error_response(...)``), or a ``{"type": "http.response.start", ...}`` message.
    """
    model = fw.model
    for fn, _ in fw.reachable(fns).values():
        for site in fn.calls:
            q = model.call_qualname(site) or dotted_name(site.node.func) or ""
            if q.split("(", 1)[0].rsplit(".", 1)[-1].lower().endswith("response"):
                return True
        for node in walk(fn.node):
            if isinstance(node, cst.Dict) and any(_starts_response(el) for el in node.elements):
                return True  # send({"type": "http.response.start", ...}): not a test on a passing message
    return False


def _starts_response(el: cst.BaseDictElement) -> bool:
    if not isinstance(el, cst.DictElement) or string_value(el.key) != "type":
        return False
    return string_value(el.value) == "http.response.start"


def pass_through(fw: Framework, cls: Optional[str], fn: Optional[Function] = None) -> bool:
    """A middleware that never answers a request itself, so it may wrap CORSMiddleware.

    A known pass-through class; an ``@app.middleware("http")`` function that
    builds no response (it only edits what ``call_next`` returns); or a
    same-module middleware class (pure ASGI, ``BaseHTTPMiddleware`` or a
    subclass of a pass-through class such as chainlit's ``class
    SafariGZip(GZipMiddleware)``) whose methods build no response. Classes from
    other modules are unknown: they may answer.
    """
    if cls in PASS_THROUGH:
        return True
    if cls is None:
        return fn is not None and not makes_response(fw, [fn])
    model = fw.model
    info = local_class(model, cls)
    if info is None:
        return False
    classes = [info]
    for a in model.class_ancestors(info):
        if a.startswith(LOCAL + "."):
            local = model.local_class(a)
            if local is None:
                return False
            classes.append(local)
        elif a not in PASS_THROUGH and a not in ("builtins.object", N.BASE_HTTP_MIDDLEWARE):
            return False
    return not makes_response(fw, [m for c in classes for m in c.methods.values()])


def known_middleware_class(q: Optional[str]) -> bool:
    """A Starlette or uvicorn middleware class (``...Middleware``), by its qualified name."""
    if not q:
        return False
    if q.startswith("starlette.middleware.") or q.startswith("uvicorn.middleware."):
        tail = q.rsplit(".", 1)[-1]
        return tail.endswith("Middleware") and "(" not in q and q != N.MIDDLEWARE
    return False


def local_class(model: Model, q: Optional[str]) -> Optional[ClassInfo]:
    """The same-module class ``q`` names (not a call's result), or None."""
    if q and q.startswith(LOCAL + ".") and not q.endswith("()"):
        return model.local_class(q)
    return None


def middleware_instance_class(model: Model, info: ClassInfo) -> bool:
    """A same-module middleware class whose instances are surely not ``(cls, args, kwargs)`` triples.

    Every base is resolved and is this module's, ``object`` or a Starlette
    middleware class; the class (or a same-module base) defines ``__call__`` or
    subclasses ``BaseHTTPMiddleware``; nothing makes it iterable.
    """
    has_call = False
    for cur in model.lineage(info):
        if len(cur.bases) != len(cur.node.bases) or cur.node.keywords:
            return False
        if "__iter__" in cur.methods or "__getitem__" in cur.methods:
            return False
        has_call = has_call or "__call__" in cur.methods
        for base in cur.bases:
            if local_class(model, base) is not None:
                continue  # in the lineage
            elif known_middleware_class(base):
                has_call = True
            elif base != "builtins.object":
                return False
    return has_call


def is_base_http_middleware(model: Model, q: Optional[str]) -> bool:
    """``BaseHTTPMiddleware`` or a same-module subclass of it."""
    if q == N.BASE_HTTP_MIDDLEWARE:
        return True
    info = local_class(model, q)
    return info is not None and N.BASE_HTTP_MIDDLEWARE in model.class_ancestors(info)
