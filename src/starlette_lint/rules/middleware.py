"""STL3xx: middleware registration, shape and order.

The analyses these rules share with others live in :mod:`..analysis`: when code runs
(:mod:`..analysis.lifecycle`) and what a middleware class is
(:mod:`..analysis.middleware_classes`).
"""

from __future__ import annotations

from typing import Iterator, Literal, Optional

import libcst as cst

from .. import names as N
from ..finding import Report
from ..analysis.error_contract import SetupCall, app_errors
from ..analysis.lifecycle import late_app_calls, late_contexts, late_setup_calls, listed, top_level_statements
from ..analysis.middleware_classes import (
    is_base_http_middleware,
    known_middleware_class,
    local_class,
    makes_response,
    middleware_instance_class,
    pass_through,
)
from ..framework import App, Framework
from ..model import (
    LOCAL,
    ClassInfo,
    Function,
    Model,
    Scope,
    argument,
    elements,
    keyword,
    string_value,
)
from .base import Rule


def class_name(q: Optional[str], fallback: str = "middleware") -> str:
    return q.rsplit(".", 1)[-1] if q else fallback


def app_label(app: App) -> str:
    """``app = Starlette()`` (``Starlette()`` when unnamed), with the factory that builds it."""
    factory = app.factory
    return app.label + (f" (built in {factory.qualname})" if factory is not None else "")


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
    nor pytest tests and fixtures. In project mode, a call made there that
    hands the app to a project function which adds middleware
    (`install_cors(app)` in a lifespan) is reported at the call, naming the
    middleware; those added under a condition in that function are left out.

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

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        late = None
        for site, recv, fn, method in late_app_calls(fw, frozenset({"add_middleware", "middleware"})):
            late = late or late_contexts(fw)
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
            cls = model.snippet(first.value) if first is not None else "..."
            yield self.report(
                site.node,
                f"{recv.label}.add_middleware({cls}) in {ctx} runs after the application has started: "
                f"RuntimeError \"Cannot add middleware after an application has started\"; add it where the "
                f"app is built (middleware=[Middleware({cls}, ...)])",
            )
        for site, call, ctx, setup in late_setup_calls(fw):
            shown = listed([f"{m.label} (@middleware)" if m.function else m.label
                            for m in setup.middleware if not m.conditional])
            if shown:
                yield self.report(
                    site.node,
                    f"{call} in {ctx} adds middleware ({shown}, in {setup.label}) after the application has started: "
                    f"RuntimeError \"Cannot add middleware after an application has started\"; call it where the "
                    f"app is built",
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

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        done: set[int] = set()
        for entry in fw.middleware_entries:
            if entry.kind != "list" or entry.wrapped:
                continue
            owner = f"{entry.app.class_label}(middleware=[...])"
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

    def _judge(self, model: Model, el: cst.CSTNode, scope: Scope, owner: str, when: str,
               done: set[int]) -> Iterator[Report]:
        if id(el) in done:
            return
        done.add(id(el))
        if isinstance(el, (cst.Name, cst.Attribute)):
            q = model.qualname(el, scope)
            if q is None:
                return
            info = local_class(model, q)
            if not (known_middleware_class(q) or q == N.MIDDLEWARE or info is not None):
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
            info = local_class(model, q)
            if not (known_middleware_class(q) or (info is not None and middleware_instance_class(model, info))):
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

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
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
            if not is_base_http_middleware(model, mw.cls):
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


def _answering(fw: Framework, o: "_Entry") -> str:
    """An outer middleware's label with what it answers itself, or "" when this module cannot tell."""
    what = _ANSWERING.get(o.cls or "")
    if what is not None:
        return f"{o.label} (answers {what})"
    if o.responds:
        return f"{o.label} (builds responses of its own)"
    model = fw.model
    methods: list[Function] = [o.fn] if o.fn is not None else []
    info = local_class(model, o.cls) if o.cls is not None else None
    if info is not None:
        for c in [info] + [model.local_class(a) for a in model.class_ancestors(info) if a.startswith(LOCAL + ".")]:
            if c is not None:
                methods.extend(c.methods.values())
    if methods and makes_response(fw, methods):
        return f"{o.label} (builds responses of its own)"
    return ""


def _wrappers(fw: Framework, outer: list["_Entry"]) -> str:
    """``A (answers ...); B, C (defined elsewhere: ...) wrap``: the outer middleware, each with what it
    answers itself, those from other modules grouped (whether they answer cannot be told here)."""
    known: list[str] = []
    unknown: list[str] = []
    for o in outer:
        shown = _answering(fw, o)
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
    __slots__ = ("node", "cls", "how", "label", "fn", "via", "responds")

    def __init__(self, node: cst.CSTNode, cls: Optional[str], how: Literal["list", "add", "decorator", "setup"],
                 label: str = "", fn: Optional[Function] = None, via: Optional[str] = None,
                 responds: Optional[bool] = None) -> None:
        self.node = node
        self.cls = cls
        self.how = how
        self.label = label or class_name(cls, "another middleware")
        self.fn = fn  # the @app.middleware("http") function
        self.via = via  # added by this project function (``how == "setup"``), which the call at ``node`` runs
        self.responds = responds  # a function middleware added there: it builds responses of its own

    @property
    def passes_through(self) -> bool:
        """A function middleware from another module that builds no response of its own."""
        return self.responds is False


def _passes(fw: Framework, o: _Entry) -> bool:
    return o.passes_through or pass_through(fw, o.cls, o.fn)


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

    In project mode (the default), the middleware a project function adds to
    the app handed to it (`install_cors(app)`, `add_ip_block_middleware(app)`)
    take their place in the order at that call, when the call is a plain
    statement of the body that builds the app; an `@app.middleware("http")`
    function added there wraps CORS harmlessly unless it builds a response.
    Middleware it adds under a condition are left out, and a CORSMiddleware
    added under a condition, or by a call under one, makes the order unknown.

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

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        listed: dict[int, list[_Entry]] = {}
        for e in fw.middleware_entries:
            if e.kind == "list":
                listed.setdefault(id(e.app), []).append(_Entry(e.node, e.cls, "list"))
        for app in fw.apps:
            if not app.is_application:
                continue
            order = self._order(fw, app, listed.get(id(app), []))
            if order is None:
                continue
            for i, entry in enumerate(order):
                if entry.cls != N.CORS_MIDDLEWARE or i == 0:
                    continue
                outer = [o for o in order[:i] if not _passes(fw, o)]
                if not outer or any(o.cls == N.CORS_MIDDLEWARE for o in order[:i]):
                    continue
                names = _wrappers(fw, outer)
                if entry.how == "list":
                    if any(o.how != "list" for o in outer):
                        fix = ("every add_middleware() call wraps the whole middleware=[...] list, so move those "
                               "middleware into the list after CORSMiddleware")
                    else:
                        fix = "list Middleware(CORSMiddleware, ...) first"
                elif entry.how == "setup":
                    if all(o.node is entry.node for o in outer):
                        fix = f"in {entry.via}, make add_middleware(CORSMiddleware, ...) the last middleware call"
                    else:
                        fix = f"call {entry.via} after every other middleware is added, so that its CORSMiddleware is outermost"
                else:
                    fix = "make add_middleware(CORSMiddleware, ...) the last middleware call for this app"
                yield self.report(
                    entry.node,
                    f"CORSMiddleware is not the outermost middleware of {app_label(app)}: {names} it, and a "
                    f"response made there without calling the app never passes through CORSMiddleware: it carries "
                    f"no CORS headers and the browser reports a CORS error instead of the real status; {fix}",
                )

    def _order(self, fw: Framework, app: App, listed: list[_Entry]) -> Optional[list[_Entry]]:
        """User middleware from outermost to innermost, or None when not statically known."""
        model = fw.model
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
        added: list[tuple[cst.CSTNode, _Entry]] = []
        add_scope: Optional[Scope] = None
        for ac in app.calls:
            stmt: Optional[cst.CSTNode]
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
            if ac.site.scope is not add_scope or stmt is None:
                return None
            added.append((stmt, entry))
        if added:
            top = top_level_statements(add_scope) if add_scope is not None else None
            if top is None or any(id(node) not in top for node, _ in added):
                return None
        setups = [sc for sc in app_errors(fw).setups.get(id(app), ()) if sc.setup.middleware]
        if setups:  # project mode: functions of the project that add middleware (``install_cors(app)``)
            merged = self._with_setups(model, app, added, add_scope, setups)
            if merged is None:
                return None
            added = merged
        order = [entry for _, entry in reversed(added)]
        if not list_known:
            return order if any(e.cls == N.CORS_MIDDLEWARE for e in order) else None
        return order + listed

    @staticmethod
    def _with_setups(model: Model, app: App, added: list[tuple[cst.CSTNode, _Entry]], scope: Optional[Scope],
                     setups: list[SetupCall]) -> Optional[list[tuple[cst.CSTNode, _Entry]]]:
        """``added`` with the middleware project functions add, in the order the calls run; None when
        that order is unknown (a call under a condition, or in another body, adds CORSMiddleware)."""
        merged = list(added)
        for sc in setups:
            cors = any(m.cls == N.CORS_MIDDLEWARE for m in sc.setup.middleware)
            if not sc.top or (scope is not None and sc.site.scope is not scope):
                if cors:
                    return None
                continue  # runs only sometimes: it may wrap CORS then, which is not reported
            scope = sc.site.scope
            for m in sc.setup.middleware:
                if m.conditional:
                    if m.cls == N.CORS_MIDDLEWARE:
                        return None
                    continue
                if m.cls is None and not m.function:
                    return None  # a class it cannot name (a parameter, a loop variable): may be CORS
                label = (f'the @{app.name or "app"}.middleware("http") function {m.label}' if m.function
                         else class_name(m.cls, m.label)) + f" from {sc.setup.label}"
                merged.append((sc.site.node, _Entry(sc.site.node, m.cls, "setup", label, via=sc.setup.label,
                                                    responds=m.responds if m.function else None)))
        order = {id(site.node): i for i, site in enumerate(model.calls)}
        if any(id(entry.node) not in order for _, entry in merged):
            return None
        merged.sort(key=lambda pair: order[id(pair[1].node)])  # stable: the middleware of one call keep theirs
        return merged


# -------------------------------------------------------------------- STL306
class ModuleLevelAddMiddleware(Rule):
    """
    ## What it does
    (Opt-in.) Reports `app.add_middleware(...)` at module level on a
    Starlette or FastAPI app built in the module. Enable it with
    `--extend-select STL306` (flake8 or the command) or `extend-select = ["STL306"]`.

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

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for app in fw.apps:
            if not app.is_application:
                continue
            for ac in app.calls_named("add_middleware"):
                if ac.site.scope is not model.scope:
                    continue
                first = argument(ac.call, 0, "middleware_class")
                cls = model.snippet(first.value) if first is not None else "..."
                ctor = class_name(app.cls) if app.cls.startswith(LOCAL + ".") else app.class_label
                yield self.report(
                    ac.call,
                    f"{app.name or 'app'}.add_middleware({cls}) at module level: add_middleware prepends, so the "
                    f"stack runs in the reverse of the code order; pass middleware=[Middleware({cls}, ...)] to "
                    f"{ctor}() instead, outermost first",
                )


__all__ = [
    "AddMiddlewareAfterStartup",
    "CorsNotOutermost",
    "MiddlewareNotWrapped",
    "ModuleLevelAddMiddleware",
    "SyncDispatch",
]
