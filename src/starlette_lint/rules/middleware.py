"""STL3xx: middleware registration, shape and order.

Shared with STL405 (:mod:`.exceptions`): :func:`late_contexts` (the functions
that only run once the application has started) and :func:`app_receiver`
(``x.add_middleware(...)``-style calls whose ``x`` is known to be a Starlette or
FastAPI application).
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from .. import names as N
from ..classify import is_pytest_fixture
from ..finding import Report
from ..framework import (
    ENDPOINT,
    ENDPOINT_METHOD,
    EXCEPTION_HANDLER,
    LIFESPAN,
    MIDDLEWARE,
    REQUEST_ROLES,
    STARTUP_ROLES,
    WEBSOCKET_ENDPOINT,
    App,
)
from ..model import (
    LOCAL,
    CallSite,
    ClassInfo,
    Function,
    Model,
    Scope,
    argument,
    dotted_name,
    elements,
    keyword,
    positional,
    string_value,
    walk,
)
from .base import Rule

_APP_KINDS = ("starlette", "fastapi")
_CLASS_LABEL = {"starlette": "Starlette", "fastapi": "FastAPI", "router": "Router", "apirouter": "APIRouter"}
_REQUEST_TYPES = frozenset({N.REQUEST + "()", N.HTTP_CONNECTION + "()", N.WEBSOCKET + "()"})
_APP_INSTANCES = frozenset({N.STARLETTE_APP + "()", N.FASTAPI_APP + "()"})

# Calls that run an event loop around a coroutine: the coroutine is the program's
# entry point, it runs before any server has started.
_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run", "asyncio.Runner().run"})
# Calls that start serving an app: the function making them configures the app first.
_SERVERS = frozenset({
    "uvicorn.run", "uvicorn.Config", "uvicorn.Server", "uvicorn.main.run", "uvicorn.config.Config",
    "uvicorn.server.Server", "hypercorn.asyncio.serve", "hypercorn.trio.serve",
})

# Middleware that never answer a request themselves (they only transform what
# passes through): being outside CORSMiddleware costs nothing.
_PASS_THROUGH = frozenset({
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


def _makes_response(model: Model, fns: list[Function]) -> bool:
    """The functions (or same-module functions they call) build a response themselves.

    A call whose name ends in ``Response`` / ``response`` (``JSONResponse(...)``,
    ``error_response(...)``), or a ``{"type": "http.response.start", ...}`` message.
    """
    for fn, _ in model.framework.reachable(fns).values():
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


def _pass_through(model: Model, cls: Optional[str], fn: Optional[Function] = None) -> bool:
    """A middleware that never answers a request itself, so it may wrap CORSMiddleware.

    A known pass-through class; an ``@app.middleware("http")`` function that
    builds no response (it only edits what ``call_next`` returns); or a
    same-module middleware class (pure ASGI, ``BaseHTTPMiddleware`` or a
    subclass of a pass-through class such as chainlit's ``class
    SafariGZip(GZipMiddleware)``) whose methods build no response. Classes from
    other modules are unknown: they may answer.
    """
    if cls in _PASS_THROUGH:
        return True
    if cls is None:
        return fn is not None and not _makes_response(model, [fn])
    info = _local_class(model, cls)
    if info is None:
        return False
    classes = [info]
    for a in model.class_ancestors(info):
        if a.startswith(LOCAL + "."):
            local = model.local_class(a)
            if local is None:
                return False
            classes.append(local)
        elif a not in _PASS_THROUGH and a not in ("builtins.object", N.BASE_HTTP_MIDDLEWARE):
            return False
    return not _makes_response(model, [m for c in classes for m in c.methods.values()])


# ------------------------------------------------------------------ helpers
def app_label(app: App) -> str:
    """``app = Starlette()`` (``Starlette()`` when unnamed), with the factory that builds it."""
    cls = _CLASS_LABEL[app.kind]
    label = f"{app.name} = {cls}()" if app.name else f"{cls}()"
    factory = app.factory
    return label + (f" (built in {factory.qualname})" if factory is not None else "")


def short(model: Model, node: cst.CSTNode, limit: int = 40) -> str:
    text = " ".join(model.module.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def class_name(q: Optional[str], fallback: str = "middleware") -> str:
    return q.rsplit(".", 1)[-1] if q else fallback


def is_test_function(model: Model, fn: Function) -> bool:
    """A pytest test or fixture: it builds and drives apps on purpose."""
    return fn.name == "test" or fn.name.startswith("test_") or is_pytest_fixture(model, fn)


def _first_param(fn: Function, skip_self: bool) -> Optional[str]:
    params = list(fn.node.params.posonly_params) + list(fn.node.params.params)
    if skip_self:
        params = params[1:]
    return params[0].name.value if params else None


def _callers_fixpoint(model: Model, seed: dict[int, Function], candidates: list[Function],
                      outside: set[int]) -> dict[int, Function]:
    """Add to ``seed`` every candidate whose every caller (there is one) is in it, transitively.

    Returns ``id(fn) -> caller`` for the functions added (one member of the set
    that calls it, for messages). A worklist: each member of the set is taken
    once, and tells each function it calls that one more of its callers is in;
    a function joins when none is left (linear in the call graph, however many
    callers or call sites a function has; recursion and cycles end).
    """
    fw = model.framework
    via: dict[int, Function] = {}
    wanted = {id(f) for f in candidates if id(f) not in seed and id(f) not in outside}
    if not wanted:
        return via
    waiting: dict[int, int] = {}  # id(candidate) -> how many of its callers have not been taken yet
    taken: set[int] = set()
    queue = list(seed.values())
    while queue:
        caller = queue.pop()
        if id(caller) in taken:
            continue
        taken.add(id(caller))
        told: set[int] = set()
        for _, fn in fw.callees(caller):
            key = id(fn)
            if key not in wanted or key in seed or key in told or fn is caller:
                continue
            told.add(key)
            left = waiting.get(key)
            if left is None:
                callers = {id(c): c for _, c in fw.callers_of(fn) if c is not fn}
                left = sum(1 for k in callers if k not in taken) + 1  # the caller just taken counts below
                via_first = next(iter(callers.values()))
                waiting[key] = left
                via[key] = via_first  # kept only if fn joins (below)
            left -= 1
            waiting[key] = left
            if left == 0:
                seed[key] = fn
                queue.append(fn)
    return {k: f for k, f in via.items() if k in seed}


class LateContexts:
    """Functions that only run after the application has started."""

    def __init__(self, model: Model) -> None:
        self.model = model
        fw = model.framework
        functions = model.functions
        # Functions called outside any function (module or class level).
        outside: set[int] = set()
        before: dict[int, Function] = {}  # run before serving: entry points, tests, their helpers
        for site in model.calls:
            fn_here = site.function
            if fn_here is None:
                target = model.resolve_function(site.node.func, site.scope)
                if target is not None:
                    outside.add(id(target))
            q = model.call_qualname(site)
            if q is None:
                continue
            if q in _LOOP_RUNNERS or (q.startswith("asyncio.") and q.endswith(".run_until_complete")):
                arg = positional(site.node, 0)
                if arg is not None:
                    expr = arg.value.func if isinstance(arg.value, cst.Call) else arg.value
                    target = model.resolve_function(expr, site.scope)
                    if target is not None:
                        before[id(target)] = target
            elif fn_here is not None and (q in _SERVERS or q.split("(", 1)[0] in _SERVERS):
                before[id(fn_here)] = fn_here
        for fn in functions:
            if not fn.roles and is_test_function(model, fn):
                before[id(fn)] = fn
        _callers_fixpoint(model, before, [f for f in functions if not f.roles], set())

        self.late: dict[int, Function] = {}
        for fn in functions:
            if fn.roles & (REQUEST_ROLES | STARTUP_ROLES):
                self.late[id(fn)] = fn
            elif fn.is_async and id(fn) not in before:
                self.late[id(fn)] = fn
        sync = [f for f in functions if not f.is_async and not f.roles and id(f) not in before]
        self.via = _callers_fixpoint(model, self.late, sync, outside)
        # The app(s) a lifespan / startup hook belongs to.
        self.started_by: dict[int, list[App]] = {}
        for ls in fw.lifespans:
            if ls.function is not None:
                self.started_by.setdefault(id(ls.function), []).append(ls.app)
        for hook in fw.startup_hooks:
            if hook.function is not None and hook.app is not None:
                self.started_by.setdefault(id(hook.function), []).append(hook.app)
        self._describe = fw.describe

    def root(self, fn: Function) -> Function:
        seen = 0
        while id(fn) in self.via and seen < 50:
            fn = self.via[id(fn)]
            seen += 1
        return fn

    def describe(self, fn: Function) -> str:
        text = self._describe(fn)
        if id(fn) in self.via:
            text += f" (called from {self._describe(self.root(fn))})"
        return text


def late_contexts(model: Model) -> LateContexts:
    late = model.cache.get("stl:late_contexts")
    if late is None:
        late = model.cache["stl:late_contexts"] = LateContexts(model)
    return late


class Receiver:
    """What ``x`` in ``x.add_middleware(...)`` is known to be."""

    def __init__(self, label: str, app: Optional[App], fastapi: Optional[bool]) -> None:
        self.label = label  # how messages name it: "app", "request.app"
        self.app = app  # the App object when built in this module
        self.fastapi = fastapi  # None: Starlette or FastAPI, not known which


def _request_param(model: Model, name: cst.Name, scope: Scope) -> bool:
    """Whether ``name`` is the request/websocket a framework function receives."""
    q = model.qualname(name, scope)
    if q in _REQUEST_TYPES:
        return True
    bindings, where = model.lookup(name.value, scope)
    if not bindings or len(bindings) != 1 or bindings[0].kind != "param" or where is None:
        return False
    fn = where.function if where.kind == "function" else None
    if fn is None:
        return False
    roles = fn.roles
    if roles & {ENDPOINT, WEBSOCKET_ENDPOINT, EXCEPTION_HANDLER} and fn.klass is None:
        return _first_param(fn, False) == name.value
    if ENDPOINT_METHOD in roles and fn.klass is not None:
        return _first_param(fn, True) == name.value
    if MIDDLEWARE in roles:
        if fn.klass is not None and fn.name == "dispatch":
            return _first_param(fn, True) == name.value
        if fn.klass is None:
            return _first_param(fn, False) == name.value
    return False


def app_receiver(model: Model, expr: cst.BaseExpression, site: CallSite) -> Optional[Receiver]:
    """``expr`` when it is a Starlette/FastAPI app, else None (unknown objects are not judged)."""
    fw = model.framework
    scope = site.scope
    app = fw.app_for(expr, scope)
    if app is not None:
        if app.kind not in _APP_KINDS:
            return None
        return Receiver(app.name or "app", app, app.kind == "fastapi")
    if isinstance(expr, cst.Attribute) and expr.attr.value == "app" and isinstance(expr.value, cst.Name):
        if _request_param(model, expr.value, scope):
            return Receiver(f"{expr.value.value}.app", None, None)
        return None
    if not isinstance(expr, cst.Name):
        return None
    bindings, where = model.lookup(expr.value, scope)
    if not bindings or where is None or len(bindings) != 1:
        return None
    b = bindings[0]
    if b.kind == "param":
        fn = where.function if where.kind == "function" else None
        if fn is not None and LIFESPAN in fn.roles and _first_param(fn, fn.klass is not None) == expr.value:
            return Receiver(expr.value, None, None)
        q = model.qualname(expr, scope)
        if q in _APP_INSTANCES:
            return Receiver(expr.value, None, q == N.FASTAPI_APP + "()")
    return None


def late_app_calls(model: Model, methods: frozenset[str]) -> Iterator[tuple[CallSite, Receiver, Function, str]]:
    """``app.<method>(...)`` calls (and decorators) made after the application has started."""
    late = None
    for site in model.calls:
        func = site.node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in methods:
            continue
        fn = site.function
        if fn is None:
            continue
        if late is None:
            late = late_contexts(model)
        if id(fn) not in late.late:
            continue
        recv = app_receiver(model, func.value, site)
        if recv is None:
            continue
        if recv.app is not None:
            if recv.app.factory is fn:
                continue  # built right here: an app factory, not a started app
            root = late.root(fn)
            if root.roles and not (root.roles & REQUEST_ROLES):
                # A lifespan / startup hook starts its own app only.
                owners = late.started_by.get(id(root), [])
                if all(o is not recv.app for o in owners):
                    continue
        yield site, recv, fn, func.attr.value


def _known_middleware_class(q: Optional[str]) -> bool:
    if not q:
        return False
    if q.startswith("starlette.middleware.") or q.startswith("uvicorn.middleware."):
        tail = q.rsplit(".", 1)[-1]
        return tail.endswith("Middleware") and "(" not in q and q != N.MIDDLEWARE
    return False


def _local_class(model: Model, q: Optional[str]) -> Optional[ClassInfo]:
    if q and q.startswith(LOCAL + ".") and not q.endswith("()"):
        return model.local_class(q)
    return None


def _middleware_instance_class(model: Model, info: ClassInfo) -> bool:
    """A same-module middleware class whose instances are surely not ``(cls, args, kwargs)`` triples.

    Every base is resolved and is this module's, ``object`` or a Starlette
    middleware class; the class (or a same-module base) defines ``__call__`` or
    subclasses ``BaseHTTPMiddleware``; nothing makes it iterable.
    """
    has_call = False
    todo, seen = [info], set()
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if len(cur.bases) != len(cur.node.bases) or cur.node.keywords:
            return False
        if "__iter__" in cur.methods or "__getitem__" in cur.methods:
            return False
        has_call = has_call or "__call__" in cur.methods
        for base in cur.bases:
            local = _local_class(model, base)
            if local is not None:
                todo.append(local)
            elif _known_middleware_class(base):
                has_call = True
            elif base != "builtins.object":
                return False
    return has_call


def _is_base_http_middleware(model: Model, q: Optional[str]) -> bool:
    if q == N.BASE_HTTP_MIDDLEWARE:
        return True
    info = _local_class(model, q)
    return info is not None and N.BASE_HTTP_MIDDLEWARE in model.class_ancestors(info)


def _top_level_statements(scope: Scope) -> Optional[set[int]]:
    """ids of the expression statements / defs written directly in a module or function body."""
    node = scope.node
    if scope.kind == "module":
        body = node.body  # type: ignore[attr-defined]
    elif scope.kind == "function" and isinstance(node, cst.FunctionDef) and isinstance(node.body, cst.IndentedBlock):
        body = node.body.body
    else:
        return None
    out: set[int] = set()
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Expr):
                    out.add(id(small))
        elif isinstance(stmt, cst.FunctionDef):
            out.add(id(stmt))
    return out


# -------------------------------------------------------------------- STL301
class AddMiddlewareAfterStartup(Rule):
    """
    ## What it does
    Reports `app.add_middleware(...)` (and FastAPI's `@app.middleware("http")`)
    called where the application has already started: inside an endpoint or
    path operation, a lifespan, a startup/shutdown handler, a middleware, an
    exception handler, a dependency, a background task, any other `async def`,
    or a plain `def` that only those call. The app is one built in the module,
    `request.app`, or the lifespan's `app` argument.

    Calls at module level and in an app factory (the function that builds the
    app) are correct and not reported, nor are `async def` entry points run by
    `asyncio.run(...)` or that start the server themselves (`uvicorn.Server`),
    nor pytest tests and fixtures.

    ## Why is this bad?
    Starlette builds the middleware stack on the first ASGI call (the lifespan
    or the first request); after that `add_middleware` raises
    `RuntimeError: Cannot add middleware after an application has started`.
    In an endpoint every request answers 500; in a lifespan the server refuses
    to start (uvicorn exits with code 3).

    ## Example
    ```python
    @asynccontextmanager
    async def lifespan(app):
        app.add_middleware(GZipMiddleware)
        yield
    ```

    ## Use instead
    ```python
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(GZipMiddleware)])
    ```
    """

    code = "STL301"
    name = "add-middleware-after-startup"
    summary = "`add_middleware()` called after the app has started (endpoint, lifespan, middleware, async code)"

    def check(self, model: Model) -> Iterator[Report]:
        late = None
        for site, recv, fn, method in late_app_calls(model, frozenset({"add_middleware", "middleware"})):
            late = late or late_contexts(model)
            ctx = late.describe(fn)
            if method == "middleware":
                if site.decorates is None or recv.fastapi is not True:
                    continue
                yield self.report(
                    site.node,
                    f"@{recv.label}.middleware(...) inside {ctx} registers middleware after the application "
                    f"has started: RuntimeError \"Cannot add middleware after an application has started\"; "
                    f"define the middleware at module level, where the app is built",
                )
                continue
            first = argument(site.node, 0, "middleware_class")
            cls = short(model, first.value) if first is not None else "..."
            yield self.report(
                site.node,
                f"{recv.label}.add_middleware({cls}) in {ctx} runs after the application has started: "
                f"RuntimeError \"Cannot add middleware after an application has started\"; add it where the "
                f"app is built (middleware=[Middleware({cls}, ...)])",
            )


# -------------------------------------------------------------------- STL302
class MiddlewareNotWrapped(Rule):
    """
    ## What it does
    Reports a middleware class (or an instance of one) put straight into a
    `middleware=[...]` list of `Starlette()`, `FastAPI()`, `Router()`,
    `Route()`, `WebSocketRoute()` or `Mount()` instead of
    `Middleware(cls, ...)`, including lists bound once to a module-level name.

    Only classes known to be middleware are judged: Starlette's and uvicorn's
    own, and classes defined in the module. A name bound to `Middleware(...)`
    and a plain `(cls, args, kwargs)` tuple are fine.

    ## Why is this bad?
    Starlette unpacks every entry as `cls, args, kwargs`. A bare class fails
    with `TypeError: cannot unpack non-iterable type object` when the stack is
    built: on the first request (every request under uvicorn, whose lifespan
    is then silently disabled), or at import for routes and mounts.

    ## Example
    ```python
    app = Starlette(routes=routes, middleware=[CORSMiddleware])
    ```

    ## Use instead
    ```python
    app = Starlette(routes=routes, middleware=[Middleware(CORSMiddleware, allow_origins=ORIGINS)])
    ```
    """

    code = "STL302"
    name = "middleware-not-wrapped"
    summary = "middleware class in `middleware=[...]` without `Middleware(...)`"

    def check(self, model: Model) -> Iterator[Report]:
        fw = model.framework
        done: set[int] = set()
        for entry in fw.middleware_entries:
            if entry.kind != "list" or entry.wrapped:
                continue
            owner = f"{_CLASS_LABEL[entry.app.kind]}(middleware=[...])"
            when = ("when the module is imported" if entry.app.kind == "router"
                    else "when the stack is built on the first request")
            yield from self._judge(model, entry.node, entry.app.scope, owner, when, done)
        for route in fw.routes:
            if route.kind not in ("http", "websocket", "mount"):
                continue
            site = model.call_of.get(id(route.node))
            if site is None or model.call_qualname(site) not in (N.ROUTE, N.WEBSOCKET_ROUTE, N.MOUNT):
                continue
            arg = keyword(route.node, "middleware")
            if arg is None:
                continue
            lit = model.constant(arg.value, site.scope)
            owner = f"{class_name(model.call_qualname(site))}(middleware=[...])"
            for el in elements(lit) or ():
                yield from self._judge(model, el, site.scope, owner, "when the module is imported", done)

    def _judge(self, model: Model, el: cst.BaseExpression, scope: Scope, owner: str, when: str,
               done: set[int]) -> Iterator[Report]:
        if id(el) in done:
            return
        done.add(id(el))
        if isinstance(el, (cst.Name, cst.Attribute)):
            q = model.qualname(el, scope)
            if q is None:
                return
            info = _local_class(model, q)
            if not (_known_middleware_class(q) or q == N.MIDDLEWARE or info is not None):
                return
            name = class_name(q)
            yield self.report(
                el,
                f"middleware class {name} is put in {owner} without Middleware(...): Starlette unpacks each "
                f"entry as (cls, args, kwargs) and fails {when} (TypeError: cannot unpack non-iterable type "
                f"object); write Middleware({name}, ...)",
            )
        elif isinstance(el, cst.Call):
            q = model.qualname(el.func, scope)
            if q is None or q == N.MIDDLEWARE:
                return
            info = _local_class(model, q)
            if not (_known_middleware_class(q) or (info is not None and _middleware_instance_class(model, info))):
                return
            name = class_name(q)
            yield self.report(
                el,
                f"{name}(...) instance is put in {owner} instead of Middleware({name}, ...): Starlette unpacks "
                f"each entry as (cls, args, kwargs) and fails {when} (TypeError: cannot unpack non-iterable "
                f"{name} object); write Middleware({name}, ...) with the options as keywords",
            )


# -------------------------------------------------------------------- STL303
class SyncDispatch(Rule):
    """
    ## What it does
    Reports a plain `def dispatch` in a `BaseHTTPMiddleware` subclass, a plain
    `def` decorated with FastAPI's `@app.middleware("http")`, and a plain `def`
    passed as `dispatch=` to `Middleware(BaseHTTPMiddleware, ...)` or
    `add_middleware(BaseHTTPMiddleware, ...)`. Otherwise decorated functions,
    methods passed as `dispatch=`, and classes that override `__call__` or pass
    their own `dispatch=` are not judged. (`@app.middleware` on a Starlette
    app is reported by STL801: Starlette 1.x removed it.)

    ## Why is this bad?
    `BaseHTTPMiddleware` awaits whatever `dispatch` returns. A plain function
    gets an un-awaited coroutine from `call_next(request)`: touching the
    response raises `AttributeError: 'coroutine' object has no attribute
    'headers'`, returning a response raises `TypeError: object
    PlainTextResponse can't be used in 'await' expression`. Every request
    answers 500. (A body that only does `return call_next(request)` works by
    accident until the next edit.)

    ## Example
    ```python
    class Timing(BaseHTTPMiddleware):
        def dispatch(self, request, call_next):
            response = call_next(request)
            response.headers["x-time"] = "1"
            return response
    ```

    ## Use instead
    ```python
    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            response = await call_next(request)
            response.headers["x-time"] = "1"
            return response
    ```
    """

    code = "STL303"
    name = "sync-dispatch"
    summary = "`BaseHTTPMiddleware.dispatch` or `@app.middleware(\"http\")` function that is not `async`"

    _WHY = ("BaseHTTPMiddleware awaits what dispatch returns and call_next(request) gives it an un-awaited "
            "coroutine, so touching the response or returning a Response fails every request with a 500")

    def check(self, model: Model) -> Iterator[Report]:
        fw = model.framework
        done: set[int] = set()
        for info in model.classes:
            fn = info.methods.get("dispatch")
            if fn is None or fn.is_async or fn.decorators or id(fn) in done:
                continue
            if N.BASE_HTTP_MIDDLEWARE not in model.class_ancestors(info):
                continue
            if model._method(info, "__call__") is not None or self._own_dispatch(info):
                continue
            done.add(id(fn))
            yield self.report(
                fn.node,
                f"dispatch() of BaseHTTPMiddleware subclass {info.name} is a plain def: {self._WHY}; "
                f"write async def dispatch(...) and await call_next(request)",
            )
        before_1 = not model.target.range("starlette").allows_from((1, 0))
        for app in fw.apps:
            if app.kind != "fastapi" and not (app.kind == "starlette" and before_1):
                continue  # Starlette 1.x has no app.middleware at all (STL801); 0.x runs it
            for ac in app.calls_named("middleware"):
                fn = ac.decorates if isinstance(ac.decorates, Function) else None
                if fn is None or fn.is_async or id(fn) in done or len(fn.decorators) != 1:
                    continue
                kind = argument(ac.call, 0, "middleware_type")
                lit = model.constant(kind.value, ac.site.scope) if kind is not None else None
                if string_value(lit) != "http":
                    continue
                done.add(id(fn))
                yield self.report(
                    fn.node,
                    f"{fn.name}() registered with @{app.name or 'app'}.middleware(\"http\") is a plain def: "
                    f"{self._WHY}; write async def {fn.name}(request, call_next) and await call_next(request)",
                )
        for mw in fw.middleware:
            if not _is_base_http_middleware(model, mw.cls):
                continue
            d = keyword(mw.node, "dispatch")
            if d is None:
                continue
            fn = model.resolve_function(d.value, mw.site.scope)
            if fn is None or fn.is_async or fn.klass is not None or fn.decorators or id(fn) in done:
                continue
            done.add(id(fn))
            yield self.report(
                fn.node,
                f"{fn.name}() is passed as dispatch= to {class_name(mw.cls)} but is a plain def: {self._WHY}; "
                f"write async def {fn.name}(request, call_next) and await call_next(request)",
            )

    @staticmethod
    def _own_dispatch(info: ClassInfo) -> bool:
        init = info.methods.get("__init__")
        if init is None:
            return False
        return any(keyword(site.node, "dispatch") is not None for site in init.calls)


# -------------------------------------------------------------------- STL304
# Middleware known to answer some requests themselves, and what they answer.
_ANSWERING = {
    N.TRUSTED_HOST_MIDDLEWARE: "a 400 for a Host header not allowed",
    "starlette.middleware.httpsredirect.HTTPSRedirectMiddleware": "a 307 redirect for every http:// request",
    "starlette.middleware.authentication.AuthenticationMiddleware": "a 400 when authentication fails",
}


def _answering(model: Model, o: "_Entry") -> str:
    """An outer middleware's label with what it answers itself, or "" when this module cannot tell."""
    what = _ANSWERING.get(o.cls or "")
    if what is not None:
        return f"{o.label} (answers {what})"
    methods: list[Function] = [o.fn] if o.fn is not None else []
    info = _local_class(model, o.cls) if o.cls is not None else None
    if info is not None:
        for c in [info] + [model.local_class(a) for a in model.class_ancestors(info) if a.startswith(LOCAL + ".")]:
            if c is not None:
                methods.extend(c.methods.values())
    if methods and _makes_response(model, methods):
        return f"{o.label} (builds responses of its own)"
    return ""


def _wrappers(model: Model, outer: list["_Entry"]) -> str:
    """``A (answers ...); B, C (defined elsewhere: ...) wrap``: the outer middleware, each with what it
    answers itself, those from other modules grouped (whether they answer cannot be told here)."""
    known: list[str] = []
    unknown: list[str] = []
    for o in outer:
        shown = _answering(model, o)
        if shown:
            known.append(shown)
        else:
            unknown.append(o.label)
    known, unknown = list(dict.fromkeys(known)), list(dict.fromkeys(unknown))
    parts = known[:]
    if len(unknown) == 1:
        parts.append(f"{unknown[0]} (defined elsewhere: it may answer requests itself, which this module cannot tell)")
    elif unknown:
        parts.append(f"{', '.join(unknown)} (defined elsewhere: they may answer requests themselves, which this "
                     f"module cannot tell)")
    count = len(known) + len(unknown)
    return "; ".join(parts) + (" wrap" if count > 1 else " wraps")


class _Entry:
    __slots__ = ("node", "cls", "how", "label", "fn")

    def __init__(self, node: cst.CSTNode, cls: Optional[str], how: str, label: str = "",
                 fn: Optional[Function] = None) -> None:
        self.node = node
        self.cls = cls
        self.how = how  # list | add | decorator
        self.label = label or class_name(cls, "another middleware")
        self.fn = fn  # the @app.middleware("http") function


class CorsNotOutermost(Rule):
    """
    ## What it does
    Reports `CORSMiddleware` when another user middleware wraps it: it is not
    the first entry of `middleware=[...]`, or it is not the last
    `add_middleware(...)` call for that app (`add_middleware` prepends, so the
    last call is the outermost; every `add_middleware` entry, including
    FastAPI's `@app.middleware("http")`, wraps the whole `middleware=[...]`
    list).

    Each app is judged on its own, only when the order is statically known
    (a literal or module-constant list; `add_middleware` calls written as
    plain statements in the body that builds the app). Middleware that never
    answer a request themselves may sit outside CORS: `GZipMiddleware`,
    `SessionMiddleware`, uvicorn's `ProxyHeadersMiddleware`, OpenTelemetry and
    Sentry middleware, and same-module middleware (an `@app.middleware("http")`
    function, a pure ASGI or `BaseHTTPMiddleware` class, a subclass of one of
    the former) that build no response of their own. Middleware classes from
    other modules may answer (auth, rate limits) and count. Routers have no
    middleware order of their own to judge. The message names, for each
    wrapping middleware, what it answers itself (`TrustedHostMiddleware`: a
    400 for a Host not allowed; `HTTPSRedirectMiddleware`: a 307 redirect;
    `AuthenticationMiddleware`: a 400 when authentication fails; a
    same-module middleware that builds responses), or that it is defined
    elsewhere and this module cannot tell.

    ## Why is this bad?
    Responses made by an outer middleware (an auth 401, a rate-limit 429, an
    HTTPS or trusted-host rejection, a custom error page) never pass through
    `CORSMiddleware`, so they carry no `Access-Control-Allow-Origin`. The
    browser hides the real status and reports a CORS error instead; preflight
    requests can be rejected too.

    ## Example
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
    app.add_middleware(AuthMiddleware)  # outermost: its 401s have no CORS headers
    ```

    ## Use instead
    ```python
    app = FastAPI(middleware=[
        Middleware(CORSMiddleware, allow_origins=ORIGINS),
        Middleware(AuthMiddleware),
    ])
    ```
    """

    code = "STL304"
    name = "cors-not-outermost"
    summary = "`CORSMiddleware` is not the outermost middleware (not first in the list / not the last `add_middleware`)"

    def check(self, model: Model) -> Iterator[Report]:
        fw = model.framework
        listed: dict[int, list[_Entry]] = {}
        for e in fw.middleware_entries:
            if e.kind == "list":
                listed.setdefault(id(e.app), []).append(_Entry(e.node, e.cls, "list"))
        for app in fw.apps:
            if app.kind not in _APP_KINDS:
                continue
            order = self._order(model, app, listed.get(id(app), []))
            if order is None:
                continue
            for i, entry in enumerate(order):
                if entry.cls != N.CORS_MIDDLEWARE or i == 0:
                    continue
                outer = [o for o in order[:i] if not _pass_through(model, o.cls, o.fn)]
                if not outer or any(o.cls == N.CORS_MIDDLEWARE for o in order[:i]):
                    continue
                names = _wrappers(model, outer)
                if entry.how == "list":
                    if any(o.how != "list" for o in outer):
                        fix = ("every add_middleware() call wraps the whole middleware=[...] list, so move those "
                               "middleware into the list after CORSMiddleware")
                    else:
                        fix = "list Middleware(CORSMiddleware, ...) first"
                else:
                    fix = "make add_middleware(CORSMiddleware, ...) the last middleware call for this app"
                yield self.report(
                    entry.node,
                    f"CORSMiddleware is not the outermost middleware of {app_label(app)}: {names} it, and a "
                    f"response made there without calling the app never passes through CORSMiddleware: it carries "
                    f"no CORS headers and the browser reports a CORS error instead of the real status; {fix}",
                )

    def _order(self, model: Model, app: App, listed: list[_Entry]) -> Optional[list[_Entry]]:
        """User middleware from outermost to innermost, or None when not statically known."""
        mw = app.kwarg("middleware")
        if mw is not None:
            lit = model.constant(mw.value, app.scope)
            if lit is None or elements(lit) is None:
                listed = []
                list_known = False
            else:
                list_known = True
        else:
            list_known = True
        added: list[_Entry] = []
        add_scope: Optional[Scope] = None
        for ac in app.calls:
            if ac.method == "add_middleware":
                stmt = ac.site.parent
                first = argument(ac.call, 0, "middleware_class")
                cls = model.qualname(first.value, ac.site.scope) if first is not None else None
                entry = _Entry(ac.call, cls, "add")
            elif ac.method == "middleware" and isinstance(ac.decorates, Function):
                stmt = ac.decorates.node
                entry = _Entry(ac.call, None, "decorator",
                               f"the @{app.name or 'app'}.middleware(\"http\") function {ac.decorates.name}",
                               ac.decorates)
            else:
                continue
            if add_scope is None:
                add_scope = ac.site.scope
            if ac.site.scope is not add_scope:
                return None
            added.append((stmt, entry))  # type: ignore[arg-type]
        if added:
            top = _top_level_statements(add_scope) if add_scope is not None else None
            if top is None or any(id(stmt) not in top for stmt, _ in added):  # type: ignore[misc]
                return None
        order = [entry for _, entry in reversed(added)]  # type: ignore[misc]
        if not list_known:
            return order if any(e.cls == N.CORS_MIDDLEWARE for e in order) else None
        return order + listed


# -------------------------------------------------------------------- STL306
class ModuleLevelAddMiddleware(Rule):
    """
    ## What it does
    (Opt-in.) Reports `app.add_middleware(...)` at module level on a
    Starlette or FastAPI app built in the module. Enable it with
    `--enable-extensions STL306` (flake8) or `extend-select = ["STL306"]`.

    ## Why is this bad?
    `add_middleware` prepends: the last call becomes the outermost
    middleware, so the stack runs in the reverse of the order the code reads.
    That is how CORS ends up inside an auth middleware (STL304). Passing
    `middleware=[Middleware(...), ...]` to the constructor lists the stack
    outermost first, in one place.

    ## Example
    ```python
    app = Starlette(routes=routes)
    app.add_middleware(GZipMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
    ```

    ## Use instead
    ```python
    app = Starlette(routes=routes, middleware=[
        Middleware(CORSMiddleware, allow_origins=ORIGINS),
        Middleware(GZipMiddleware),
    ])
    ```
    """

    code = "STL306"
    name = "module-level-add-middleware"
    summary = "module-level `app.add_middleware()` instead of `middleware=[Middleware(...)]` at construction"
    opt_in = True

    def check(self, model: Model) -> Iterator[Report]:
        for app in model.framework.apps:
            if app.kind not in _APP_KINDS:
                continue
            for ac in app.calls_named("add_middleware"):
                if ac.site.scope is not model.scope:
                    continue
                first = argument(ac.call, 0, "middleware_class")
                cls = short(model, first.value) if first is not None else "..."
                ctor = class_name(app.cls) if app.cls.startswith(LOCAL + ".") else _CLASS_LABEL[app.kind]
                yield self.report(
                    ac.call,
                    f"{app.name or 'app'}.add_middleware({cls}) at module level: add_middleware prepends, so the "
                    f"stack runs in the reverse of the code order; pass middleware=[Middleware({cls}, ...)] to "
                    f"{ctor}() instead, outermost first",
                )


__all__ = [
    "AddMiddlewareAfterStartup",
    "CorsNotOutermost",
    "LateContexts",
    "MiddlewareNotWrapped",
    "ModuleLevelAddMiddleware",
    "Receiver",
    "SyncDispatch",
    "app_label",
    "app_receiver",
    "late_app_calls",
    "late_contexts",
]
