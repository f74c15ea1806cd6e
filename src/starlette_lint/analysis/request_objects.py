"""Which names are request objects: the one detector the rules ask.

A parameter is a request when it is annotated ``Request`` / ``WebSocket`` /
``HTTPConnection`` (from starlette or fastapi), or, for code Starlette itself calls,
by position: the first parameter of a Starlette endpoint, of an ``@app.middleware`` /
``dispatch=`` function and of an exception handler; the parameter after ``self`` of an
``HTTPEndpoint`` / ``WebSocketEndpoint`` verb method and of
``BaseHTTPMiddleware.dispatch``. A variable merely *named* ``request`` is never
guessed at.
"""

from __future__ import annotations

from typing import Literal, Optional, Sequence

import libcst as cst

from .. import names as N
from ..framework import ENDPOINT, ENDPOINT_METHOD, EXCEPTION_HANDLER, MIDDLEWARE, WEBSOCKET_ENDPOINT, Framework
from ..model import LOCAL, Function, Model, Scope, all_params

RequestKind = Literal["request", "websocket", "connection"]
REQUEST_TYPES: dict[str, RequestKind] = {
    N.REQUEST + "()": "request",
    N.WEBSOCKET + "()": "websocket",
    N.HTTP_CONNECTION + "()": "connection",
}
HTTP_KINDS: frozenset[str] = frozenset({"request", "connection"})  # objects that may have a body


class RequestParams:
    """``id(function) -> its request parameters``, found once per function (``fw.derived``)."""

    def __init__(self, fw: Framework) -> None:
        self.by_function: dict[int, dict[str, RequestKind]] = {}


def request_params(fw: Framework, fn: Function) -> dict[str, RequestKind]:
    """Parameter name -> ``request`` | ``websocket`` | ``connection`` for the known request objects of ``fn``."""
    memo = fw.derived(RequestParams).by_function
    hit = memo.get(id(fn))
    if hit is None:
        hit = memo[id(fn)] = _request_params(fw, fn)
    return hit


def _request_params(fw: Framework, fn: Function) -> dict[str, RequestKind]:
    model = fw.model
    roles = fw.roles_of(fn)
    out: dict[str, RequestKind] = {}
    for p in all_params(fn.node.params):
        if p.annotation is None:
            continue
        found = REQUEST_TYPES.get(model.qualname(p.name, fn.scope) or "")
        if found is not None:
            out[p.name.value] = found
    positional = list(fn.node.params.posonly_params) + list(fn.node.params.params)
    index: Optional[int] = None
    kind: RequestKind = "request"
    if fn.klass is None:
        if ENDPOINT in roles:
            index = 0
        elif WEBSOCKET_ENDPOINT in roles:
            index, kind = 0, "websocket"
        elif MIDDLEWARE in roles and not asgi_params(positional):
            index = 0
        elif EXCEPTION_HANDLER in roles:
            index, kind = 0, "connection"
    else:
        ancestors = model.class_ancestors(fn.klass)
        if ENDPOINT_METHOD in roles and N.HTTP_ENDPOINT in ancestors and fn.name in N.HTTP_ENDPOINT_METHODS:
            index = 1
        elif ENDPOINT_METHOD in roles and N.WEBSOCKET_ENDPOINT in ancestors and fn.name in N.WEBSOCKET_ENDPOINT_METHODS:
            index, kind = 1, "websocket"
        elif MIDDLEWARE in roles and fn.name == "dispatch" and _may_be_base_http_middleware(ancestors):
            index = 1
    if index is not None and index < len(positional):
        out.setdefault(positional[index].name.value, kind)
    return out


def _may_be_base_http_middleware(ancestors: list[str]) -> bool:
    """A middleware class (the framework step saw it configured) whose ``dispatch`` Starlette
    calls with the request: a ``BaseHTTPMiddleware`` subclass, or a subclass of a class from
    another module (``class Timing(BaseMiddleware)``, ``BaseMiddleware`` imported), which this
    module cannot see into. Not a class whose every base is known and none is one."""
    return N.BASE_HTTP_MIDDLEWARE in ancestors or any(
        not a.startswith(("starlette.", "fastapi.", "builtins.")) and not a.startswith(LOCAL + ".") for a in ancestors)


def asgi_params(params: Sequence[cst.Param]) -> bool:
    names = [p.name.value for p in params]
    return names[:3] == ["scope", "receive", "send"]


def request_kind(fw: Framework, expr: cst.BaseExpression, scope: Scope) -> Optional[RequestKind]:
    """The kind of request object ``expr`` is (a Name bound only as such a parameter), else None."""
    if not isinstance(expr, cst.Name):
        return None
    bindings, where = fw.model.lookup(expr.value, scope)
    if not bindings or len(bindings) != 1 or bindings[0].kind != "param" or where is None:
        return None
    if where.kind != "function" or where.function is None:
        return None
    return request_params(fw, where.function).get(expr.value)


def is_request_object(fw: Framework, name: cst.Name, scope: Scope) -> bool:
    """A request parameter (:func:`request_kind`), or a name bound to a constructed or annotated
    ``Request`` / ``WebSocket`` / ``HTTPConnection`` (``request = Request(scope, receive)``)."""
    return fw.model.qualname(name, scope) in REQUEST_TYPES or request_kind(fw, name, scope) is not None


# FastAPI's parameter functions (``fastapi.Query``...): STL612 and its fix, STL508's request data
_PARAM_FUNCTIONS = frozenset({"Query", "Path", "Body", "Cookie", "Header", "Form", "File", "Depends", "Security"})


def param_function(model: Model, call: cst.Call, scope: Scope) -> Optional[str]:
    """``Query``, ``Depends``... when ``call`` calls one of FastAPI's parameter functions."""
    q = model.qualname(call.func, scope)
    if q is None:
        return None
    module, _, name = q.rpartition(".")
    return name if name in _PARAM_FUNCTIONS and module in ("fastapi", "fastapi.param_functions", "fastapi.params") \
        else None
