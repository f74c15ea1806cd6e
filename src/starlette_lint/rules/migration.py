"""STL8xx: Starlette 1.0 migration (APIs removed in 1.0, deprecated in 1.x, changed signatures)."""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..finding import Report
from ..framework import App
from ..model import (
    LOCAL,
    CallSite,
    Model,
    Scope,
    dotted_name,
    iter_children,
    keyword,
    positional,
    string_value,
    walk,
)
from ..names import canonical
from .base import Rule

TEMPLATES = "starlette.templating.Jinja2Templates"
FILE_RESPONSE = "starlette.responses.FileResponse"
ISCOROUTINE_OR_PARTIAL = "starlette.routing.iscoroutinefunction_or_partial"
WSGI_MODULE = "starlette.middleware.wsgi"
RUN_UNTIL_FIRST_COMPLETE = "starlette.concurrency.run_until_first_complete"
TESTCLIENT = "starlette.testclient.TestClient"
# verbs that pass timeout= on to TestClient.request (which warns); ``stream`` does not warn
TESTCLIENT_VERBS = ("get", "post", "put", "patch", "delete", "options", "head", "query", "request")
STATUS_RENAMES = {
    "HTTP_413_REQUEST_ENTITY_TOO_LARGE": "HTTP_413_CONTENT_TOO_LARGE",
    "HTTP_414_REQUEST_URI_TOO_LONG": "HTTP_414_URI_TOO_LONG",
    "HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE": "HTTP_416_RANGE_NOT_SATISFIABLE",
    "HTTP_422_UNPROCESSABLE_ENTITY": "HTTP_422_UNPROCESSABLE_CONTENT",
}
JINJA2_TEMPLATES_KWARGS = frozenset({"directory", "context_processors", "env"})

_CLS = {"starlette": "Starlette", "fastapi": "FastAPI", "router": "Router", "apirouter": "APIRouter"}


def import_aliases(model: Model) -> list[tuple[cst.ImportAlias, str, cst.CSTNode]]:
    """Every ``import``/``from ... import`` alias in the module: (alias, canonical qualified name, statement)."""
    cached = model.cache.get("migration.import_aliases")
    if cached is not None:
        return cached
    out: list[tuple[cst.ImportAlias, str, cst.CSTNode]] = []
    seen: set[int] = set()
    scopes = [model.scope] + [f.scope for f in model.functions] + [c.scope for c in model.classes]
    for scope in scopes:
        for bindings in scope.bindings.values():
            for b in bindings:
                node = b.node
                if b.kind != "import" or id(node) in seen:
                    continue
                seen.add(id(node))
                if isinstance(node, cst.Import):
                    for alias in node.names:
                        full = dotted_name(alias.name)
                        if full:
                            out.append((alias, canonical(full), node))
                elif isinstance(node, cst.ImportFrom) and not node.relative and node.module is not None:
                    mod = dotted_name(node.module)
                    if not mod or isinstance(node.names, cst.ImportStar):
                        continue
                    for alias in node.names:
                        name = dotted_name(alias.name)
                        if name:
                            out.append((alias, canonical(f"{mod}.{name}"), node))
    model.cache["migration.import_aliases"] = out
    return out


def _app_ref(app: App) -> str:
    return app.name or f"{_CLS[app.kind]}()"


def _decorated(ac) -> str:
    target = ac.decorates
    return f" on {target.name}" if target is not None else ""


# ---------------------------------------------------------------------------- STL801
# method -> (what the error is, the replacement); {app} is the variable name
_REMOVED: dict[str, dict[str, str]] = {
    "starlette": {
        "route": "list Route(path, endpoint) in Starlette(routes=[...]) (or call {app}.add_route(path, endpoint))",
        "websocket_route": "list WebSocketRoute(path, endpoint) in Starlette(routes=[...]) "
                           "(or call {app}.router.add_websocket_route(path, endpoint))",
        "add_websocket_route": "list WebSocketRoute(path, endpoint) in Starlette(routes=[...]) "
                               "(or call {app}.router.add_websocket_route(path, endpoint))",
        "middleware": "pass middleware=[Middleware(BaseHTTPMiddleware, dispatch=func)] to Starlette() "
                      "(or call {app}.add_middleware(BaseHTTPMiddleware, dispatch=func))",
        "exception_handler": "pass exception_handlers={{key: handler}} to Starlette() "
                             "(or call {app}.add_exception_handler(key, handler))",
    },
    "router": {
        "route": "list Route(path, endpoint) in Router(routes=[...]) (or call {app}.add_route(path, endpoint))",
        "websocket_route": "list WebSocketRoute(path, endpoint) in Router(routes=[...]) "
                           "(or call {app}.add_websocket_route(path, endpoint))",
        "startup": "run startup and shutdown through the lifespan: async with {app}.lifespan_context(app): ...",
        "shutdown": "run startup and shutdown through the lifespan: async with {app}.lifespan_context(app): ...",
    },
    "fastapi": {
        "route": "use @{app}.api_route(path, methods=[...]) or @{app}.get(path)",
        "add_websocket_route": "use {app}.add_api_websocket_route(path, endpoint) or @{app}.websocket(path)",
    },
}
_DECORATORS = frozenset({"route", "websocket_route", "middleware", "exception_handler"})


class RemovedStarletteApi(Rule):
    """
    ## What it does
    Reports APIs that Starlette 1.0 removed, where the object is known:

    * on a `Starlette` app: `@app.route`, `@app.websocket_route`,
      `app.add_websocket_route`, `@app.middleware`, `@app.exception_handler`;
    * on a Starlette `Router`: `route`, `websocket_route`, `startup()`,
      `shutdown()`;
    * on a `FastAPI` app (FastAPI 0.165 on Starlette 1.x has neither):
      `@app.route`, `app.add_websocket_route`;
    * `FileResponse(..., method=...)`, `Jinja2Templates(directory, **env_options)`
      (any keyword other than `directory`, `context_processors`, `env`),
      `from starlette.routing import iscoroutinefunction_or_partial`.

    FastAPI's own `middleware`, `exception_handler`, `websocket_route` and
    `on_event`, and everything on `APIRouter`, still exist and are not
    reported; `on_event` / `add_event_handler` are STL202's; an app imported
    from another module is not judged.

    ## Why is this bad?
    On Starlette 1.x these fail when the module is imported
    (`AttributeError: 'Starlette' object has no attribute 'route'`,
    `ImportError`, `TypeError: ... unexpected keyword argument`), or when the
    call runs (a 500 for a `FileResponse(method=...)` in an endpoint). On 0.x
    their deprecation warnings were hidden by default, so upgrades find them
    in production.

    ## Example
    ```python
    app = Starlette()

    @app.route("/")
    async def homepage(request):
        return PlainTextResponse("hi")
    ```

    ## Use instead
    ```python
    async def homepage(request):
        return PlainTextResponse("hi")

    app = Starlette(routes=[Route("/", homepage)])
    ```
    """

    code = "STL801"
    name = "removed-starlette-api"
    summary = "API removed in Starlette 1.0 (`@app.route`, `@app.middleware`, `Router.startup()`, `FileResponse(method=)`...)"

    def check(self, model: Model) -> Iterator[Report]:
        fw = model.framework
        for app in fw.apps:
            removed = _REMOVED.get(app.kind)
            if not removed:
                continue
            for ac in app.calls:
                fix = removed.get(ac.method)
                if fix is None or self._overridden(model, app, ac.method):
                    continue
                yield self.report(ac.call, self._message(app, ac, fix))
        for site in model.calls:
            q = model.call_qualname(site)
            if q is None:
                continue
            if q.startswith("starlette.applications.Starlette().router."):
                method = q.rsplit(".", 1)[-1]
                fix = _REMOVED["router"].get(method)
                if method in ("route", "websocket_route") and not self._built_here(model, site):
                    continue  # ``app: Starlette`` may be a FastAPI app, whose APIRouter has both
                ref = dotted_name(site.node.func)
                if fix is not None and ref is not None:
                    ref = ref.rsplit(".", 1)[0]
                    yield self.report(
                        site.node,
                        f"{ref}.{method}(): removed in Starlette 1.0 (AttributeError: 'Router' object has no "
                        f"attribute '{method}' {_when(site)}); " + fix.format(app=ref),
                    )
            elif q == FILE_RESPONSE:
                arg = keyword(site.node, "method")
                if arg is not None:
                    yield self.report(
                        arg,
                        "FileResponse(method=...) was removed in Starlette 1.0 (TypeError: unexpected keyword "
                        "argument 'method', a 500 when the endpoint runs); drop method= (it was never used)",
                    )
            elif q == TEMPLATES:
                for arg in site.node.args:
                    if arg.keyword is None or arg.keyword.value in JINJA2_TEMPLATES_KWARGS:
                        continue
                    name = arg.keyword.value
                    yield self.report(
                        arg,
                        f"Jinja2Templates({name}=...) passes a Jinja environment option, removed in Starlette 1.0 "
                        f"(TypeError: unexpected keyword argument '{name}' at import); build "
                        f"jinja2.Environment(loader=jinja2.FileSystemLoader(directory), {name}=...) "
                        f"and pass Jinja2Templates(env=env)",
                    )
            elif q == ISCOROUTINE_OR_PARTIAL and isinstance(site.node.func, cst.Attribute):
                what = "starlette.routing.iscoroutinefunction_or_partial()"
                yield self.report(site.node, _ISCOROUTINE_MESSAGE.format(what=what))
        if ISCOROUTINE_OR_PARTIAL in model.imported:
            guarded: Optional[set[int]] = None
            for alias, full, _ in import_aliases(model):
                if full != ISCOROUTINE_OR_PARTIAL:
                    continue
                guarded = guarded if guarded is not None else _imports_guarded_by_try(model)
                if id(alias) in guarded:
                    continue  # try: ... except ImportError: a compatibility shim
                yield self.report(alias, _ISCOROUTINE_MESSAGE.format(what="importing iscoroutinefunction_or_partial"))

    @staticmethod
    def _message(app: App, ac, fix: str) -> str:
        ref = _app_ref(app)
        cls = _CLS[app.kind]
        method = ac.method
        shown = f"@{ref}.{method}(){_decorated(ac)}" if ac.decorates is not None and method in _DECORATORS \
            else f"{ref}.{method}()"
        if app.kind == "fastapi":
            where = "FastAPI apps have no such method on Starlette 1.x / FastAPI 0.165"
        else:
            where = "removed in Starlette 1.0"
        return (f"{shown}: {where} (AttributeError: '{cls}' object has no attribute '{method}' {_when(ac.site)}); "
                + fix.format(app=ref))

    @staticmethod
    def _built_here(model: Model, site: CallSite) -> bool:
        """``x.router.<method>(...)`` where ``x`` is a Starlette app constructed in this module."""
        func = site.node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute)):
            return False
        app = model.framework.app_for(func.value.value, site.scope)
        return app is not None and app.kind == "starlette"

    @staticmethod
    def _overridden(model: Model, app: App, method: str) -> bool:
        """A same-module subclass that defines the method itself."""
        if not app.cls.startswith(LOCAL + "."):
            return False
        info = model.local_class(app.cls)
        return info is not None and model._method(info, method) is not None


def _when(site: CallSite) -> str:
    return "at import" if site.function is None and not site.in_lambda else "when this code runs"


_ISCOROUTINE_MESSAGE = (
    "{what}: starlette.routing.iscoroutinefunction_or_partial was removed in Starlette 1.0 "
    "(ImportError at import); use inspect.iscoroutinefunction() on the function, unwrapping functools.partial first"
)

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError", "Exception", "BaseException"})


def _imports_guarded_by_try(model: Model) -> set[int]:
    """ids of import aliases inside ``try:`` blocks that catch ImportError (compatibility shims)."""
    out: set[int] = set()
    for node in walk(model.module, into_scopes=True):
        if not isinstance(node, cst.Try):
            continue
        catches = False
        for handler in node.handlers:
            if handler.type is None:
                catches = True
            else:
                types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
                for t in types:
                    expr = t.value if isinstance(t, cst.Element) else t
                    name = dotted_name(expr)  # type: ignore[arg-type]
                    if name and name.rsplit(".", 1)[-1] in _IMPORT_ERRORS:
                        catches = True
        if catches:
            out.update(id(n) for n in walk(node.body) if isinstance(n, cst.ImportAlias))
    return out


# ---------------------------------------------------------------------------- STL802
class DeprecatedStarletteApi(Rule):
    """
    ## What it does
    Reports APIs deprecated in Starlette 1.x that still work today:

    * the old status names `HTTP_413_REQUEST_ENTITY_TOO_LARGE`,
      `HTTP_414_REQUEST_URI_TOO_LONG`, `HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE`
      and `HTTP_422_UNPROCESSABLE_ENTITY` from `starlette.status` or
      `fastapi.status` (the attribute, or the name in a `from ... import`);
    * `starlette.middleware.wsgi` (and `fastapi.middleware.wsgi`);
    * `run_until_first_complete()`;
    * `timeout=` passed to a `TestClient` verb (`client.get(url, timeout=5)`).

    ## Why is this bad?
    Each one emits a `StarletteDeprecationWarning` and goes away in the next
    major release. That warning is a `UserWarning`, not a
    `DeprecationWarning`: `-W error::DeprecationWarning` and most CI filters
    miss it, so the removal arrives unannounced.

    ## Example
    ```python
    from starlette import status

    raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY)
    ```

    ## Use instead
    ```python
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT)
    ```

    ## Fix
    Renames the status constant (`status.HTTP_422_UNPROCESSABLE_ENTITY` ->
    `status.HTTP_422_UNPROCESSABLE_CONTENT`); for
    `from starlette.status import HTTP_422_UNPROCESSABLE_ENTITY` the import and
    every use of the name together, when they are certainly the same name.
    The other findings (`middleware.wsgi`, `run_until_first_complete`,
    `timeout=`) are not fixed.
    """

    code = "STL802"
    name = "deprecated-starlette-api"
    summary = ("API deprecated in Starlette 1.x: old `HTTP_4xx` status names, `middleware.wsgi`, "
               "`run_until_first_complete`, TestClient `timeout=`")

    def check(self, model: Model) -> Iterator[Report]:
        source = model.source
        if "HTTP_41" in source or "HTTP_422_UNPROCESSABLE_ENTITY" in source:
            yield from self._status_names(model)
        if model.imports_any(WSGI_MODULE):
            statements: set[int] = set()
            for alias, full, stmt in import_aliases(model):
                if (full == WSGI_MODULE or full.startswith(WSGI_MODULE + ".")) and id(stmt) not in statements:
                    statements.add(id(stmt))  # one finding per import statement
                    module = stmt.module if isinstance(stmt, cst.ImportFrom) else None
                    mod_name = canonical(dotted_name(module) or "") if module is not None else ""
                    in_module = mod_name == WSGI_MODULE or mod_name.startswith(WSGI_MODULE + ".")
                    yield self.report(
                        module if in_module else alias,  # type: ignore[arg-type]
                        "starlette.middleware.wsgi is deprecated (StarletteDeprecationWarning on import) and will be "
                        "removed; use the a2wsgi package: from a2wsgi import WSGIMiddleware",
                    )
        if "run_until_first_complete" in source:
            for site in model.calls_to(RUN_UNTIL_FIRST_COMPLETE):
                yield self.report(
                    site.node,
                    "run_until_first_complete() is deprecated in Starlette 1.x (StarletteDeprecationWarning) and will "
                    "be removed; start the coroutines in an anyio task group and cancel its scope when the first "
                    "one returns",
                )
        if "timeout" in source and "TestClient" in source:
            wanted = tuple(f"{TESTCLIENT}().{verb}" for verb in TESTCLIENT_VERBS)
            for site in model.calls_to(*wanted):
                arg = keyword(site.node, "timeout")
                if arg is not None:
                    verb = model.call_qualname(site).rsplit(".", 1)[-1]  # type: ignore[union-attr]
                    yield self.report(
                        arg,
                        f"TestClient.{verb}(timeout=...) is deprecated in Starlette 1.x (StarletteDeprecationWarning): "
                        f"the TestClient calls the app in-process and never times out; drop timeout=",
                    )

    def _status_names(self, model: Model) -> Iterator[Report]:
        for alias, full, _ in import_aliases(model):
            mod, _, name = full.rpartition(".")
            if mod == "starlette.status" and name in STATUS_RENAMES:
                yield self.report(alias, self._message(name, STATUS_RENAMES[name]))
        for node, scope in _attributes(model, STATUS_RENAMES):
            if model.qualname(node, scope) == f"starlette.status.{node.attr.value}":
                yield self.report(node, self._message(node.attr.value, STATUS_RENAMES[node.attr.value]))

    @staticmethod
    def _message(old: str, new: str) -> str:
        return (f"status.{old} is deprecated in Starlette 1.x (StarletteDeprecationWarning) and will be removed; "
                f"use status.{new} (same code)")


def _attributes(model: Model, attrs) -> Iterator[tuple[cst.Attribute, Scope]]:
    """``x.<attr>`` nodes anywhere in the module, with the scope they are evaluated in."""
    stack: list[tuple[cst.CSTNode, Scope]] = [(n, model.scope) for n in iter_children(model.module)]
    stack.reverse()
    while stack:
        node, scope = stack.pop()
        if isinstance(node, cst.Attribute) and node.attr.value in attrs:
            yield node, scope
        inner = scope
        if isinstance(node, cst.FunctionDef):
            fn = model.function_of.get(id(node))
            inner = fn.scope if fn is not None else scope
        elif isinstance(node, cst.ClassDef):
            info = model.class_of.get(id(node))
            inner = info.scope if info is not None else scope
        kids = list(iter_children(node))
        kids.reverse()
        stack.extend((k, inner) for k in kids)


# ---------------------------------------------------------------------------- STL803
class OldTemplateResponse(Rule):
    """
    ## What it does
    Reports the pre-1.0 calling forms of `Jinja2Templates.TemplateResponse`
    (also through `fastapi.templating`) on a templates object built in the
    module: the template name first (`TemplateResponse("index.html",
    {"request": request})`), a context dict carrying `"request"` as the
    second argument, or keywords only without `request=`
    (`TemplateResponse(name=..., context=...)`).

    ## Why is this bad?
    Starlette 1.0 made `request` the required first parameter. The old form
    still imports fine and fails at request time: `TypeError: unhashable type:
    'dict'` (the context dict is used as the template name, deep inside
    jinja2, with no mention of TemplateResponse), or `TypeError: ... missing 1
    required positional argument: 'request'`. Every such page is a 500.

    ## Example
    ```python
    return templates.TemplateResponse("index.html", {"request": request, "user": user})
    ```

    ## Use instead
    ```python
    return templates.TemplateResponse(request, "index.html", {"user": user})
    ```

    ## Fix
    Inserts the request as the first argument, taken from the context dict's
    `"request"` entry (which is dropped) or else from the enclosing function's
    `request` parameter; left alone when neither is certain.
    """

    code = "STL803"
    name = "old-template-response"
    summary = "old `TemplateResponse(\"name.html\", {\"request\": request})` signature (TypeError at request on Starlette 1.x)"

    def check(self, model: Model) -> Iterator[Report]:
        if "TemplateResponse" not in model.source:
            return
        local_templates = self._local_subclasses(model)
        for site in model.calls:
            func = site.node.func
            if not isinstance(func, cst.Attribute) or func.attr.value != "TemplateResponse":
                continue
            q = model.call_qualname(site)
            if q is None or not q.endswith("().TemplateResponse"):
                continue
            owner = q[: -len("().TemplateResponse")]
            if owner != TEMPLATES and owner not in local_templates:
                continue
            message = self._judge(model, site)
            if message is not None:
                yield self.report(site.node, message)

    @staticmethod
    def _local_subclasses(model: Model) -> set[str]:
        out: set[str] = set()
        for info in model.classes:
            if TEMPLATES in model.class_ancestors(info) and model._method(info, "TemplateResponse") is None:
                out.add(f"{LOCAL}.{info.qualname}")
        return out

    def _judge(self, model: Model, site: CallSite) -> Optional[str]:
        call = site.node
        if any(arg.star for arg in call.args):
            return None
        first = positional(call, 0)
        second = positional(call, 1)
        ref = _code(model, call.func.value) if isinstance(call.func, cst.Attribute) else "templates"  # type: ignore[union-attr]
        if first is None:
            if keyword(call, "request") is not None or keyword(call, "name") is None:
                return None
            name = _code(model, keyword(call, "name").value)  # type: ignore[union-attr]
            ctx = keyword(call, "context")
            request = _request_in(model, ctx.value if ctx else None, site.scope) or "request"
            return (f"{ref}.TemplateResponse(name=..., context=...) without request= is the pre-1.0 form: Starlette 1.x "
                    f"raises TypeError (missing 1 required positional argument: 'request') at request time, a 500; "
                    f"call {ref}.TemplateResponse({request}, {name}, {{...}})")
        ctx = second.value if second is not None else None
        if ctx is None and keyword(call, "context") is not None:
            ctx = keyword(call, "context").value  # type: ignore[union-attr]
        request = _request_in(model, ctx, site.scope)
        if not _is_string(model, first.value, site.scope):
            # ``TemplateResponse(template_name, {"request": request})``: old unless the first is the request
            if _is_request(model, first.value, site.scope) or second is None or request is None:
                return None
        name = _code(model, first.value)
        return (f"{ref}.TemplateResponse({name}, {{...}}) is the pre-1.0 signature: Starlette 1.x takes the request "
                f"first and fails at request time with TypeError: unhashable type: 'dict' (a 500); call "
                f"{ref}.TemplateResponse({request or 'request'}, {name}, {{...}})"
                + (' and drop "request" from the context' if request else ""))


def _code(model: Model, expr: cst.BaseExpression) -> str:
    text = model.module.code_for_node(expr)
    return text if len(text) <= 40 and "\n" not in text else "..."


def _is_string(model: Model, expr: cst.BaseExpression, scope: Scope) -> bool:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return True
    lit = model.constant(expr, scope) if isinstance(expr, cst.Name) else None
    return lit is not None and string_value(lit) is not None


def _is_request(model: Model, expr: cst.BaseExpression, scope: Scope) -> bool:
    q = model.qualname(expr, scope)
    return q is not None and q.startswith(("starlette.requests.Request()", "starlette.requests.HTTPConnection()"))


def _request_in(model: Model, expr: Optional[cst.BaseExpression], scope: Scope) -> Optional[str]:
    """The ``"request"`` value of a context dict literal (or a dict bound once to a name), as code."""
    if expr is None:
        return None
    if isinstance(expr, cst.Name):
        found = model.value_of(expr, scope)
        if found is None:
            return None
        expr = found[0]
    if isinstance(expr, cst.Dict):
        for el in expr.elements:
            if isinstance(el, cst.DictElement) and string_value(el.key) == "request":
                return _code(model, el.value)
    if isinstance(expr, cst.Call) and model.qualname(expr.func, scope) == "builtins.dict":
        arg = keyword(expr, "request")
        if arg is not None:
            return _code(model, arg.value)
    return None
