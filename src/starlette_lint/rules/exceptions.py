"""STL4xx: exception handlers."""

from __future__ import annotations

import builtins
import http
import re
from typing import Iterator, Optional

import libcst as cst

from .. import names as N
from ..finding import Report
from ..framework import App, HandlerReg
from ..model import (
    arity_problem,
    LOCAL,
    ClassInfo,
    Function,
    Model,
    Scope,
    argument,
    int_value,
    keyword,
    positional,
    string_value,
    walk,
)
from .base import Rule
from .middleware import app_label, app_receiver, is_test_function, late_app_calls, late_contexts, short

_APP_KINDS = ("starlette", "fastapi")
_HTTP_EXCEPTIONS = frozenset({"starlette.exceptions.HTTPException", "fastapi.exceptions.HTTPException"})
_KNOWN_EXCEPTION_MODULES = ("starlette.exceptions.", "fastapi.exceptions.")

# Calls that only serve or wrap an app: passing the app to them configures nothing.
_SERVE_OR_WRAP = frozenset({
    "uvicorn.run", "uvicorn.main.run", "uvicorn.Config", "uvicorn.config.Config",
    "hypercorn.asyncio.serve", "hypercorn.trio.serve",
    "starlette.testclient.TestClient", "httpx.ASGITransport", "httpx2.ASGITransport",
    "httpx.AsyncClient", "httpx.Client", "httpx2.AsyncClient", "httpx2.Client",
    "asgi_lifespan.LifespanManager", "mangum.Mangum",
    N.MOUNT, N.HOST,
})
# Middleware that turn exceptions into responses: an app wrapped in them may handle its 500s.
_ERROR_MIDDLEWARE = frozenset({"starlette.middleware.errors.ServerErrorMiddleware",
                               "starlette.middleware.exceptions.ExceptionMiddleware"})
# Responses that show a module serves pages or plain text, not a JSON API.
_HTML_ONLY = ("starlette.templating.Jinja2Templates", "starlette.responses.HTMLResponse",
              "starlette.responses.PlainTextResponse")
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")
_HANDLER_METHODS = frozenset({"add_exception_handler", "exception_handler"})
_ROUTING_METHODS = frozenset(set(N.PATH_OPERATION_METHODS) | {
    "route", "websocket_route", "add_route", "add_websocket_route", "add_api_route", "add_api_websocket_route",
    "mount", "host", "include_router",
})

# Key kinds
HTTP_EXC = "http"  # HTTPException (or a subclass)
ALL = "all"  # Exception itself
EXC = "exception"  # another exception class
STATUS = "status"
NOT_EXC = "not_exception"
BASE_EXC = "base_exception"  # a BaseException that is not an Exception
UNKNOWN_CLASS = "unknown_class"  # an imported class we cannot see (surely not 500 / Exception)
UNKNOWN = "unknown"


class Key:
    __slots__ = ("kind", "status", "what")

    def __init__(self, kind: str, status: Optional[int] = None, what: str = "") -> None:
        self.kind = kind
        self.status = status
        self.what = what  # for NOT_EXC / BASE_EXC messages


def _builtin_key(name: str) -> Key:
    obj = getattr(builtins, name, None)
    if isinstance(obj, type):
        if issubclass(obj, Exception):
            return Key(ALL if obj is Exception else EXC)
        if issubclass(obj, BaseException):
            return Key(BASE_EXC, what=f"{name} (a BaseException, not an Exception)")
        return Key(NOT_EXC, what=f"the builtin type {name}")
    if obj is None:
        return Key(NOT_EXC, what="None")
    if isinstance(obj, bool):
        return Key(STATUS, int(obj))
    return Key(NOT_EXC, what=f"the builtin {name}")


def _local_class_key(model: Model, info: ClassInfo) -> Key:
    found: Optional[str] = None
    todo, seen = [info], set()
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if len(cur.bases) != len(cur.node.bases):
            return Key(UNKNOWN)
        for base in cur.bases:
            if base.startswith(LOCAL + "."):
                local = model.local_class(base)
                if local is None:
                    return Key(UNKNOWN)
                todo.append(local)
            elif base in _HTTP_EXCEPTIONS:
                return Key(HTTP_EXC)
            elif base.startswith("builtins."):
                k = _builtin_key(base[len("builtins."):])
                if k.kind in (ALL, EXC):
                    found = EXC
                elif k.kind == BASE_EXC and found is None:
                    found = BASE_EXC
                elif base != "builtins.object":
                    return Key(UNKNOWN)
            elif base.startswith(_KNOWN_EXCEPTION_MODULES) and "(" not in base:
                found = EXC
            else:
                return Key(UNKNOWN)
    if found == EXC:
        return Key(EXC)
    if found == BASE_EXC:
        return Key(BASE_EXC, what=f"{info.name} (a BaseException, not an Exception)")
    return Key(NOT_EXC, what=f"the class {info.name}, which is not an exception")


def classify_key(model: Model, expr: Optional[cst.BaseExpression], scope: Scope, _depth: int = 0) -> Key:
    """What a handler registration key is."""
    if expr is None or _depth > 5:
        return Key(UNKNOWN)
    n = int_value(expr)
    if n is not None:
        return Key(STATUS, n)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        if isinstance(expr, cst.Name):
            lit = model.constant(expr, scope)
            if lit is not None and lit is not expr and not isinstance(lit, cst.Name):
                return classify_key(model, lit, scope, _depth + 1)
        q = model.qualname(expr, scope)
        if q is None:
            return Key(UNKNOWN)
        if q.startswith("builtins.") and q.count(".") == 1:
            return _builtin_key(q[len("builtins."):])
        if q in _HTTP_EXCEPTIONS:
            return Key(HTTP_EXC)
        if q.startswith(LOCAL + ".") and "(" not in q:
            info = model.local_class(q)
            if info is not None:
                return _local_class_key(model, info)
            if model.resolve_function(expr, scope) is not None:
                return Key(NOT_EXC, what=f"the function {q[len(LOCAL) + 1:]}")
            return Key(UNKNOWN)
        m = re.match(r"^starlette\.status\.(?:HTTP|WS)_(\d{3,4})_", q)
        if m:
            return Key(STATUS, int(m.group(1)))
        if q.startswith("http.HTTPStatus."):
            member = http.HTTPStatus.__members__.get(q[len("http.HTTPStatus."):])
            return Key(STATUS, member.value) if member is not None else Key(UNKNOWN)
        if q.startswith(_KNOWN_EXCEPTION_MODULES) and "(" not in q:
            return Key(EXC)
        tail = q.rsplit(".", 1)[-1]
        if "(" not in q and tail[:1].isupper() and any(c.islower() for c in tail):
            return Key(UNKNOWN_CLASS)
        return Key(UNKNOWN)
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        return Key(NOT_EXC, what=f"the string {short(model, expr)}")
    if isinstance(expr, cst.FormattedString):
        return Key(NOT_EXC, what="a string")
    if isinstance(expr, (cst.Float, cst.Imaginary)):
        return Key(NOT_EXC, what=f"the number {short(model, expr)}")
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set, cst.Dict)):
        return Key(NOT_EXC, what=f"the {type(expr).__name__.lower()} {short(model, expr)}")
    return Key(UNKNOWN)


def _site_scope(model: Model, reg: HandlerReg) -> Optional[Scope]:
    if reg.kind == "dict":
        return reg.app.scope if reg.app is not None else None
    site = model.call_of.get(id(reg.node))
    return site.scope if site is not None else None


class Registrations:
    """Every exception handler registration the module shows, with its scope."""

    def __init__(self, model: Model) -> None:
        fw = model.framework
        self.items: list[tuple[HandlerReg, Scope]] = []
        known: set[int] = set()
        for reg in fw.handlers:
            scope = _site_scope(model, reg)
            if scope is not None:
                self.items.append((reg, scope))
            known.add(id(reg.node))
        # factories: ``app = create_app()`` then ``app.add_exception_handler(...)``
        self.factory_apps: dict[int, list[App]] = {}
        for app in fw.apps:
            if app.kind in _APP_KINDS and app.factory is not None:
                self.factory_apps.setdefault(id(app.factory), []).append(app)
        for site in model.calls:
            func = site.node.func
            if id(site.node) in known or not isinstance(func, cst.Attribute) or func.attr.value not in _HANDLER_METHODS:
                continue
            apps = self.apps_of(model, func.value, site.scope)
            recv = None if apps else app_receiver(model, func.value, site)
            if not apps and recv is None:
                continue
            call = site.node
            key = argument(call, 0, "exc_class_or_status_code")
            if func.attr.value == "exception_handler":
                if site.decorates is None:
                    continue
                fn = site.decorates if isinstance(site.decorates, Function) else None
                regs = [HandlerReg(a, "decorator", call, key.value if key else None, None, fn) for a in apps or [None]]
            else:
                h = argument(call, 1, "handler")
                fn = model.resolve_function(h.value, site.scope) if h is not None else None
                regs = [HandlerReg(a, "add", call, key.value if key else None, h.value if h else None, fn)
                        for a in apps or [None]]
            for reg in regs:
                self.items.append((reg, site.scope))

    def apps_of(self, model: Model, expr: cst.BaseExpression, scope: Scope) -> list[App]:
        """Apps an expression refers to: a construction, or the result of a same-module app factory."""
        fw = model.framework
        app = fw.app_for(expr, scope)
        if app is not None:
            return [app] if app.kind in _APP_KINDS else []
        if not self.factory_apps:
            return []
        found = model.value_of(expr, scope) if isinstance(expr, cst.Name) else None
        call = found[0] if found is not None else expr
        if isinstance(call, cst.Call):
            fn = model.resolve_function(call.func, found[1] if found is not None else scope)
            if fn is not None:
                return list(self.factory_apps.get(id(fn), ()))
        return []


def registrations(model: Model) -> Registrations:
    regs = model.cache.get("stl:exception_registrations")
    if regs is None:
        regs = model.cache["stl:exception_registrations"] = Registrations(model)
    return regs


# -------------------------------------------------------------- STL401/402
def _broad_except(model: Model, fn: Function) -> bool:
    """The function catches every exception (``except:``, ``except Exception``)."""
    for node in walk(fn.node):
        if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
            t = node.type
            if t is None:
                return True
            types = [e.value for e in t.elements] if isinstance(t, cst.Tuple) else [t]
            for e in types:
                if model.qualname(e, fn.scope) in ("builtins.Exception", "builtins.BaseException"):
                    return True
    return False


class _AppErrors:
    """Which apps cannot be judged (configured where the module cannot see) and what each handles."""

    def __init__(self, model: Model) -> None:
        self.model = model
        fw = model.framework
        regs = registrations(model)
        self.handed_over: set[int] = set()
        self.keys: dict[int, list[Key]] = {}
        self.unknown_handlers: set[int] = set()
        for reg, scope in regs.items:
            if reg.app is None or reg.kind == "dict":
                continue
            self.keys.setdefault(id(reg.app), []).append(classify_key(model, reg.key, scope))
        # Apps passed to a function that may configure them.
        for site in model.calls:
            args = site.node.args
            if not args:
                continue
            hits: list[App] = []
            for arg in args:
                v = arg.value
                if isinstance(v, cst.Call):
                    a = fw.app_by_call.get(id(v))
                    if a is not None:
                        hits.append(a)
                elif isinstance(v, cst.Name):
                    hits.extend(regs.apps_of(model, v, site.scope))
            if not hits or self._serves(site):
                continue
            for a in hits:
                self.handed_over.add(id(a))
        self.mutated_elsewhere = re.search(r"\.\s*exception_handlers\b", model.source) is not None

    def _serves(self, site) -> bool:
        model = self.model
        q = model.call_qualname(site)
        if q in _SERVE_OR_WRAP:
            return True
        if q and q.startswith(("starlette.middleware.", "uvicorn.middleware.")) and q.endswith("Middleware") \
                and q not in _ERROR_MIDDLEWARE:
            return True
        func = site.node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("mount", "host"):
            parent = model.framework.app_for(func.value, site.scope)
            return parent is not None
        return False

    def middleware_may_handle_errors(self, app: App) -> bool:
        model, fw = self.model, self.model.framework
        mw = app.kwarg("middleware")
        if mw is not None and not any(e.app is app and e.kind == "list" for e in fw.middleware_entries):
            lit = model.constant(mw.value, app.scope)
            if lit is None or not isinstance(lit, (cst.List, cst.Tuple)) or lit.elements:
                return True  # a list we cannot read
        for e in fw.middleware_entries:
            if e.app is not app:
                continue
            scope = app.scope if e.kind == "list" else model.call_of[id(e.node)].scope
            if self._may_handle(e.cls, e.node if isinstance(e.node, cst.Call) else None, scope):
                return True
        for ac in app.calls_named("middleware"):
            fn = ac.decorates if isinstance(ac.decorates, Function) else None
            if fn is None or _broad_except(model, fn):
                return True
        return False

    def _may_handle(self, cls: Optional[str], call: Optional[cst.Call], scope: Scope) -> bool:
        model = self.model
        if cls is None:
            return True
        if cls in _ERROR_MIDDLEWARE:
            return True
        if cls == N.BASE_HTTP_MIDDLEWARE:
            d = keyword(call, "dispatch") if call is not None else None
            fn = model.resolve_function(d.value, scope) if d is not None else None
            return fn is None or _broad_except(model, fn)
        if cls.startswith(("starlette.middleware.", "uvicorn.middleware.")):
            return False
        if cls.startswith(LOCAL + "."):
            info = model.local_class(cls)
            if info is None:
                return True
            for name in ("dispatch", "__call__"):
                fn = model._method(info, name)
                if fn is not None and _broad_except(model, fn):
                    return True
            ancestors = model.class_ancestors(info)
            return any(not (b.startswith(LOCAL + ".") or b == "builtins.object" or b.startswith("starlette.middleware."))
                       for b in ancestors)
        return True

    def judge(self, app: App) -> Optional[tuple[bool, bool]]:
        """(has a 4xx handler, has a 500 handler), or None when the app cannot be judged."""
        model = self.model
        call = app.call
        if app.kind not in _APP_KINDS or app.cls.startswith(LOCAL + ".") or app.scope.kind in ("class", "lambda"):
            return None
        if self.mutated_elsewhere or id(app) in self.handed_over:
            return None
        if app.factory is not None and is_test_function(model, app.factory):
            return None
        if _TEST_FILE.search(model.filename.replace("\\", "/")):
            return None
        if any(arg.star for arg in call.args):
            return None
        if app.name is not None:
            bindings, _ = model.lookup(app.name, app.scope)
            if bindings is None or len(bindings) != 1:
                return None
        if not self._serves_routes(app):
            return None
        if app.kind == "starlette" and model.imports_any(*_HTML_ONLY) and not any(
                q.endswith("JSONResponse") for q in model.imported):
            return None
        keys = list(self.keys.get(id(app), ()))
        eh = app.kwarg("exception_handlers")
        if eh is None and app.kind == "starlette":
            eh = positional(call, 3)
        if eh is not None:
            lit = model.constant(eh.value, app.scope)
            if not isinstance(lit, cst.Dict):
                return None
            if isinstance(eh.value, cst.Name) and self._dict_mutated(eh.value.value):
                return None
            for el in lit.elements:
                if not isinstance(el, cst.DictElement):
                    return None
                keys.append(classify_key(model, el.key, app.scope))
        if any(k.kind == UNKNOWN for k in keys):
            return None
        has_4xx = any(k.kind in (HTTP_EXC, UNKNOWN_CLASS) or (k.kind == STATUS and 400 <= (k.status or 0) <= 499)
                      for k in keys)
        has_500 = any(k.kind == ALL or (k.kind == STATUS and k.status == 500) for k in keys)
        return has_4xx, has_500

    def _serves_routes(self, app: App) -> bool:
        """The module gives the app something to serve (else it is configured elsewhere, or a stub)."""
        routes = app.kwarg("routes") or (positional(app.call, 1) if app.kind == "starlette" else None)
        if routes is not None:
            lit = self.model.constant(routes.value, app.scope)
            if not (isinstance(lit, (cst.List, cst.Tuple)) and not lit.elements):
                return True
        if any(ac.method in _ROUTING_METHODS for ac in app.calls):
            return True
        return any(r.app is app for r in self.model.framework.routes)

    def mounts_only(self, app: App) -> bool:
        """Everything the app serves is a mounted ASGI app (``Mount(path, app=...)``, ``app.mount``, ``Host``).

        A mounted Starlette/FastAPI app answers its own errors (its own
        ServerErrorMiddleware sends the 500 before the parent sees the
        exception), so a 500 handler on such a root app would never run for
        them; the mounted apps are judged on their own.
        """
        model = self.model
        routes = app.kwarg("routes") or (positional(app.call, 1) if app.kind == "starlette" else None)
        if routes is not None:
            lit = model.constant(routes.value, app.scope)
            if not isinstance(lit, (cst.List, cst.Tuple)):
                return False
            for el in lit.elements:
                if not isinstance(el.value, cst.Call) or not self._mounts_an_app(el.value, app.scope):
                    return False
        for ac in app.calls:
            if ac.method in _ROUTING_METHODS and ac.method not in ("mount", "host"):
                return False
            if ac.method in ("mount", "host"):
                target = argument(ac.call, 1, "app")
                if target is None or not self._not_a_router(target.value, ac.site.scope):
                    return False
        for r in model.framework.routes:
            if r.app is app and r.kind not in ("mount", "host"):
                return False
        return True

    def _mounts_an_app(self, call: cst.Call, scope: Scope) -> bool:
        """``Mount(path, app=X)`` / ``Host(host, app=X)`` where X is not a router (a router's routes are this app's)."""
        if self.model.qualname(call.func, scope) not in (N.MOUNT, N.HOST):
            return False
        target = argument(call, 1, "app")
        if keyword(call, "routes") is not None or target is None:
            return False
        return self._not_a_router(target.value, scope)

    def _not_a_router(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        mounted = self.model.framework.app_for(expr, scope)
        return mounted is None or mounted.kind in _APP_KINDS

    def _dict_mutated(self, name: str) -> bool:
        pattern = r"\b" + re.escape(name) + r"\s*(\[|\.\s*(update|setdefault|__setitem__)\b)"
        return re.search(pattern, self.model.source) is not None


def _app_errors(model: Model) -> _AppErrors:
    found = model.cache.get("stl:app_errors")
    if found is None:
        found = model.cache["stl:app_errors"] = _AppErrors(model)
    return found


_SUPPRESSION_DOC = """
    An app is judged within the body that builds it (the module, or an app
    factory), counting handlers given as `exception_handlers={...}` (a literal
    or a module constant dict), `add_exception_handler(...)` and
    `@app.exception_handler(...)`, also on the result of a same-module factory
    (`app = create_app()`). It is not judged (nothing is reported) when its
    handlers may be set where the module cannot see them:

    * the app is passed to any call (`setup(app)`, `register_handlers(app)`,
      `init_app(app)`, `Instrumentator().instrument(app)`), except calls that
      only serve or wrap it (`uvicorn.run`, `TestClient`, `Mount`, `Host`,
      `httpx.ASGITransport`, Starlette middleware classes, `Mangum`);
    * `exception_handlers=` is not a readable dict (a function call, settings,
      a `**` splat, a module dict that is later mutated), the constructor gets
      `*args`/`**kwargs`, or a key is an unreadable value;
    * the module touches `.exception_handlers` directly;
    * the app's variable is bound more than once, the app class is a subclass
      defined in the module, the app is built in a lambda (a factory handed to
      someone else) or a class body, or in a pytest test, fixture or test
      module (`test_*.py`, `*_test.py`, `conftest.py`);
    * the module gives the app nothing to serve (no `routes=`, route
      decorators, `add_route`, `mount`, `include_router`): it is a stub, or
      configured elsewhere.

    Starlette apps in modules that render HTML or plain text (`Jinja2Templates`,
    `HTMLResponse`, `PlainTextResponse`) and use no JSON response are not
    judged either: a text/plain error page is what such sites serve, so there
    is no JSON error format to keep. Mounted sub-apps are apps:
    they answer their own errors with their own handlers, so each is judged.
"""


class MissingHttpExceptionHandler(Rule):
    __doc__ = """
    ## What it does
    Reports a Starlette app (`Starlette()`, not FastAPI, whose default
    handlers answer JSON) that has no handler for `HTTPException` nor for any
    4xx status code. The finding points at the app's construction.
    """ + _SUPPRESSION_DOC + """
    A handler for a subclass of `HTTPException`, or for an imported exception
    class the module cannot see, counts as one.

    ## Why is this bad?
    Without a handler, Starlette answers `raise HTTPException(404, ...)`,
    unknown paths and wrong methods with `text/plain` bodies (`Not Found`).
    API clients that expect the API's JSON error format fail to parse them.

    ## Example
    ```python
    app = Starlette(routes=routes)
    ```

    ## Use instead
    ```python
    async def http_error(request, exc):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    ```
    """

    code = "STL401"
    name = "missing-http-exception-handler"
    summary = "Starlette app without a handler for `HTTPException` or any 4xx status"

    def check(self, model: Model) -> Iterator[Report]:
        errors = None
        for app in model.framework.apps:
            if app.kind != "starlette":
                continue
            errors = errors or _app_errors(model)
            verdict = errors.judge(app)
            if verdict is None or verdict[0]:
                continue
            yield self.report(
                app.call,
                f"{app_label(app)} has no handler for HTTPException or 4xx status codes: errors reach API clients "
                f"as text/plain; add exception_handlers={{HTTPException: ...}}",
            )


class MissingServerErrorHandler(Rule):
    __doc__ = """
    ## What it does
    Reports a Starlette or FastAPI app with no handler for `Exception` or
    for status `500`. The finding points at the app's construction.
    """ + _SUPPRESSION_DOC + """
    An app that only mounts other ASGI apps (`Mount(path, app=...)`,
    `app.mount(...)`, `Host`; a mounted `Router` is the app's own routes) is
    not judged either: a mounted Starlette or FastAPI app answers its own
    errors before the parent sees them (the mounted apps are judged on their
    own), and an app that only serves `StaticFiles` is no JSON API.

    An app with a middleware that may turn exceptions into responses (an
    `@app.middleware("http")` function or same-module middleware class with
    `except Exception:`, a middleware class the module cannot see,
    `ServerErrorMiddleware`) is not judged.

    ## Why is this bad?
    An unhandled exception becomes a bare `text/plain` `Internal Server
    Error` (or, with `debug=True`, a traceback page) instead of the API's
    error format; clients cannot parse it and nothing tags the failure.

    ## Example
    ```python
    app = FastAPI()
    ```

    ## Use instead
    ```python
    async def server_error(request, exc):
        return JSONResponse({"detail": "internal error"}, status_code=500)

    app = FastAPI(exception_handlers={Exception: server_error})
    ```
    """

    code = "STL402"
    name = "missing-server-error-handler"
    summary = "Starlette/FastAPI app without a handler for `Exception` / 500"

    def check(self, model: Model) -> Iterator[Report]:
        errors = None
        for app in model.framework.apps:
            if app.kind not in _APP_KINDS:
                continue
            errors = errors or _app_errors(model)
            verdict = errors.judge(app)
            if verdict is None or verdict[1] or errors.middleware_may_handle_errors(app) or errors.mounts_only(app):
                continue
            yield self.report(
                app.call,
                f"{app_label(app)} has no handler for Exception or 500: unhandled errors reach clients as a bare "
                f"text/plain \"Internal Server Error\" instead of the API's error format; add "
                f"exception_handlers={{Exception: ...}}",
            )


# ------------------------------------------------------------------ STL403
class HandlerSignature(Rule):
    """
    ## What it does
    Reports an exception handler that cannot be called with exactly two
    positional arguments `(request, exc)`: too few or too many required
    parameters, or a required keyword-only parameter. Handlers named in
    `exception_handlers={...}`, `add_exception_handler(...)` and FastAPI's
    `@app.exception_handler(...)` are checked when they are functions or
    lambdas of this module; methods and otherwise decorated functions are not
    judged. Defaults and `*args` are taken into account.

    ## Why is this bad?
    Starlette calls `handler(request, exc)` only when the error happens. A
    wrong signature raises `TypeError` right then, and the error the handler
    was meant to shape becomes a bare 500.

    ## Example
    ```python
    async def not_found(request):
        return JSONResponse({"detail": "not found"}, status_code=404)

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    ```

    ## Use instead
    ```python
    async def not_found(request, exc):
        return JSONResponse({"detail": "not found"}, status_code=404)
    ```
    """

    code = "STL403"
    name = "exception-handler-signature"
    summary = "exception handler that cannot be called as `handler(request, exc)`"

    def check(self, model: Model) -> Iterator[Report]:
        done: set[int] = set()
        for reg, scope in registrations(model).items:
            key = short(model, reg.key) if reg.key is not None else "?"
            fn = reg.function
            if fn is not None:
                if id(fn.node) in done or fn.klass is not None:
                    continue
                allowed = 1 if reg.kind == "decorator" else 0
                if len(fn.decorators) != allowed:
                    continue
                problem = arity_problem(fn.node.params, 2)
                node: cst.CSTNode = fn.node
                name = fn.name
            elif isinstance(reg.handler, cst.Lambda):
                if id(reg.handler) in done:
                    continue
                problem = arity_problem(reg.handler.params, 2)
                node = reg.handler
                name = "lambda"
            else:
                continue
            if problem is None:
                continue
            done.add(id(node))
            yield self.report(
                node,
                f"exception handler {name} for {key} cannot be called as handler(request, exc): {problem}; "
                f"Starlette raises TypeError when the error happens and answers a bare 500; "
                f"take exactly (request, exc)",
            )


# ------------------------------------------------------------------ STL404
class HandlerKey(Rule):
    """
    ## What it does
    Reports an exception handler registered for something that is neither an
    exception class nor an HTTP error status: a status outside 400-599 (`200`,
    `302`, `True`), a string (`"404"`), `None`, a tuple, a function, a class of
    this module that is not an exception, or a `BaseException` that is not an
    `Exception` (`KeyboardInterrupt`). Imported names the module cannot see are
    not judged, nor is a non-error status that the module itself raises as
    `HTTPException(status)`. The finding points at the key.

    ## Why is this bad?
    Status handlers are only looked up for `HTTPException.status_code`: a
    handler for `200` is never called. Any other key that is not an
    `Exception` subclass is worse: Starlette checks `issubclass(key,
    Exception)` when it builds the middleware stack, so the first request (or
    the lifespan startup) fails with `TypeError: issubclass() arg 1 must be a
    class` or `AssertionError`, and the whole app is down.

    ## Example
    ```python
    app = Starlette(exception_handlers={"404": not_found, 200: log_ok})
    ```

    ## Use instead
    ```python
    app = Starlette(exception_handlers={404: not_found})
    ```
    """

    code = "STL404"
    name = "exception-handler-key"
    summary = "exception handler registered for something that is not an exception class or a 400-599 status"

    def check(self, model: Model) -> Iterator[Report]:
        done: set[int] = set()
        raised: Optional[set[int]] = None
        for reg, scope in registrations(model).items:
            expr = reg.key
            if expr is None or id(expr) in done:
                continue
            done.add(id(expr))
            k = classify_key(model, expr, scope)
            if k.kind == STATUS:
                if 400 <= (k.status or 0) <= 599:
                    continue
                if raised is None:
                    raised = _raised_statuses(model)
                if k.status in raised:
                    continue  # the module raises HTTPException(k.status): the handler can run
                yield self.report(
                    expr,
                    f"exception handler registered for status {k.status}: status handlers only run for an "
                    f"HTTPException with that status_code, and {k.status} is not an HTTP error status, so it is "
                    f"never called; register it for a status code in 400-599 or an Exception subclass",
                )
            elif k.kind in (NOT_EXC, BASE_EXC):
                if string_value(expr) is not None:
                    fix = "use the int status code"
                else:
                    fix = "register an Exception subclass or a status code in 400-599"
                yield self.report(
                    expr,
                    f"exception handler registered for {k.what}: keys must be Exception subclasses or int status "
                    f"codes, and Starlette rejects this one when it builds the middleware stack (TypeError or "
                    f"AssertionError on the first request or at startup), so the whole app fails; {fix}",
                )


def _raised_statuses(model: Model) -> set[int]:
    """Literal status codes of the ``HTTPException(...)`` objects the module builds."""
    out: set[int] = set()
    for site in model.calls_to(*_HTTP_EXCEPTIONS):
        arg = argument(site.node, 0, "status_code")
        if arg is not None:
            k = classify_key(model, arg.value, site.scope)
            if k.kind == STATUS and k.status is not None:
                out.add(k.status)
    return out


# ------------------------------------------------------------------ STL405
class AddExceptionHandlerAfterStartup(Rule):
    """
    ## What it does
    Reports `app.add_exception_handler(...)` (and FastAPI's
    `@app.exception_handler(...)`) called where STL301 would report
    `add_middleware`: in an endpoint, lifespan, startup handler, middleware,
    exception handler, dependency, any other `async def`, or a plain `def`
    only those call. Module level and app factories are fine.

    ## Why is this bad?
    Starlette copies the handlers into its middleware stack when the stack is
    built (at the first ASGI call). Registering later changes a dict nobody
    reads any more: no error, the handler is silently never called.

    ## Example
    ```python
    @asynccontextmanager
    async def lifespan(app):
        app.add_exception_handler(DatabaseError, db_error)
        yield
    ```

    ## Use instead
    ```python
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={DatabaseError: db_error})
    ```
    """

    code = "STL405"
    name = "add-exception-handler-after-startup"
    summary = "`add_exception_handler()` called after the app has started (silently ignored)"

    def check(self, model: Model) -> Iterator[Report]:
        for site, recv, fn, method in late_app_calls(model, _HANDLER_METHODS):
            ctx = late_contexts(model).describe(fn)
            key = argument(site.node, 0, "exc_class_or_status_code")
            label = short(model, key.value) if key is not None else "..."
            if method == "exception_handler":
                if site.decorates is None or recv.fastapi is not True:
                    continue
                yield self.report(
                    site.node,
                    f"@{recv.label}.exception_handler({label}) inside {ctx} registers the handler after the "
                    f"application has started: it is silently never called; register it at module level, where "
                    f"the app is built",
                )
                continue
            yield self.report(
                site.node,
                f"{recv.label}.add_exception_handler({label}) in {ctx} runs after the application has started: "
                f"the handler is silently never called; register it where the app is built "
                f"(exception_handlers={{{label}: ...}})",
            )
