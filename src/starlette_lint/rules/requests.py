"""STL6xx: request and response usage.

Every rule here works on *known* request objects only. A parameter is a request
when it is annotated ``Request`` / ``WebSocket`` / ``HTTPConnection`` (from
starlette or fastapi), or, for code Starlette itself calls, by position: the
first parameter of a Starlette endpoint, of an ``@app.middleware`` /
``dispatch=`` function and of an exception handler; the parameter after
``self`` of an ``HTTPEndpoint`` / ``WebSocketEndpoint`` method and of
``BaseHTTPMiddleware.dispatch``. A variable merely *named* ``request`` is never
guessed at (:func:`request_params` is the one place that decides).
"""

from __future__ import annotations

import re
import sys
from typing import Collection, Iterable, Iterator, Literal, Mapping, Optional, Union, cast

import libcst as cst

from .. import names as N
from ..analysis.flow import BodyIndex, flow, suite_statements
from ..analysis.request_objects import (
    HTTP_KINDS, RequestKind, asgi_params, param_function, request_kind, request_params)
from ..finding import Report
from ..framework import (
    NOWHERE,
    App,
    ENDPOINT,
    ENDPOINT_METHOD,
    EXCEPTION_HANDLER,
    MIDDLEWARE,
    PATH_OPERATION,
    WEBSOCKET_ENDPOINT,
    Framework,
    Route,
)
from ..model import (
    arity_problem,
    LOCAL,
    Function,
    Model,
    Scope,
    argument,
    dotted_name,
    iter_children,
    keyword,
    positional,
    string_value,
    walk,
)
from ..versions import Claim
from .base import Rule


def _request_method_call(fw: Framework, node: cst.CSTNode, scope: Scope, methods: Iterable[str],
                         kinds: Collection[str] = HTTP_KINDS) -> Optional[str]:
    """``req.<method>(...)`` on a known request object: the request's name, else None."""
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return None
    if node.func.attr.value not in methods or not isinstance(node.func.value, cst.Name):
        return None
    kind = request_kind(fw, node.func.value, scope)
    if kind is not None and kind in kinds:
        return node.func.value.value
    return None


def _nodes(stmts: Iterable[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    for s in stmts:
        yield s
        yield from walk(s)


def _stream_consumptions(fw: Framework, fn: Function, names: Mapping[str, str]
                         ) -> list[tuple[cst.Call, cst.CSTNode, str]]:
    """``async for x in req.stream()`` / ``[x async for x in req.stream()]``: (stream call, loop node, req name)."""
    if not any(k in HTTP_KINDS for k in names.values()):
        return []
    if not any(isinstance(s.node.func, cst.Attribute) and s.node.func.attr.value == "stream" for s in fn.calls):
        return []
    out: list[tuple[cst.Call, cst.CSTNode, str]] = []
    cached: set[str] = set()  # requests whose body was read (and so cached) before: stream() replays it
    for node in walk(fn.node):
        if isinstance(node, cst.Call):
            req = _request_method_call(fw, node, fn.scope, ("body", "json"))
            if req is not None:
                cached.add(req)
        elif isinstance(node, (cst.For, cst.CompFor)) and node.asynchronous is not None:
            stream = node.iter
            req = _request_method_call(fw, stream, fn.scope, ("stream",))
            if req is not None and req not in cached and isinstance(stream, cst.Call):
                out.append((stream, node, req))
    return out


def _region_after(fw: Framework, fn: Function, consumptions: list[tuple[cst.Call, cst.CSTNode, str]]
                  ) -> list[tuple[cst.Call, str, list[cst.CSTNode]]]:
    """For each stream consumption, the statements that run after the loop has finished.

    The loop's own body is left out: a read or ``call_next`` while chunks are still arriving is
    a deliberate streaming pattern whose outcome depends on how the body is chunked.
    """
    index = BodyIndex(fn, {id(loop) for _, loop, _ in consumptions})
    fl = flow(fw)
    out = []
    for call, loop, req in consumptions:
        stmt = index.stmt_of.get(id(loop))
        if stmt is None:
            continue
        out.append((call, req, index.after(stmt, fl)))
    return out


class RequestFacts:
    """The request family's shared facts about a module (built once: ``fw.derived(RequestFacts)``)."""

    def __init__(self, fw: Framework) -> None:
        # the functions with known request objects, and those objects
        self.functions: list[tuple[Function, dict[str, RequestKind]]] = []
        for fn in fw.model.functions:
            names = request_params(fw, fn)
            if names:
                self.functions.append((fn, names))
        self._included: Optional[dict[int, bool]] = None

    def included_routers(self, fw: Framework) -> dict[int, bool]:
        """See :func:`_included_routers` (found on first use)."""
        if self._included is None:
            self._included = _included_routers(fw)
        return self._included


def _functions_with_requests(fw: Framework) -> list[tuple[Function, dict[str, RequestKind]]]:
    return fw.derived(RequestFacts).functions


def _is_starlette_module(model: Model) -> bool:
    return model.imports_any("starlette", "fastapi")


# --------------------------------------------------------------------------- STL601
_BODY_READS = ("json", "body", "form")


class UnawaitedBodyRead(Rule):
    """
    ## What it does
    Reports `request.json()`, `request.body()` and `request.form()` whose
    result is used without `await`, on a known request object (a parameter
    annotated `Request`, or the request Starlette passes to an endpoint,
    middleware or exception handler).

    ## Why is this bad?
    The three methods are coroutines. Without `await` the code gets a coroutine
    object instead of the data: `data["x"]` raises `TypeError: 'coroutine'
    object is not subscriptable`, `JSONResponse(data)` raises `TypeError: Object
    of type coroutine is not JSON serializable` (a 500 either way), and Python
    warns `coroutine 'Request.json' was never awaited`. In a plain `def` the
    coroutine cannot be awaited at all.

    A call that is returned, passed to another call (`asyncio.gather(...)`,
    `asyncio.create_task(...)`), used in `async with request.form()`, or
    assigned to a name that is later awaited, is not reported.

    ## Example
    ```python
    async def create(request):
        data = request.json()
        return JSONResponse({"name": data["name"]})
    ```

    ## Use instead
    ```python
    async def create(request):
        data = await request.json()
        return JSONResponse({"name": data["name"]})
    ```
    """

    code = "STL601"
    name = "unawaited-body-read"
    summary = "`request.json()` / `.body()` / `.form()` used without `await`"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if not _is_starlette_module(model):
            return
        for site in model.calls:
            if site.awaited or site.in_lambda:
                continue
            call = site.node
            req = _request_method_call(fw, call, site.scope, _BODY_READS)
            if req is None:
                continue
            fn = site.function
            if fn is None or not self._misused(fw, site.parent, call, fn):
                continue
            method = cast(cst.Attribute, call.func).attr.value  # a request method call (above)
            where = fw.describe(fn)
            if fn.is_async:
                fix = f"use await {req}.{method}()"
            else:
                fix = f"make {fn.name} an async def and use await {req}.{method}() (a plain def cannot await it)"
            yield self.report(
                call,
                f"{req}.{method}() is a coroutine and is not awaited in {where}: the code gets a coroutine "
                f"object instead of the body (TypeError at request time); {fix}",
            )

    @staticmethod
    def _misused(fw: Framework, parent: Optional[cst.CSTNode], call: cst.Call, fn: Function) -> bool:
        model = fw.model
        if isinstance(parent, cst.Expr):
            return True  # discarded
        if isinstance(parent, cst.Subscript) and parent.value is call:
            return True
        if isinstance(parent, cst.Attribute) and parent.value is call:
            return True
        if isinstance(parent, cst.For) and parent.iter is call:
            return True
        framework_called = bool(fw.roles_of(fn) & _FRAMEWORK_CALLED)
        if isinstance(parent, cst.Return) and parent.value is call:
            return framework_called  # the framework uses the return value, it never awaits it
        target: Optional[str] = None
        if isinstance(parent, cst.Assign) and parent.value is call and len(parent.targets) == 1:
            t = parent.targets[0].target
            target = t.value if isinstance(t, cst.Name) else None
        elif isinstance(parent, (cst.AnnAssign, cst.NamedExpr)) and parent.value is call:
            target = parent.target.value if isinstance(parent.target, cst.Name) else None
        if target is None:
            return False
        return not _name_consumed(model, fn, target, framework_called)


# Functions whose return value the framework uses (and never awaits).
_FRAMEWORK_CALLED = frozenset({ENDPOINT, WEBSOCKET_ENDPOINT, PATH_OPERATION, ENDPOINT_METHOD, EXCEPTION_HANDLER,
                               MIDDLEWARE})
# Calls that take a value without awaiting it (a coroutine passed to them stays unawaited).
_NON_AWAITING = ("starlette.", "fastapi.", "builtins.", "json.", "orjson.", "ujson.", "pydantic.")


def _name_consumed(model: Model, fn: Function, name: str, framework_called: bool) -> bool:
    """``name`` is awaited, returned (from a helper), yielded, used in ``async with``, or passed to a call that may await it."""
    for node in walk(fn.node, into_scopes=True):
        value: Optional[cst.CSTNode] = None
        if isinstance(node, cst.Await):
            value = node.expression
        elif isinstance(node, cst.Return):
            value = None if framework_called else node.value
        elif isinstance(node, cst.Yield):
            value = node.value
        elif isinstance(node, cst.WithItem):
            value = node.item
        elif isinstance(node, cst.Call):
            q = model.qualname(node.func, fn.scope)
            if q is not None and q.startswith(_NON_AWAITING):
                continue
            for arg in node.args:
                if isinstance(arg.value, cst.Name) and arg.value.value == name:
                    return True
        if isinstance(value, cst.Name) and value.value == name:
            return True
    return False


# --------------------------------------------------------------------------- STL602
class StreamReadTwice(Rule):
    """
    ## What it does
    Reports a body read (`.body()`, `.json()`, `.form()` or `.stream()`) that
    runs after `request.stream()` has been iterated in the same function.

    ## Why is this bad?
    `stream()` hands out the body chunks as they arrive and does not keep
    them. Reading the body again afterwards raises `RuntimeError: Stream
    consumed`: a 500. (The other order works: `await request.body()` caches
    the bytes, and a later `stream()` replays them.)

    Only reads that follow the iteration on the same path are reported; a read
    in the other branch of an `if`/`else` is not.

    ## Example
    ```python
    async def upload(request):
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        data = await request.body()
    ```

    ## Use instead
    ```python
    async def upload(request):
        data = await request.body()
        size = len(data)
    ```
    """

    code = "STL602"
    name = "stream-read-twice"
    summary = "the request body read again after `request.stream()` was iterated"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for fn, names in _functions_with_requests(fw):
            consumptions = _stream_consumptions(fw, fn, names)
            if not consumptions:
                continue
            reported: set[int] = set()
            for first, req, region in _region_after(fw, fn, consumptions):
                for node in _nodes(region):
                    if not isinstance(node, cst.Call) or id(node) in reported:
                        continue
                    again = _request_method_call(fw, node, fn.scope, ("body", "json", "form", "stream"))
                    if again != req:
                        continue
                    reported.add(id(node))
                    method = cast(cst.Attribute, node.func).attr.value  # a request method call (above)
                    yield self.report(
                        node,
                        f"{req}.{method}() reads the body again after {req}.stream() was iterated in "
                        f"{fw.describe(fn)}: the streamed chunks are not kept, so this raises "
                        f"RuntimeError 'Stream consumed' (a 500); read the body once (await {req}.body() keeps the "
                        f"bytes and a later stream() replays them)",
                    )
                    break


# --------------------------------------------------------------------------- STL603
_HARMLESS_DECORATORS = frozenset({"starlette.authentication.requires"})


def _plain_decorators(fw: Framework, fn: Function) -> bool:
    """Every decorator is a route registration or known to keep the function as it is."""
    model = fw.model
    route_nodes = {id(r.node) for r in fw.routes_of(fn)}
    for dec in fn.decorators:
        expr = dec.decorator
        if id(expr) in route_nodes:
            continue
        head = expr.func if isinstance(expr, cst.Call) else expr
        if model.qualname(head, fn.outer) in _HARMLESS_DECORATORS:
            continue
        return False
    return True


def _starlette_http_endpoint(fw: Framework, fn: Function) -> bool:
    """A plain Starlette HTTP endpoint: a Route endpoint function or an HTTPEndpoint method."""
    model = fw.model
    roles = fw.roles_of(fn)
    if PATH_OPERATION in roles:
        return False
    if ENDPOINT in roles and fn.klass is None:
        return bool(fw.routes_of(fn)) and all(r.kind == "http" and r.framework == "starlette" for r in fw.routes_of(fn))
    if ENDPOINT_METHOD in roles and fn.klass is not None and fn.name in N.HTTP_ENDPOINT_METHODS:
        return N.HTTP_ENDPOINT in model.class_ancestors(fn.klass)
    return False


def _literal_kind(model: Model, expr: Optional[cst.BaseExpression], scope: Scope) -> Optional[str]:
    if expr is None:
        return "None"
    if isinstance(expr, cst.Name):
        lit = model.constant(expr, scope)
        if lit is None:
            return None
        expr = lit
    if isinstance(expr, (cst.Dict, cst.DictComp)):
        return "a dict"
    if isinstance(expr, (cst.List, cst.ListComp)):
        return "a list"
    if isinstance(expr, (cst.Set, cst.SetComp)):
        return "a set"
    if isinstance(expr, cst.Tuple):
        return "a tuple"
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "a string"
    if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary)):
        return "a number"
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.expression, (cst.Integer, cst.Float)):
        return "a number"
    if isinstance(expr, cst.Name):
        return {"None": "None", "True": "a bool", "False": "a bool"}.get(expr.value)
    return None


def _is_stub(fn: Function) -> bool:
    body = fn.node.body
    stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
    for s in stmts:
        if not isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return False
        for x in s.body:
            if isinstance(x, cst.Pass):
                continue
            if isinstance(x, cst.Expr) and isinstance(x.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)):
                continue
            return False
    return True


class EndpointReturnsNonResponse(Rule):
    """
    ## What it does
    Reports a plain Starlette endpoint (a `Route` / `add_route` endpoint
    function, or an `HTTPEndpoint` method) that returns a dict, list, tuple,
    string, number or `None` literal, or whose body can end without a
    `return`. FastAPI path operations, which may return any data, are never
    reported.

    ## Why is this bad?
    Starlette calls whatever the endpoint returns as an ASGI application. A
    dict gives `TypeError: 'dict' object is not callable`, `None` (also a bare
    `return` or falling off the end) gives `TypeError: 'NoneType' object is not
    callable`: every such request is a 500, in `def` and `async def` endpoints
    alike.

    Falling off the end is decided conservatively: `if`/`else` chains where
    every branch returns or raises, `try`/`finally`, `while True` without
    `break`, `match` and calls to functions that always raise all count as
    ending the function. Decorated endpoints (other than with the route
    decorator itself or `@requires`) and placeholder bodies (`...`, `pass`)
    are not judged.

    ## Example
    ```python
    async def homepage(request):
        return {"hello": "world"}
    ```

    ## Use instead
    ```python
    async def homepage(request):
        return JSONResponse({"hello": "world"})
    ```
    """

    code = "STL603"
    name = "endpoint-returns-non-response"
    summary = "a plain Starlette endpoint returns a dict/list/str/number/None literal or can fall off the end"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        fl = flow(fw)
        for fn in model.functions:
            if not fw.roles_of(fn) or fn.is_generator or not _starlette_http_endpoint(fw, fn):
                continue
            if not _plain_decorators(fw, fn):
                continue
            where = fw.describe(fn)
            for ret in fn.returns:
                what = _literal_kind(model, ret.value, fn.scope)
                if what is None:
                    continue
                shown = "None (a bare return)" if ret.value is None else what
                yield self.report(
                    ret,
                    f"{where} returns {shown}: Starlette calls the return value as an ASGI app "
                    f"(TypeError, a 500 on every request); return a Response such as "
                    f"{'JSONResponse(...)' if what in ('a dict', 'a list') else 'PlainTextResponse(...)'}",
                )
            if _is_stub(fn):
                continue
            if not fl.terminates(suite_statements(fn.node.body), fn.scope):
                yield self.report(
                    fn.node,
                    f"{where} can reach the end of its body without a return: it then returns None, and "
                    f"Starlette fails with TypeError: 'NoneType' object is not callable (a 500); return a Response "
                    f"on every path",
                )


# --------------------------------------------------------------------------- STL604
class EndpointArity(Rule):
    """
    ## What it does
    Reports a `Route` / `add_route` endpoint function (or a `WebSocketRoute`
    endpoint) that cannot be called with exactly one positional argument.

    ## Why is this bad?
    Starlette calls a function endpoint as `endpoint(request)` (a websocket
    endpoint as `endpoint(websocket)`). Building the route succeeds, but every
    request fails: `TypeError: two_params() missing 1 required positional
    argument: 'user_id'` or `zero_params() takes 0 positional arguments but 1
    was given`, a 500. Path parameters are not passed as arguments (that is
    FastAPI): read them from `request.path_params`.

    Methods, classes and decorated functions (other than with the route
    decorator itself or `@requires`) are not judged.

    ## Example
    ```python
    async def get_user(request, user_id):
        ...

    routes = [Route("/users/{user_id}", get_user)]
    ```

    ## Use instead
    ```python
    async def get_user(request):
        user_id = request.path_params["user_id"]
        ...
    ```
    """

    code = "STL604"
    name = "endpoint-arity"
    summary = "a Route / WebSocketRoute endpoint function cannot be called with exactly one argument"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for fn in model.functions:
            roles = fw.roles_of(fn)
            if fn.klass is not None or not roles & {ENDPOINT, WEBSOCKET_ENDPOINT} or PATH_OPERATION in roles:
                continue
            routes = fw.routes_of(fn)
            if not routes or not all(r.framework == "starlette" and r.kind in ("http", "websocket") for r in routes):
                continue
            if not _plain_decorators(fw, fn):
                continue
            problem = arity_problem(fn.node.params, 1)
            if problem is None:
                continue
            arg = "websocket" if WEBSOCKET_ENDPOINT in roles else "request"
            yield self.report(
                fn.node,
                f"{fw.describe(fn)}: {problem}, but Starlette calls it with exactly one argument (the {arg}): "
                f"TypeError on every request; take only the {arg} and read path parameters from "
                f"{arg}.path_params",
            )


# --------------------------------------------------------------------------- STL605
_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z_][a-zA-Z0-9_]*)?}")


def _included_routers(fw: Framework) -> dict[int, bool]:
    """id(APIRouter App) -> True when every include_router of it is on a FastAPI app with a known prefix."""
    model = fw.model
    out: dict[int, bool] = {}
    for app in fw.apps:
        for ac in app.calls_named("include_router"):
            r_arg = argument(ac.call, 0, "router")
            sub = fw.app_for(r_arg.value, ac.site.scope) if r_arg is not None else None
            if sub is None:
                continue
            p_arg = keyword(ac.call, "prefix")
            known = p_arg is None or string_value(model.constant(p_arg.value, ac.site.scope)) is not None
            out[id(sub)] = out.get(id(sub), True) and known and app.kind == "fastapi"
    return out


def _anchored(fw: Framework, route: Route) -> bool:
    """The route's full path is known: it hangs (through Mounts) off an application built in this
    module, or off a routes list another module serves where no prefix may add parameters."""
    if not route.paths:
        return False
    node = route
    seen = 0
    while node.parent is not None and seen < 20:
        node = node.parent
        seen += 1
        if node.kind == "host":
            return False  # Host patterns add path parameters too
    app = node.app
    if app is None:
        # a module-level routes list of Route/Mount objects no app of this module takes: its paths
        # are whole when another module of the project serves it and no prefix of the project
        # may add parameters (project mode knows; a library's list mounted by its users is not)
        name = _routes_list_name(fw, node) if node.framework == "starlette" else None
        return name is not None and fw.elsewhere.routes_served_plainly(f"{LOCAL}.{name}")
    if app.is_application:
        return True
    if app.kind == "apirouter" and node is route:
        return fw.derived(RequestFacts).included_routers(fw).get(id(app), False)
    return False


def _routes_list_name(fw: Framework, route: Route) -> Optional[str]:
    """The module-level name bound once to the list (or tuple) that holds ``route`` as an element."""
    for name, bindings in fw.model.scope.bindings.items():
        if len(bindings) == 1 and bindings[0].kind == "assign" and isinstance(bindings[0].value, (cst.List, cst.Tuple)):
            if any(el.value is route.node for el in bindings[0].value.elements):
                return name
    return None


def _routes_of(fw: Framework, fn: Function) -> list[Route]:
    if fw.routes_of(fn):
        return list(fw.routes_of(fn))
    if fn.klass is not None and ENDPOINT_METHOD in fw.roles_of(fn):
        return list(fw.class_routes(fn.klass))
    return []


class MissingPathParam(Rule):
    """
    ## What it does
    Reports `request.path_params["x"]` in an endpoint routed in this module
    when none of its routes has `{x}` (or `{x:convertor}`) in its full path,
    Mount and router prefixes included.

    ## Why is this bad?
    `path_params` only holds the parameters of the matched path: a missing key
    raises `KeyError`, a 500 on every request. It usually means a typo or a
    renamed path parameter.

    Endpoints not routed in this module, routes whose path (or a prefix) is not
    a literal, `Host` routes, and routers that may be mounted elsewhere are not
    judged; `.get("x")` is never reported. A module-level routes list no app of the module
    takes (`routes = [Route(...)]`) is judged in project mode when another module of the
    project serves it (`Starlette(routes=routes)`, `Router(...)`, `Mount("/x", routes=...)`)
    and uses it no other way, and no `Mount`, `Host` or `include_router` of the project may
    put parameters before it (a prefix with `{`, one that is not a literal, `Mount` renamed,
    subclassed or passed around): a library's list that its users mount is not judged.

    ## Example
    ```python
    async def get_user(request):
        user_id = request.path_params["id"]
        ...

    routes = [Route("/users/{user_id:int}", get_user)]
    ```

    ## Use instead
    ```python
    async def get_user(request):
        user_id = request.path_params["user_id"]
    ```
    """

    code = "STL605"
    name = "missing-path-param"
    summary = "`request.path_params[\"x\"]` where no route of the endpoint has `{x}`"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for fn, names in _functions_with_requests(fw):
            routes = _routes_of(fw, fn)
            if not routes or not all(r.paths for r in routes):
                continue
            params = {p for r in routes for path in r.paths for p in _PARAM.findall(path)}
            stores: set[int] = set()
            reads: list[tuple[cst.Subscript, str]] = []
            guarded: set[str] = set()  # keys tested with `"x" in request.path_params`
            for node in walk(fn.node):
                if isinstance(node, cst.Assign):
                    stores.update(id(t.target) for t in node.targets)
                elif isinstance(node, cst.Del):
                    stores.add(id(node.target))
                elif isinstance(node, cst.Subscript) and id(node) not in stores:
                    key = _path_param_key(fw, node, fn.scope)
                    if key is not None and key not in params:
                        reads.append((node, key))
                elif isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
                    comp = node.comparisons[0]
                    target = comp.comparator
                    if (isinstance(comp.operator, (cst.In, cst.NotIn)) and isinstance(target, cst.Attribute)
                            and target.attr.value == "path_params"):
                        key = string_value(node.left)
                        if key is not None:
                            guarded.add(key)
            reads = [(node, key) for node, key in reads if key not in guarded]
            if reads and not all(_anchored(fw, r) for r in routes):
                continue  # (asked only now: for a routes list, the project is read to answer)
            for node, key in reads:
                paths = ", ".join(dict.fromkeys(p for r in routes for p in r.paths))
                have = ", ".join(sorted(params)) or "none"
                yield self.report(
                    node,
                    f"{_code(node.value)}[{key!r}] in {fw.describe(fn)}: no route of this endpoint has {{{key}}} in "
                    f"its path ({paths}; parameters: {have}), so this raises KeyError (a 500)",
                )


def _path_param_key(fw: Framework, node: cst.Subscript, scope: Scope) -> Optional[str]:
    model = fw.model
    value = node.value
    if not (isinstance(value, cst.Attribute) and value.attr.value == "path_params"):
        return None
    if not isinstance(value.value, cst.Name) or request_kind(fw, value.value, scope) is None:
        return None
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    lit = model.constant(node.slice[0].slice.value, scope)
    return string_value(lit) if lit is not None else None


# --------------------------------------------------------------------------- STL606
_ASSERTING_METHODS = {"add_route": False, "add_websocket_route": False, "route": False,
                      "websocket_route": False, "mount": True}  # method -> "" allowed
_FASTAPI_METHODS = set(N.PATH_OPERATION_METHODS) | {"add_api_route", "add_api_websocket_route"}


class PathWithoutSlash(Rule):
    """
    ## What it does
    Reports a route path that does not start with `/`: `Route`,
    `WebSocketRoute`, `add_route`, `Mount` / `mount` (an empty Mount path is
    valid), FastAPI path operations (`@app.get("users")`, `add_api_route`) and
    the `prefix=` of `APIRouter(...)` / `include_router(...)`.

    ## Why is this bad?
    Starlette asserts the leading slash when the route is built:
    `AssertionError: Routed paths must start with '/'` at import, so the app
    never starts; FastAPI does the same for router prefixes ("A path prefix
    must start with '/'"). FastAPI path operations accept the path but the
    route never matches (404), or is glued to the router prefix
    (`prefix="/api"` + `"users"` is `/apiusers`).

    ## Example
    ```python
    routes = [Route("users", list_users), Mount("api", routes=api_routes)]
    ```

    ## Use instead
    ```python
    routes = [Route("/users", list_users), Mount("/api", routes=api_routes)]
    ```
    """

    code = "STL606"
    name = "path-without-leading-slash"
    summary = "a route path, Mount path or router prefix that does not start with `/`"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for route in fw.routes:
            if route.path is None or route.path_expr is None or route.path.startswith("/"):
                continue
            what, empty_ok, asserts = self._kind(fw, route)
            if what is None or (route.path == "" and empty_ok):
                continue
            fixed = "/" + route.path
            if asserts:
                why = "Starlette raises AssertionError ('Routed paths must start with '/'') when the route is built, at import"
            else:
                why = "FastAPI accepts it, but the route never matches (404) or is glued onto the router prefix"
            yield self.report(route.path_expr, f"path {route.path!r} of {what} does not start with '/': {why}; "
                                               f"use {fixed!r}")
        for app in fw.apps:
            if app.kind == "apirouter":
                arg = app.kwarg("prefix")
                if arg is not None:
                    yield from self._prefix(model, arg, app.scope, "APIRouter(prefix=...)")
            for ac in app.calls_named("include_router"):
                arg = keyword(ac.call, "prefix")
                if arg is not None:
                    yield from self._prefix(model, arg, ac.site.scope, f"{app.name or 'app'}.include_router(prefix=...)")

    def _prefix(self, model: Model, arg: cst.Arg, scope: Scope, what: str) -> Iterator[Report]:
        lit = model.constant(arg.value, scope)
        p = string_value(lit) if lit is not None else None
        if p is None or p == "" or p.startswith("/"):
            return
        yield self.report(arg.value, f"prefix {p!r} of {what} does not start with '/': FastAPI raises AssertionError "
                                     f"('A path prefix must start with '/'') at import; use {'/' + p!r}")

    @staticmethod
    def _kind(fw: Framework, route: Route) -> tuple[Optional[str], bool, bool]:
        """(label, empty path allowed, Starlette asserts) for a route's registration."""
        model = fw.model
        call = route.node
        site = model.call_of.get(id(call))
        q = model.call_qualname(site) if site is not None else None
        if q in (N.ROUTE, N.WEBSOCKET_ROUTE, N.MOUNT):
            return q.rsplit(".", 1)[-1] + "(...)", q == N.MOUNT, True
        if isinstance(call.func, cst.Attribute):
            method = call.func.attr.value
            owner = dotted_name(call.func.value) or "app"
            label = f"{'@' if site is not None and site.decorates is not None else ''}{owner}.{method}(...)"
            if method in _ASSERTING_METHODS:
                return label, _ASSERTING_METHODS[method], True
            if method in _FASTAPI_METHODS and route.framework == "fastapi" and route.app is not None:
                # Only routers that serve requests: an APIRouter that is never included may hold
                # OpenAPI callbacks, whose paths are expressions like "{$callback_url}/events".
                if route.app.kind == "fastapi" or id(route.app) in fw.derived(RequestFacts).included_routers(fw):
                    return label, True, False
        return None, False, False


# --------------------------------------------------------------------------- STL607
REDIRECT = "starlette.responses.RedirectResponse"


def _post_methods(fw: Framework, fn: Function) -> Optional[tuple[str, ...]]:
    """The HTTP methods of an endpoint that handles POST (None when it does not, or when unknown)."""
    model = fw.model
    if fn.klass is not None and ENDPOINT_METHOD in fw.roles_of(fn) and fn.name == "post":
        if N.HTTP_ENDPOINT in model.class_ancestors(fn.klass):
            return ("POST",)
        return None
    if not fw.routes_of(fn) or any(r.kind != "http" or r.methods is None for r in fw.routes_of(fn)):
        return None
    methods = tuple(dict.fromkeys(m for r in fw.routes_of(fn) for m in (r.methods or ())))
    return methods if "POST" in methods else None


class RedirectAfterPost(Rule):
    """
    ## What it does
    Reports `RedirectResponse(url)` without a `status_code` in an endpoint
    that handles POST (`Route(..., methods=["POST"])`, `@app.post`,
    `api_route(methods=[...])`, an `HTTPEndpoint.post` method). In an endpoint
    that handles GET as well, only a redirect inside an
    `if request.method == "POST":` branch is reported.

    ## Why is this bad?
    `RedirectResponse` defaults to `307 Temporary Redirect`, which tells the
    browser to repeat the same method with the same body: the form is POSTed
    again to the target. A GET-only target answers `405 Method Not Allowed`;
    a target that accepts POST receives a double submit.

    ## Example
    ```python
    @app.post("/orders")
    async def create_order(request: Request):
        ...
        return RedirectResponse("/orders/done")
    ```

    ## Use instead
    ```python
        return RedirectResponse("/orders/done", status_code=303)
    ```
    """

    code = "STL607"
    name = "redirect-after-post-307"
    summary = "`RedirectResponse(url)` with the default 307 in an endpoint that handles POST"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for site in model.calls_to(REDIRECT):
            call = site.node
            if any(a.star for a in call.args) or argument(call, 1, "status_code") is not None:
                continue
            fn = site.function
            if fn is None:
                continue
            methods = _post_methods(fw, fn)
            if methods is None:
                continue
            if "GET" in methods and not _in_post_branch(fw, fn, call):
                continue
            yield self.report(
                call,
                f"RedirectResponse without status_code in {fw.describe(fn)}, which handles POST: the default 307 "
                f"makes the browser POST the form again to the target (405 or a double submit); "
                f"pass status_code=303",
            )


def _in_post_branch(fw: Framework, fn: Function, target: cst.Call) -> bool:
    """``target`` sits in the body of ``if req.method == "POST":`` (or the else of ``== "GET"``)."""
    path = _path_to(fn.node, target)
    for parent, child in zip(path, path[1:]):
        if not isinstance(parent, cst.If):
            continue
        method = _method_test(fw, parent.test, fn.scope)
        if method == "POST" and child is parent.body:
            return True
        if method == "GET" and isinstance(parent.orelse, cst.Else) and child is parent.orelse:
            return True
    return False


def _method_test(fw: Framework, test: cst.BaseExpression, scope: Scope) -> Optional[str]:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    if not isinstance(test.comparisons[0].operator, cst.Equal):
        return None
    left, right = test.left, test.comparisons[0].comparator
    for a, b in ((left, right), (right, left)):
        if isinstance(a, cst.Attribute) and a.attr.value == "method" and request_kind(fw, a.value, scope):
            value = string_value(b)
            return value.upper() if value is not None else None
    return None


def _path_to(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode]:
    """Nodes from ``root`` down to ``target`` (empty when not found)."""
    stack: list[tuple[cst.CSTNode, int]] = [(root, 0)]
    path: list[cst.CSTNode] = []
    while stack:
        node, depth = stack.pop()
        del path[depth:]
        path.append(node)
        if node is target:
            return path
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and node is not root:
            continue
        kids = list(iter_children(node))
        for kid in reversed(kids):
            stack.append((kid, depth + 1))
    return []


# --------------------------------------------------------------------------- STL608
_MUTATORS = frozenset({
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "sort", "reverse",
    "update", "setdefault", "add", "discard", "__setitem__", "__delitem__",
})
_SESSION_WRITES = frozenset({"update", "clear", "pop", "popitem", "__setitem__", "__delitem__", "mark_modified"})
# Session middlewares from other packages, with their own rules for when a session is saved.
_OTHER_SESSIONS = ("starsessions", "fastapi_sessions", "starlette_session", "asgi_sessions")
_SAFE_CALLEES = ("starlette.", "fastapi.", "builtins.")


class _SessionFacts:
    """The session expressions of one function."""

    def __init__(self, fw: Framework, fn: Function) -> None:
        self.model = fw.model
        self.fw = fw
        self.fn = fn

    def is_session(self, expr: cst.BaseExpression) -> bool:
        """``req.session`` on a known request, or a local name bound once to it (through at most 8 names:
        ``s = t; t = s`` and ``s = s`` end)."""
        for _ in range(9):
            if isinstance(expr, cst.Attribute) and expr.attr.value == "session":
                return isinstance(expr.value, cst.Name) and request_kind(self.fw, expr.value, self.fn.scope) is not None
            found = self._local_value(expr)
            if found is None:
                return False
            expr = found
        return False

    def derived(self, expr: cst.BaseExpression, depth: int = 0) -> Optional[str]:
        """A value read out of the session (``session["k"]``, ``session.get("k")``, a local bound to one): its label."""
        if depth > 8:
            return None
        if isinstance(expr, cst.Subscript):
            if self.is_session(expr.value):
                return _code(expr)
            inner = self.derived(expr.value, depth + 1)
            return None if inner is None else _code(expr)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value in ("get", "setdefault") and self.is_session(expr.func.value):
                return _code(expr)
            return None
        if isinstance(expr, cst.Name):
            found = self._local_value(expr)
            if found is not None:
                inner = self.derived(found, depth + 1)
                if inner is not None:
                    return f"{expr.value} (= {inner})"
        return None

    def _local_value(self, expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        if not isinstance(expr, cst.Name):
            return None
        found = self.model.value_of(expr, self.fn.scope)
        if found is None or found[1] is not self.fn.scope:
            return None
        return found[0]


def _code(node: cst.CSTNode) -> str:
    text = cst.Module(body=[]).code_for_node(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _membership_branches(nodes: list[cst.CSTNode], facts: "_SessionFacts") -> dict[int, int]:
    """The nodes inside either branch of an ``if`` that tests a key's membership in the session
    (``if "cart" in request.session:``), by id, with the id of their branch: a write there
    happens on that branch only."""
    out: dict[int, int] = {}
    for node in nodes:
        if not isinstance(node, cst.If):
            continue
        tests = [node.test, *(c for c in walk(node.test))]
        if not any(isinstance(t, cst.Comparison) and any(isinstance(c.operator, (cst.In, cst.NotIn))
                                                         and facts.is_session(c.comparator) for c in t.comparisons)
                   for t in tests):
            continue
        for branch in (node.body, node.orelse):
            if branch is not None:
                out.update((id(n), id(branch)) for n in walk(branch))  # an inner if's own branch wins below
    return out


def _saved(node: cst.CSTNode, guarded: dict[int, int], branches: set[int]) -> None:
    """A top-level session write at ``node``: its membership branch, if any, is saved."""
    branch = guarded.get(id(node))
    if branch is not None:
        branches.add(branch)


class NestedSessionMutation(Rule):
    """
    ## What it does
    Reports a change made inside a value stored in the session:
    `request.session["cart"].append(x)`, `request.session["user"]["name"] = v`,
    `del request.session["a"]["b"]`, `request.session.setdefault("cart",
    []).append(x)`, or the same on a local read from the session
    (`cart = request.session["cart"]; cart.append(x)`), when the function never
    sets a top-level session key afterwards.

    ## Why is this bad?
    Since Starlette 1.0 the session only tracks its own top-level
    `__setitem__` / `__delitem__` / `update` / `pop` / `clear`. A change inside
    a nested list or dict does not mark it modified, so no `Set-Cookie` is
    sent and the change is silently lost at the end of the request (on 0.x
    the cookie was always re-sent).

    Not reported when the function also writes a top-level key, or hands the
    request, the session or the value to other code (which may write it back).
    A write made only on one branch of a membership test (`if "cart" not in
    request.session: request.session["cart"] = []`) saves that branch only:
    the change on the other branch is still reported.

    ## Example
    ```python
    async def add_to_cart(request):
        request.session["cart"].append(request.path_params["item"])
        return RedirectResponse("/cart", status_code=303)
    ```

    ## Use instead
    ```python
    async def add_to_cart(request):
        cart = request.session.get("cart", [])
        cart.append(request.path_params["item"])
        request.session["cart"] = cart
        return RedirectResponse("/cart", status_code=303)
    ```
    """

    code = "STL608"
    name = "nested-session-mutation"
    summary = "a change inside a nested session value (`request.session[\"cart\"].append(x)`) that is never saved"
    claims = {
        "nested change": Claim(
            "starlette", (1, 0),
            after="Starlette 1.x only saves the session when a top-level key is set, so this change is silently lost"),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if "session" not in model.source or model.imports_any(*_OTHER_SESSIONS):
            return  # no ``.session`` attribute can be written without the word
        said = self.claims["nested change"].text(model.target)
        if said is None:
            return  # Starlette 0.x re-sends the whole session on every request
        for fn, names in _functions_with_requests(fw):
            nodes = list(walk(fn.node))  # one walk serves both passes
            if not any(type(n) is cst.Attribute and n.attr.value == "session" for n in nodes):
                continue
            facts = _SessionFacts(fw, fn)
            findings: list[tuple[cst.CSTNode, str]] = []
            writes = False
            guarded = _membership_branches(nodes, facts)
            branches: set[int] = set()  # membership branches with a top-level write
            for node in nodes:
                if isinstance(node, cst.Call):
                    func = node.func
                    if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS | {"mark_modified"}:
                        if facts.is_session(func.value):
                            if func.attr.value in _SESSION_WRITES:
                                _saved(node, guarded, branches)
                                writes = writes or id(node) not in guarded
                            continue
                        label = facts.derived(func.value)
                        if label is not None:
                            findings.append((node, f"{label}.{func.attr.value}()"))
                            continue
                    if self._hands_over(fw, fn, facts, node, names):
                        writes = True
                    continue
                targets: list[cst.BaseExpression] = []
                if isinstance(node, cst.Assign):
                    targets = [t.target for t in node.targets]
                elif isinstance(node, (cst.AugAssign, cst.AnnAssign)):
                    targets = [node.target]
                elif isinstance(node, cst.Del):
                    targets = [node.target]
                for t in targets:
                    if isinstance(t, cst.Attribute) and t.attr.value == "modified" and facts.is_session(t.value):
                        writes = True  # request.session.modified = True
                        continue
                    if not isinstance(t, cst.Subscript):
                        continue
                    if facts.is_session(t.value):
                        # a write only on the branch where the key is missing (or present) saves nothing
                        # on the other one: ``if "cart" not in request.session: request.session["cart"] = []``
                        _saved(node, guarded, branches)
                        writes = writes or id(node) not in guarded
                        continue
                    label = facts.derived(t.value)
                    if label is not None:
                        if isinstance(node, cst.Del):
                            findings.append((node, f"del {_code(t)}"))
                        elif isinstance(node, cst.AugAssign):
                            findings.append((node, f"{_code(t)} {_code(node.operator).strip()} ..."))
                        else:
                            findings.append((node, f"{_code(t)} = ..."))
            if writes:
                continue
            where = fw.describe(fn)
            for node, what in findings:
                if guarded.get(id(node)) in branches:
                    continue  # written back on the same branch
                yield self.report(
                    node,
                    f"{what} changes a value nested in the session in {where}: {said}; read the value, modify it "
                    f"and assign it back (request.session[key] = value)",
                )

    @staticmethod
    def _hands_over(fw: Framework, fn: Function, facts: _SessionFacts, call: cst.Call, names: Mapping[str, str]) -> bool:
        """The request, the session or a session value is passed to code that may write the session."""
        model = fw.model
        passed = False
        for arg in call.args:
            v = arg.value
            if isinstance(v, cst.Name) and v.value in names and request_kind(fw, v, fn.scope) is not None:
                passed = True
            elif facts.is_session(v) or facts.derived(v) is not None:
                passed = True
        if not passed:
            return False
        q = model.qualname(call.func, fn.scope)
        return q is None or q.startswith(LOCAL) or not q.startswith(_SAFE_CALLEES)


# --------------------------------------------------------------------------- STL609
def _dispatch_call_next(fw: Framework, fn: Function) -> Optional[tuple[str, str]]:
    """(request name, call_next name) for a BaseHTTPMiddleware dispatch (method or dispatch= function)."""
    model = fw.model
    roles = fw.roles_of(fn)
    if MIDDLEWARE not in roles:
        return None
    positional = list(fn.node.params.posonly_params) + list(fn.node.params.params)
    if fn.klass is not None:
        if fn.name != "dispatch" or N.BASE_HTTP_MIDDLEWARE not in model.class_ancestors(fn.klass):
            return None
        positional = positional[1:]
    elif asgi_params(positional):
        return None
    if len(positional) < 2:
        return None
    return positional[0].name.value, positional[1].name.value


class StreamConsumedInMiddleware(Rule):
    """
    ## What it does
    Reports `request.stream()` iterated in a `BaseHTTPMiddleware.dispatch`
    (or an `@app.middleware("http")` / `dispatch=` function) before
    `call_next(request)`.

    ## Why is this bad?
    The chunks `stream()` yields are not kept: the endpoint then reads an
    empty body (`b''`), with status 200 and no error, which is silent data
    loss. `await request.body()` in `dispatch` is fine: Starlette caches it
    and replays it to the endpoint.

    ## Example
    ```python
    class Audit(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
            return await call_next(request)
    ```

    ## Use instead
    ```python
    class Audit(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            size = len(await request.body())
            return await call_next(request)
    ```
    (or a pure ASGI middleware that replays `receive`).
    """

    code = "STL609"
    name = "stream-consumed-in-middleware"
    summary = "`request.stream()` consumed in `BaseHTTPMiddleware.dispatch` before `call_next`"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for fn, names in _functions_with_requests(fw):
            pair = _dispatch_call_next(fw, fn)
            if pair is None:
                continue
            req_name, call_next = pair
            consumptions = [c for c in _stream_consumptions(fw, fn, names) if c[2] == req_name]
            if not consumptions or _replaces_receive(fn, req_name):
                continue
            for stream_call, req, region in _region_after(fw, fn, consumptions):
                if any(self._calls_next(model, fn, node, call_next, req) for node in _nodes(region)):
                    yield self.report(
                        stream_call,
                        f"{req}.stream() is consumed in {fw.describe(fn)} before {call_next}({req}): "
                        f"the chunks are not kept, so the endpoint silently receives an empty body; use "
                        f"await {req}.body() (Starlette replays it), or a pure ASGI middleware that replays receive",
                    )

    @staticmethod
    def _calls_next(model: Model, fn: Function, node: cst.CSTNode, call_next: str, req: str) -> bool:
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Name) or node.func.value != call_next:
            return False
        first = argument(node, 0, "request")
        return first is not None and isinstance(first.value, cst.Name) and first.value.value == req


def _replaces_receive(fn: Function, req: str) -> bool:
    """``request._receive = ...``: the middleware replays the body itself."""
    for node in walk(fn.node):
        if isinstance(node, cst.Assign):
            for t in node.targets:
                tgt = t.target
                if (isinstance(tgt, cst.Attribute) and isinstance(tgt.value, cst.Name) and tgt.value.value == req
                        and tgt.attr.value in ("_receive", "receive")):
                    return True
    return False


# --------------------------------------------------------------------------- STL610
_ANNOTATED = ("typing.Annotated", "typing_extensions.Annotated")
_DEPTH = 8  # dependencies followed, nested


# annotations from these packages are types, never aliases that carry a dependency
_TYPE_PACKAGES = frozenset({"builtins", "typing_extensions", "pydantic", "pydantic_core", "annotated_types",
                            "fastapi", "starlette", "sqlalchemy", "sqlmodel"})
_CONSTANTS = frozenset({"None", "True", "False", "Ellipsis"})


def _annotated_parts(fw: Framework, expr: Optional[cst.BaseExpression], scope: Scope, depth: int = 0
                     ) -> Optional[tuple[Optional[cst.BaseExpression], list[cst.BaseExpression]]]:
    """An annotation's type and its ``Annotated[...]`` metadata, through this module's aliases
    (``ItemId = Annotated[int, Path(...)]``); None when it may take request values out of
    sight: a string annotation, or a name that may be an alias carrying a dependency (one
    imported from the project, unless the project index says it is a class or a plain alias)."""
    model = fw.model
    if expr is None:
        return None, []
    alias = _local_alias(fw, expr, scope) if depth < 4 else None
    if alias is not None:
        return _annotated_parts(fw, alias[0], alias[1], depth + 1)
    if isinstance(expr, cst.Subscript) and model.qualname(expr.value, scope) in _ANNOTATED:
        items = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
        kind = items[0] if items else None
        return (kind, items[1:]) if kind is None or _plain_type(fw, kind, scope, depth) else None
    return (expr, []) if _plain_type(fw, expr, scope, depth) else None


def _local_alias(fw: Framework, expr: cst.BaseExpression, scope: Scope
                 ) -> Optional[tuple[cst.Subscript, Scope]]:
    """The ``Annotated[...]`` (or other subscript) a name of this module is bound to, once."""
    if not isinstance(expr, cst.Name) or fw.model.resolve_class(expr, scope) is not None:
        return None
    found = fw.model.value_of(expr, scope)
    if found is None or not isinstance(found[0], cst.Subscript):
        return None
    return found[0], found[1]


def _plain_type(fw: Framework, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
    """Every name in a type expression is a type that takes nothing from the request by itself:
    a class of this module, or a name from the standard library, builtins, typing, pydantic, the
    framework or (project mode) a project class or plain alias, or any package outside the project."""
    model = fw.model
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return False  # a forward reference we do not read
        if isinstance(node, cst.Name) and node.value in _CONSTANTS:
            continue
        if isinstance(node, (cst.Name, cst.Attribute)):
            if model.resolve_class(node, scope) is not None:
                continue
            alias = _local_alias(fw, node, scope) if depth < 4 else None
            if alias is not None:  # ``Optional[ItemId]``: plain only when its metadata takes nothing
                parts = _annotated_parts(fw, alias[0], alias[1], depth + 1)
                if parts is None or any(isinstance(m, cst.Call) and (
                        model.qualname(m.func, alias[1]) in N.DEPENDS or _aliases(m)) for m in parts[1]):
                    return False
                continue
            q = model.qualname(node, scope)
            if q is None or q.startswith(LOCAL):
                return False
            top = q.split(".")[0]
            if top and (top in sys.stdlib_module_names or top in _TYPE_PACKAGES):
                continue
            if fw.elsewhere is NOWHERE or fw.elsewhere.annotation(q) != "type":
                return False  # another package may export ``Annotated[..., Depends(...)]`` aliases too
            continue
        stack.extend(iter_children(node))
    return True


def _aliases(call: cst.Call) -> set[str]:
    """``alias="x"`` (or ``validation_alias``) of a ``Path(...)``/``Query(...)``-like call."""
    out = set()
    for name in ("alias", "validation_alias"):
        arg = keyword(call, name)
        value = string_value(arg.value) if arg is not None else None
        if value is not None:
            out.add(value)
    return out


def _taken(fw: Framework, fn: Function, seen: set[int], depth: int = 0) -> Optional[set[str]]:
    """The request values a function FastAPI calls can take by name: its parameters, their
    aliases and those of the dependencies it declares, followed in this module; None when that
    cannot be known (a request object, a dependency from elsewhere)."""
    model = fw.model
    if id(fn) in seen:
        return set()
    if depth > _DEPTH:
        return None
    seen.add(id(fn))
    if request_params(fw, fn):
        return None  # it may read request.path_params itself
    params = fn.params
    # FastAPI reads ``*args`` and ``**kwargs`` as parameters named args and kwargs, and passes
    # every value by keyword: ``kwargs=`` lands in the dict, ``args=`` too when there is a
    # ``**kwargs``, else it is a TypeError (as for a positional-only parameter)
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    star += [params.star_kwarg] if params.star_kwarg is not None else []
    out: set[str] = set()
    for p in [*params.posonly_params, *params.params, *star, *params.kwonly_params]:
        name = p.name.value
        if fn.klass is not None and name in ("self", "cls") and p is (params.posonly_params or params.params)[0]:
            continue
        if not any(p is q for q in params.posonly_params) and (p is not params.star_arg or params.star_kwarg):
            out.add(name)  # a positional-only parameter takes none, nor *args (unless **kwargs takes args=)
        parts = _annotated_parts(fw, p.annotation.annotation if p.annotation is not None else None, fn.outer)
        marker = _marker(fw, parts[1], p.default, fn.outer) if parts is not None else None
        if parts is None or marker is False:
            return None
        for item in parts[1]:
            if isinstance(item, cst.Call):
                out |= _aliases(item)  # an alias= anywhere in the metadata: taken (FieldInfo counted before 0.105)
        if marker is None:
            continue
        out |= _aliases(marker)
        if model.qualname(marker.func, fn.outer) not in N.DEPENDS:
            continue
        dep = positional(marker, 0) or keyword(marker, "dependency")
        target = dep.value if dep is not None else parts[0]  # Depends(): the annotated class
        if target is None:
            return None
        more = _dependency_takes(fw, target, fn.outer, seen, depth + 1)
        if more is None:
            return None
        out |= more
    return out


def _marker(fw: Framework, metadata: list[cst.BaseExpression], default: Optional[cst.BaseExpression],
            scope: Scope) -> Union[cst.Call, None, Literal[False]]:
    """The call FastAPI reads a parameter's source from, as it picks it: the last ``fastapi``
    call (``Depends``, ``Path``, ``Query``...) in the ``Annotated`` metadata (FastAPI 0.105 and
    later; earlier releases refuse two at startup), else the default value's; None when there is
    none; False when a call we do not know might build one (a helper returning ``Depends(...)``)."""
    model = fw.model
    specific = []
    for item in metadata:
        if isinstance(item, (cst.Name, cst.Attribute)):
            found = model.value_of(item, scope) if isinstance(item, cst.Name) else None
            if found is None or not isinstance(found[0], cst.Call):
                return False  # ``tenant_marker = Depends(...)`` elsewhere, or a name we cannot read
            item = found[0]
        if not isinstance(item, cst.Call):
            continue
        q = model.qualname(item.func, scope)
        if q is None or not q.startswith(("fastapi.", "pydantic.", "annotated_types.")):
            return False
        if q.startswith("fastapi."):
            specific.append(item)
    if len(specific) > 1 and not model.target.at_least("fastapi", (0, 105)):
        return False  # an AssertionError at startup before 0.105: not this rule's problem
    if specific:
        return specific[-1]
    if isinstance(default, cst.Name):
        found = model.value_of(default, scope)  # ``OwnerDep = Depends(get_owner)``
        default = found[0] if found is not None and isinstance(found[0], cst.Call) else default
    if not isinstance(default, cst.Call):
        return None
    q = model.qualname(default.func, scope)
    if q is not None and q.startswith(("fastapi.", "pydantic.")):
        return default
    if q is not None and not q.startswith(LOCAL) and q.split(".")[0] in sys.stdlib_module_names:
        return None  # a plain default (``datetime.now()``)
    return False


def _dependency_takes(fw: Framework, expr: cst.BaseExpression, scope: Scope, seen: set[int],
                      depth: int) -> Optional[set[str]]:
    """What a dependency (a function or a class of this module, or an instance of such a class,
    which FastAPI calls through ``__call__``) takes; None when unknown."""
    model = fw.model
    fn = model.resolve_function(expr, scope)
    if fn is not None:
        return _taken(fw, fn, seen, depth)
    if isinstance(expr, cst.Call):
        made = model.resolve_class(expr.func, scope)
        if made is None or any(base not in ("builtins.object", "object") for base in made.bases):
            return None  # a __call__ inherited from a class we do not read, maybe
        call = made.methods.get("__call__")
        return _taken(fw, call, seen, depth) if call is not None else None
    cls = model.resolve_class(expr, scope)
    if cls is None:
        return None
    init = cls.methods.get("__init__")
    if init is not None:
        return _taken(fw, init, seen, depth)
    if any(not (base in ("builtins.object", "object") or base.startswith("pydantic.")) for base in cls.bases):
        return None  # fields or an __init__ inherited from a class we do not read
    out = set()
    for stmt in cls.node.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            if isinstance(stmt, cst.ClassDef):
                return None  # ``class Config``: aliases made by a generator, maybe
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == "model_config"
                                                     for t in small.targets):
                return None  # ``ConfigDict(alias_generator=...)``: the names FastAPI sees are not the fields'
            if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
                continue
            if small.target.value == "model_config" or isinstance(small.value, (cst.Call, cst.Name, cst.Attribute)):
                return None  # ``Field(alias=...)``, a marker: not a plain field
            parts = _annotated_parts(fw, small.annotation.annotation, cls.scope)
            if parts is None or parts[1]:
                return None  # ``Annotated[str, Depends(...)]`` in a field: it takes what its dependency takes
            out.add(small.target.value)
    return out


def _route_dependencies(fw: Framework, route: Route) -> Optional[set[str]]:
    """What the ``dependencies=[...]`` of the decorator take; None when one is unknown."""
    arg = keyword(route.node, "dependencies")
    if arg is None:
        return set()
    scope = route.function.outer if route.function is not None else fw.model.scope
    value = fw.model.constant(arg.value, scope) or arg.value
    if not isinstance(value, (cst.List, cst.Tuple)):
        return None
    out: set[str] = set()
    for element in value.elements:
        call = element.value
        if not isinstance(call, cst.Call) or fw.model.qualname(call.func, scope) not in N.DEPENDS:
            return None
        dep = positional(call, 0) or keyword(call, "dependency")
        more = _dependency_takes(fw, dep.value, scope, set(), 1) if dep is not None else None
        if more is None:
            return None
        out |= more
    return out


_FASTAPI_CLASSES = ("fastapi.applications.FastAPI", "fastapi.routing.APIRouter")


def _plain_router(app: App) -> bool:
    """Built by FastAPI's own class, with no ``dependencies=``, ``route_class=`` nor ``**options``
    (an app handed in as a parameter was built out of sight)."""
    call = app.call
    return app.parameter is None and N.canonical(app.cls) in _FASTAPI_CLASSES and not any(a.star == "**" for a in call.args) \
        and keyword(call, "dependencies") is None and keyword(call, "route_class") is None


def _router_has_dependencies(fw: Framework, route: Route) -> bool:
    """Something between the route and the app may take path values out of sight: the app or a
    router on the way declares ``dependencies=`` (or a custom class, a ``route_class=``,
    ``**options``), an ``include_router`` on the way does, or the way to a FastAPI app is not
    known in this module (a router included in another module, maybe with dependencies)."""
    app = route.app
    seen: set[int] = set()
    while app is not None and id(app) not in seen:
        seen.add(id(app))
        if not _plain_router(app):
            return True
        if app.kind == "fastapi":
            return False  # the application itself: the way is known, and clear
        includes = [(parent, ac) for parent in fw.apps for ac in parent.calls_named("include_router")
                    if (r_arg := argument(ac.call, 0, "router")) is not None
                    and fw.app_for(r_arg.value, ac.site.scope) is app]
        if len(includes) != 1:
            return True  # included nowhere here (another module), or in several places
        parent, ac = includes[0]
        if keyword(ac.call, "dependencies") is not None or any(a.star == "**" for a in ac.call.args):
            return True
        app = parent
    return True


def _signature_kept(fw: Framework, route: Route, fn: Function) -> bool:
    """FastAPI sees ``fn``'s own signature: a plain function (not a method of a class-based view)
    whose only decorators are path operations (another decorator may rewrite the signature)."""
    if fn.klass is not None:
        return False
    routes = {id(r.node) for r in fw.routes if r.function is fn}
    return all(isinstance(d.decorator, cst.Call) and id(d.decorator) in routes for d in fn.node.decorators)


class PathParamNotInSignature(Rule):
    """
    ## What it does
    Reports a FastAPI path operation whose path, as written in its decorator (or
    `add_api_route`), declares `{name}` when neither the function nor any dependency it
    declares (`Depends(...)`, `Annotated[..., Depends(...)]`, a class taken with
    `Depends()`, the decorator's `dependencies=[...]`) has a parameter `name`, or a
    parameter with `alias="name"`. This is ruff's FAST003. FastAPI reads `**kwargs` as a
    parameter named `kwargs` (and `*args` as one named `args`, which takes nothing without a
    `**kwargs`: FastAPI passes values by keyword), and calls a dependency that is an instance
    (`Depends(Checker())`) through its class's `__call__`. A module that sets a
    `__signature__` by hand is not judged (FastAPI reads that signature).

    Functions that take the request itself (they may read
    `request.path_params`), dependencies not defined in the module, apps and routers with
    `dependencies=` of their own, and paths that are not literals are not judged.
    Router prefixes are not judged either: their parameters are often taken by a
    router-level dependency.

    ## Why is this bad?
    FastAPI matches the path and drops the value: the endpoint never sees it, so a
    renamed parameter or a typo serves every `/items/{item_id}` with the same answer, with
    no error anywhere.

    ## Example
    ```python
    @app.get("/items/{item_id}")
    async def read_item(id: int):
        ...
    ```

    ## Use instead
    ```python
    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        ...
    ```
    """

    code = "STL610"
    name = "path-param-not-in-signature"
    summary = "FastAPI path operation whose path declares `{name}` that no parameter or dependency takes"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for route in fw.routes:
            fn = route.function
            if route.framework != "fastapi" or route.kind not in ("http", "websocket") or fn is None \
                    or route.path is None or route.path_expr is None:
                continue
            wanted = list(dict.fromkeys(_PARAM.findall(route.path)))
            if not wanted or _router_has_dependencies(fw, route) or not _signature_kept(fw, route, fn) \
                    or any(a.star == "**" for a in route.node.args) or ".dependencies" in model.source \
                    or "__signature__" in model.source:  # a signature set by hand is what FastAPI reads
                continue
            taken = _taken(fw, fn, set())
            extra = _route_dependencies(fw, route) if taken is not None else None
            if taken is None or extra is None:
                continue
            missing = [name for name in wanted if name not in taken and name not in extra]
            if not missing:
                continue
            posonly = {p.name.value for p in fn.params.posonly_params}
            star = fn.params.star_arg.name.value if isinstance(fn.params.star_arg, cst.Param) else None
            braced = " and ".join(f"{{{name}}}" for name in missing)
            names = " and ".join(missing)
            if any(name in posonly for name in missing):
                yield self.report(
                    route.path_expr,
                    f"{braced} in the path of {fw.describe(fn)} "
                    f"{'is a positional-only parameter' if len(missing) == 1 else 'are positional-only parameters'} "
                    f"of {fn.name}: FastAPI passes path values by keyword (TypeError, a 500 on every request); "
                    f"remove the / from the signature")
                continue
            if star is not None and star in missing and fn.params.star_kwarg is None:
                yield self.report(
                    route.path_expr,
                    f"{{{star}}} in the path of {fw.describe(fn)} is its *{star}: FastAPI passes path values by "
                    f"keyword ({star}=..., a TypeError: a 500 on every request); declare a parameter {star}")
                continue
            yield self.report(
                route.path_expr,
                f"{braced} in the path of {fw.describe(fn)} {'reaches' if len(missing) == 1 else 'reach'} no parameter "
                f"of {fn.name} or of its dependencies: FastAPI drops the value; add "
                f"{'a parameter' if len(missing) == 1 else 'parameters'} {names}")


# --------------------------------------------------------------------------- STL611
def _same_type(model: Model, a: cst.BaseExpression, a_scope: Scope, b: cst.BaseExpression, b_scope: Scope) -> bool:
    """Two type expressions written alike whose every name means the same thing in its place."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (cst.Name, cst.Attribute)):
        qa, qb = model.qualname(a, a_scope), model.qualname(b, b_scope)
        if qa is not None or qb is not None:
            return qa == qb
        cls_a, cls_b = model.resolve_class(a, a_scope), model.resolve_class(b, b_scope)
        return cls_a is not None and cls_a is cls_b
    if isinstance(a, cst.Subscript) and isinstance(b, cst.Subscript):
        ia = [e.slice for e in a.slice]
        ib = [e.slice for e in b.slice]
        return (_same_type(model, a.value, a_scope, b.value, b_scope) and len(ia) == len(ib)
                and all(isinstance(x, cst.Index) and isinstance(y, cst.Index)
                        and _same_type(model, x.value, a_scope, y.value, b_scope) for x, y in zip(ia, ib)))
    if isinstance(a, cst.BinaryOperation) and isinstance(b, cst.BinaryOperation):
        return type(a.operator) is type(b.operator) and _same_type(model, a.left, a_scope, b.left, b_scope) \
            and _same_type(model, a.right, a_scope, b.right, b_scope)
    return False


class RedundantResponseModel(Rule):
    """
    ## What it does
    Reports `response_model=X` on a FastAPI path operation whose return annotation is that
    same type `X` (ruff's FAST001): the same names, meaning the same things where each is
    written. `response_model=None`, a different type, and a function without a return
    annotation are not reported.

    ## Why is this bad?
    FastAPI reads the response model from the return annotation: repeating it in the
    decorator is two places to keep in step, and the day they drift apart the decorator
    wins silently (the annotation then lies to type checkers and readers).

    ## Why is it opt-in?
    It is a matter of style: the code works as written.

    ## Example
    ```python
    @app.post("/items/", response_model=Item)
    async def create_item(item: Item) -> Item:
        return item
    ```

    ## Use instead
    ```python
    @app.post("/items/")
    async def create_item(item: Item) -> Item:
        return item
    ```
    """

    code = "STL611"
    name = "redundant-response-model"
    summary = "`response_model=` that repeats the path operation's return annotation"
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if not model.target.at_least("fastapi", (0, 89)):
            return  # the return annotation became the response model in FastAPI 0.89
        postponed = any(b.kind == "import" and b.qualname == "__future__.annotations"
                        for b in model.scope.bindings.get("annotations", []))
        for route in fw.routes:
            fn = route.function
            if route.framework != "fastapi" or route.kind != "http" or fn is None or fn.node.returns is None:
                continue
            if (postponed or isinstance(fn.node.returns.annotation, (cst.SimpleString, cst.ConcatenatedString))) \
                    and fn.outer is not model.scope:
                continue  # FastAPI reads a postponed annotation in the module's globals, not where it is written
            arg = keyword(route.node, "response_model")
            if arg is None or not any(d.decorator is route.node for d in fn.node.decorators) \
                    or (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                continue
            if _same_type(model, arg.value, fn.outer, fn.node.returns.annotation, fn.outer):
                yield self.report(
                    arg, f"response_model={model.snippet(arg.value)} on {fw.describe(fn)} repeats its return "
                         f"annotation: FastAPI reads the same model from either; remove response_model=")


# --------------------------------------------------------------------------- STL612
def default_markers(fw: Framework, fn: Function) -> Iterator[tuple[cst.Param, cst.Call, str]]:
    """The parameters of ``fn`` declared with a FastAPI parameter function as their default value
    (``q: str = Query(None)``), not in ``Annotated``: (parameter, call, function name)."""
    params = fn.params
    for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
        if isinstance(p.default, cst.Call):
            name = param_function(fw.model, p.default, fn.outer)
            if name is not None:
                yield p, p.default, name


class DefaultInsteadOfAnnotated(Rule):
    """
    ## What it does
    Reports a parameter of a FastAPI path operation declared with `Depends()`, `Query()`,
    `Path()`, `Body()`, `Header()`, `Cookie()`, `Form()`, `File()` or `Security()` as its
    default value instead of in `Annotated[...]` (ruff's FAST002), when every FastAPI release
    the project targets has `Annotated` support (0.95 and later).

    ## Why is this bad?
    The default-value form makes the function lie about its signature: called directly (in a
    test, from another function), `q` is a `Query` object, not `None`, and a dependency is
    never resolved. FastAPI's documentation recommends `Annotated`, which also lets one
    alias (`CurrentUser = Annotated[User, Depends(get_user)]`) be reused.

    ## Why is it opt-in?
    The default-value form works, and most existing code bases use it throughout.

    ## Example
    ```python
    @app.get("/items/")
    async def read_items(q: str | None = Query(None, max_length=50), db: Session = Depends(get_db)):
        ...
    ```

    ## Use instead
    ```python
    @app.get("/items/")
    async def read_items(
        q: Annotated[str | None, Query(max_length=50)] = None,
        db: Annotated[Session, Depends(get_db)],
    ):
        ...
    ```
    (parameters without a default value must come first: the fix is not applied when moving
    the default out would break that order).
    """

    code = "STL612"
    name = "default-instead-of-annotated"
    summary = "`Depends()`/`Query()`... as a path operation parameter's default value instead of `Annotated`"
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if not model.target.at_least("fastapi", (0, 95)):
            return
        seen: set[int] = set()
        for route in fw.routes:
            fn = route.function
            if route.framework != "fastapi" or fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            for param, call, name in default_markers(fw, fn):
                annotation = model.snippet(param.annotation.annotation) if param.annotation is not None else "Any"
                yield self.report(
                    param, f"{param.name.value} = {name}(...) in {fw.describe(fn)} declares the parameter by its "
                           f"default value, which a direct call gets as is; write {param.name.value}: "
                           f"Annotated[{annotation}, {name}(...)]")
