"""STL8xx: Starlette 1.0 migration (APIs removed in 1.0, deprecated in 1.x, changed signatures)."""

from __future__ import annotations

from typing import Collection, Iterable, Iterator, Optional

import libcst as cst

from ..analysis.deliberate import Deliberate, file_class, object_class, scoped_nodes, when_runs
from ..finding import Report
from ..framework import App, AppCall, Framework
from ..model import (
    LOCAL,
    CallSite,
    Model,
    Scope,
    dotted_name,
    keyword,
    positional,
    string_value,
    walk,
)
from ..names import canonical
from ..versions import Claim
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
RENAMED_STATUS_SINCE = (0, 48)  # the first release with the new status names (and warning on the old ones)


class MigrationFacts:
    """The migration family's shared facts about a module (built once: ``fw.derived(MigrationFacts)``)."""

    def __init__(self, fw: Framework) -> None:
        self.model = fw.model
        # every import alias: (alias, canonical qualified name, statement), and id(statement) -> scope
        self.imports, self.import_scopes = _collect_imports(fw.model)
        self._fallback_guards: Optional[dict[int, set[str]]] = None

    def fallback_guards(self) -> dict[int, set[str]]:
        """See :func:`_find_fallback_guards` (found on first use)."""
        if self._fallback_guards is None:
            self._fallback_guards = _find_fallback_guards(self.model)
        return self._fallback_guards


def import_aliases(fw: Framework) -> list[tuple[cst.ImportAlias, str, cst.CSTNode]]:
    """Every ``import``/``from ... import`` alias in the module: (alias, canonical qualified name, statement)."""
    return fw.derived(MigrationFacts).imports


def _collect_imports(model: Model) -> tuple[list[tuple[cst.ImportAlias, str, cst.CSTNode]], dict[int, Scope]]:
    out: list[tuple[cst.ImportAlias, str, cst.CSTNode]] = []
    seen: set[int] = set()
    where: dict[int, Scope] = {}  # id(statement) -> scope
    scopes = [model.scope] + [f.scope for f in model.functions] + [c.scope for c in model.classes]
    for scope in scopes:
        for bindings in scope.bindings.values():
            for b in bindings:
                node = b.node
                if b.kind != "import" or id(node) in seen:
                    continue
                seen.add(id(node))
                where[id(node)] = scope
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
    return out, where


def import_scope(fw: Framework, statement: cst.CSTNode) -> Optional[Scope]:
    """The scope an import statement from :func:`import_aliases` binds in."""
    return fw.derived(MigrationFacts).import_scopes.get(id(statement))


def _app_ref(app: App) -> str:
    return app.name or f"{app.class_label}()"


def _decorated(ac: AppCall) -> str:
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
# "{{warning}}" stays a placeholder: Claim.text fills it in for the target's releases
_DEPRECATED_0X = "deprecated since Starlette {since} ({{warning}}) and removed in 1.0"


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
    from another module is not judged. The message says when the failure
    happens: at import for module-level code, else when the enclosing function
    runs (`when create_app() runs`). Reported in tests and docs too (a removal
    breaks them), except where a test exercises the API on purpose (see STL802).

    ## Why is this bad?
    On Starlette 1.x these fail when the module is imported, or when the
    factory that builds the app runs
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
    claims = {
        "app/router route, websocket_route, middleware, exception_handler": Claim(
            "starlette", (1, 0),
            after="{where} (AttributeError: '{cls}' object has no attribute '{method}' {when})",
            before=_DEPRECATED_0X.format(since="0.23"), before_from=(0, 23)),
        "app add_websocket_route, Router startup()/shutdown()": Claim(
            "starlette", (1, 0),
            after="{where} (AttributeError: '{cls}' object has no attribute '{method}' {when})"),
        "FileResponse(method=)": Claim(
            "starlette", (1, 0),
            after="FileResponse(method=...) was removed in Starlette 1.0 (TypeError: unexpected keyword argument "
                  "'method', a 500 when the endpoint runs)",
            before="FileResponse(method=...) is " + _DEPRECATED_0X.format(since="0.34"), before_from=(0, 34)),
        "Jinja2Templates(**env_options)": Claim(
            "starlette", (1, 0),
            after="Jinja2Templates({name}=...) passes a Jinja environment option, removed in Starlette 1.0 "
                  "(TypeError: unexpected keyword argument '{name}' {when})",
            before="Jinja2Templates({name}=...) passes a Jinja environment option, "
                   + _DEPRECATED_0X.format(since="0.28"), before_from=(0, 28)),
        "iscoroutinefunction_or_partial": Claim(
            "starlette", (1, 0),
            after="starlette.routing.iscoroutinefunction_or_partial was removed in Starlette 1.0 ({error} {when})",
            before="starlette.routing.iscoroutinefunction_or_partial is " + _DEPRECATED_0X.format(since="0.20.1"),
            before_from=(0, 20, 1)),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        reports = list(self._reports(model, fw))
        if reports:
            deliberate = Deliberate.of(fw)
            yield from (r for r in reports if not deliberate.covers(r.node))

    def _reports(self, model: Model, fw: Framework) -> Iterator[Report]:
        for app in fw.apps:
            removed = _REMOVED.get(app.kind)
            if not removed:
                continue
            for ac in app.calls:
                fix = removed.get(ac.method)
                if fix is None or self._overridden(model, app, ac.method):
                    continue
                message = self._message(model, app, ac, fix)
                if message is not None:
                    yield self.report(ac.call, message)
        for site in model.calls:
            q = model.call_qualname(site)
            if q is None:
                continue
            if q.startswith("starlette.applications.Starlette().router."):
                method = q.rsplit(".", 1)[-1]
                fix = _REMOVED["router"].get(method)
                if method in ("route", "websocket_route") and not self._built_here(fw, site):
                    continue  # ``app: Starlette`` may be a FastAPI app, whose APIRouter has both
                ref = dotted_name(site.node.func)
                if fix is not None and ref is not None:
                    ref = ref.rsplit(".", 1)[0]
                    form = ("app add_websocket_route, Router startup()/shutdown()" if method in ("startup", "shutdown")
                            else "app/router route, websocket_route, middleware, exception_handler")
                    said = self.claims[form].text(model.target, where="removed in Starlette 1.0", cls="Router",
                                                  method=method, when=_when(site))
                    if said is not None:
                        yield self.report(site.node, f"{ref}.{method}(): {said}; " + fix.format(app=ref))
            elif q == FILE_RESPONSE:
                arg = keyword(site.node, "method")
                said = self.claims["FileResponse(method=)"].text(model.target) if arg is not None else None
                if arg is not None and said is not None:
                    yield self.report(arg, f"{said}; drop method= (it was never used)")
            elif q == TEMPLATES:
                for arg in site.node.args:
                    if arg.keyword is None or arg.keyword.value in JINJA2_TEMPLATES_KWARGS:
                        continue
                    name = arg.keyword.value
                    said = self.claims["Jinja2Templates(**env_options)"].text(model.target, name=name, when=_when(site))
                    if said is None:
                        continue
                    needs = "" if model.target.at_least("starlette", (0, 28)) else " (env= needs starlette>=0.28)"
                    yield self.report(
                        arg,
                        f"{said}; build jinja2.Environment(loader=jinja2.FileSystemLoader(directory), {name}=...) "
                        f"and pass Jinja2Templates(env=env){needs}",
                    )
            elif q == ISCOROUTINE_OR_PARTIAL and isinstance(site.node.func, cst.Attribute):
                what = "starlette.routing.iscoroutinefunction_or_partial()"
                error = "AttributeError: module 'starlette.routing' has no attribute 'iscoroutinefunction_or_partial'"
                said = self.claims["iscoroutinefunction_or_partial"].text(model.target, error=error, when=_when(site))
                if said is not None:
                    yield self.report(site.node, _ISCOROUTINE_MESSAGE.format(what=what, said=said))
        if ISCOROUTINE_OR_PARTIAL in model.imported:
            guarded: Optional[set[int]] = None
            for alias, full, stmt in import_aliases(fw):
                if full != ISCOROUTINE_OR_PARTIAL:
                    continue
                guarded = guarded if guarded is not None else _imports_guarded_by_try(model)
                if id(alias) in guarded:
                    continue  # try: ... except ImportError: a compatibility shim
                said = self.claims["iscoroutinefunction_or_partial"].text(
                    model.target, error="ImportError", when=when_runs(import_scope(fw, stmt)))
                if said is not None:
                    yield self.report(alias, _ISCOROUTINE_MESSAGE.format(
                        what="importing iscoroutinefunction_or_partial", said=said))

    def _message(self, model: Model, app: App, ac: AppCall, fix: str) -> Optional[str]:
        ref = _app_ref(app)
        method = ac.method
        shown = f"@{ref}.{method}(){_decorated(ac)}" if ac.decorates is not None and method in _DECORATORS \
            else f"{ref}.{method}()"
        where = "FastAPI apps have no such method on Starlette 1.x" if app.kind == "fastapi" else "removed in Starlette 1.0"
        form = ("app/router route, websocket_route, middleware, exception_handler" if method in _DECORATORS
                else "app add_websocket_route, Router startup()/shutdown()")
        said = self.claims[form].text(model.target, where=where, cls=object_class(app), method=method,
                                      when=_when(ac.site))
        return None if said is None else f"{shown}: {said}; " + fix.format(app=ref)

    @staticmethod
    def _built_here(fw: Framework, site: CallSite) -> bool:
        """``x.router.<method>(...)`` where ``x`` is a Starlette app constructed in this module."""
        func = site.node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute)):
            return False
        app = fw.app_for(func.value.value, site.scope)
        return app is not None and app.kind == "starlette"

    @staticmethod
    def _overridden(model: Model, app: App, method: str) -> bool:
        """A same-module subclass that defines the method itself."""
        if not app.cls.startswith(LOCAL + "."):
            return False
        info = model.local_class(app.cls)
        return info is not None and model._method(info, method) is not None


def _when(site: CallSite) -> str:
    return when_runs(site.scope)


_ISCOROUTINE_MESSAGE = (
    "{what}: {said}; use inspect.iscoroutinefunction() on the function, unwrapping functools.partial first"
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
                    name = dotted_name(expr) if isinstance(expr, cst.BaseExpression) else None
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

    An old status name is named as written (`status.X`, `fastapi.status.X`,
    or the `from starlette.status import X` name). Code that already guards
    the rename is not reported: `status.NEW if hasattr(status, "NEW") else
    status.OLD` (or the `if hasattr(...)` statement), `try: ... status.NEW
    ... except AttributeError: ... status.OLD`, and `try: from
    starlette.status import NEW` / `except ImportError: from starlette.status
    import OLD` (the same for a `WSGIMiddleware` imported from another package
    first). `getattr(status, "NEW", status.OLD)` is no guard and is reported:
    Python evaluates the default first, so the old name is read, and warns,
    on every run. A compatibility module that only re-exports the deprecated
    module (`from starlette.middleware.wsgi import WSGIMiddleware as
    WSGIMiddleware`, FastAPI's `fastapi.middleware.wsgi`) is not reported: its
    importers are.

    Tests: reported (they break when the API goes), except where a test
    exercises the deprecated API on purpose: inside `with pytest.warns(...)` /
    `pytest.deprecated_call()`, under `@pytest.mark.filterwarnings("ignore...")`
    on the function or class (directly or through a module-level name bound to
    the mark), a module-level `pytestmark` with such a filter, `with
    warnings.catch_warnings()` or `warnings.simplefilter("ignore")` in test
    code, and in a test function or test module named after the API
    (`test_run_until_first_complete`, `test_wsgi.py`, `test_timeout_...`).
    Docs and examples: not reported (these APIs still work; a page may show
    the old form on purpose).

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
    every use of the name together, when they are certainly the same name;
    only when every release the project targets is Starlette >= 0.48, which
    added the new names (on a wider range the message asks to raise the
    lower bound first). The other findings (`middleware.wsgi`,
    `run_until_first_complete`, `timeout=`) are not fixed.
    """

    code = "STL802"
    name = "deprecated-starlette-api"
    summary = ("API deprecated in Starlette 1.x: old `HTTP_4xx` status names, `middleware.wsgi`, "
               "`run_until_first_complete`, TestClient `timeout=`")
    claims = {
        "old status names": Claim(
            "starlette", (0, 48), note=False,
            after="deprecated since Starlette 0.48 ({warning}) and will be removed"),
        "starlette.middleware.wsgi": Claim(
            "starlette", (0, 19), note=False,
            after="starlette.middleware.wsgi is deprecated since Starlette 0.19 ({warning} on import) and will be "
                  "removed"),
        "run_until_first_complete()": Claim(
            "starlette", (0, 19), note=False,
            after="run_until_first_complete() is deprecated since Starlette 0.19 ({warning}) and will be removed"),
        "TestClient verb timeout=": Claim(
            "starlette", (0, 46), note=False,
            after="TestClient.{verb}(timeout=...) is deprecated since Starlette 0.46 ({warning})"),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if file_class(model) == "docs":
            return  # a deprecation only: docs and examples may show the old API on purpose
        found: list[tuple[Report, tuple[str, ...]]] = []  # (report, the API's subject words)
        source = model.source
        target = model.target
        if ("HTTP_41" in source or "HTTP_422_UNPROCESSABLE_ENTITY" in source) \
                and self.claims["old status names"].side(target) is not None:
            found += self._status_names(model, fw)
        wsgi = self.claims["starlette.middleware.wsgi"].text(target)
        if wsgi is not None and model.imports_any(WSGI_MODULE):
            statements: set[int] = set()
            guards: Optional[dict[int, set[str]]] = None
            for alias, full, stmt in import_aliases(fw):
                if (full == WSGI_MODULE or full.startswith(WSGI_MODULE + ".")) and id(stmt) not in statements:
                    statements.add(id(stmt))  # one finding per import statement
                    guards = guards if guards is not None else fw.derived(MigrationFacts).fallback_guards()
                    if "WSGIMiddleware" in guards.get(id(stmt), ()) or _reexport_shim(model, stmt):
                        continue
                    module = stmt.module if isinstance(stmt, cst.ImportFrom) else None
                    mod_name = canonical(dotted_name(module) or "") if module is not None else ""
                    in_module = mod_name == WSGI_MODULE or mod_name.startswith(WSGI_MODULE + ".")
                    found.append((self.report(
                        module if in_module and module is not None else alias,
                        f"{wsgi}; use the a2wsgi package: from a2wsgi import WSGIMiddleware",
                    ), ("wsgi",)))
        said = self.claims["run_until_first_complete()"].text(target)
        if said is not None and "run_until_first_complete" in source:
            for site in model.calls_to(RUN_UNTIL_FIRST_COMPLETE):
                found.append((self.report(
                    site.node,
                    f"{said}; start the coroutines in an anyio task group and cancel its scope when the first one "
                    f"returns",
                ), ("run_until_first_complete",)))
        timeout = self.claims["TestClient verb timeout="]
        if "timeout" in source and "TestClient" in source and timeout.side(target) is not None:
            wanted = tuple(f"{TESTCLIENT}().{verb}" for verb in TESTCLIENT_VERBS)
            for site in model.calls_to(*wanted):
                arg = keyword(site.node, "timeout")
                if arg is not None:
                    verb = (model.call_qualname(site) or "").rsplit(".", 1)[-1]
                    found.append((self.report(
                        arg,
                        f"{timeout.text(target, verb=verb)}: the TestClient calls the app in-process and never times "
                        f"out; drop timeout=",
                    ), ("timeout",)))
        if found:
            deliberate = Deliberate.of(fw)
            yield from (r for r, subjects in found if not deliberate.covers(r.node, subjects))

    def _status_names(self, model: Model, fw: Framework) -> list[tuple[Report, tuple[str, ...]]]:
        out: list[tuple[Report, tuple[str, ...]]] = []
        guards = fw.derived(MigrationFacts).fallback_guards()
        for alias, full, stmt in import_aliases(fw):
            mod, _, name = full.rpartition(".")
            if mod == "starlette.status" and name in STATUS_RENAMES:
                new = STATUS_RENAMES[name]
                if new in guards.get(id(alias), ()):
                    continue  # try: import the new name / except ImportError: the old one
                module = dotted_name(stmt.module) if isinstance(stmt, cst.ImportFrom) and stmt.module else None
                shown = f"{name} (from {module} import {name})" if module else name
                out.append((self.report(alias, self._message(model, shown, new)), (name,)))
        defaults = getattr_defaults(model)
        for node, scope in _attributes(model, STATUS_RENAMES):
            old = node.attr.value
            if model.qualname(node, scope) != f"starlette.status.{old}":
                continue
            new = STATUS_RENAMES[old]
            if new in guards.get(id(node), ()):
                continue  # X.NEW if hasattr(X, "NEW") else X.OLD, try/except AttributeError
            written = dotted_name(node) or f"status.{old}"
            prefix = written[: -len(old)]
            if defaults.get(id(node)) == new:
                owner = prefix.rstrip(".") or "status"
                message = (f'getattr({owner}, "{new}", {written}) evaluates its default first: {written} is read, and '
                           f"warns, even where {new} exists (from Starlette 0.48); "
                           f'write {owner}.{new} if hasattr({owner}, "{new}") else {written}')
            else:
                message = self._message(model, written, prefix + new)
            out.append((self.report(node, message), (old,)))
        return out

    def _message(self, model: Model, shown: str, use: str) -> str:
        said = self.claims["old status names"].text(model.target)
        if not model.target.at_least("starlette", RENAMED_STATUS_SINCE):
            # the project also allows releases without the new name: renaming alone would break them
            return (f"{shown} is {said}, but {use} only exists from Starlette 0.48 and your project allows "
                    f"{model.target.starlette}; require starlette>=0.48, then use {use}")
        return f"{shown} is {said}; use {use} (same code)"


_CATCHES_MISSING = frozenset({"AttributeError", "ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _find_fallback_guards(model: Model) -> dict[int, set[str]]:
    """Nodes only evaluated when a newer name is missing: ``id(node) -> {the names checked}``.

    * the ``else`` of ``X.NEW if hasattr(X, "NEW") else ...`` and of ``if hasattr(X, "NEW"):
      ... else: ...`` (the body for ``if not hasattr(...)``);
    * the ``except AttributeError/ImportError`` handlers of a ``try`` (names read or imported in
      its body are the ones checked).

    ``getattr(X, "NEW", X.OLD)`` is no guard: the default is evaluated first.
    """
    out: dict[int, set[str]] = {}

    def mark(nodes: Iterable[cst.CSTNode], names: set[str]) -> None:
        for root in nodes:
            for n in [root, *walk(root, into_scopes=True)]:
                out.setdefault(id(n), set()).update(names)

    for node, scope in scoped_nodes(model):
        if isinstance(node, (cst.IfExp, cst.If)):
            test, negated = node.test, False
            if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                test, negated = test.expression, True
            name = _hasattr_name(model, test, scope)
            if name is None:
                continue
            branch = node.body if negated else node.orelse
            if branch is not None:
                mark([branch], {name})
        elif isinstance(node, cst.Try):
            handlers = [h for h in node.handlers if _catches_missing(h)]
            if handlers:
                tried: set[str] = set()
                for n in walk(node.body, into_scopes=True):
                    if isinstance(n, cst.Attribute):
                        tried.add(n.attr.value)
                    elif isinstance(n, cst.ImportAlias):
                        tried.add((dotted_name(n.name) or "").rsplit(".", 1)[-1])
                    elif isinstance(n, cst.Name):
                        tried.add(n.value)
                mark(handlers, tried)
    return out


def _hasattr_name(model: Model, test: cst.BaseExpression, scope: Scope) -> Optional[str]:
    """``"NEW"`` for a test ``hasattr(X, "NEW")``."""
    if not isinstance(test, cst.Call) or model.qualname(test.func, scope) != "builtins.hasattr":
        return None
    arg = positional(test, 1)
    return string_value(arg.value) if arg is not None else None


def _catches_missing(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for t in types:
        expr = t.value if isinstance(t, cst.Element) else t
        name = dotted_name(expr) if isinstance(expr, cst.BaseExpression) else None
        if name and name.rsplit(".", 1)[-1] in _CATCHES_MISSING:
            return True
    return False


def getattr_defaults(model: Model) -> dict[int, str]:
    """``id(default) -> "NEW"`` for ``getattr(X, "NEW", default)`` calls."""
    out: dict[int, str] = {}
    if "getattr" not in model.source:
        return out
    for site in model.calls:
        call = site.node
        if len(call.args) == 3 and model.call_qualname(site) == "builtins.getattr":
            name = string_value(call.args[1].value)
            if name is not None:
                out[id(call.args[2].value)] = name
    return out


def _reexport_shim(model: Model, stmt: cst.CSTNode) -> bool:
    """``from starlette.middleware.wsgi import X as X`` in a module of imports only: a compatibility
    re-export (``fastapi.middleware.wsgi``); its importers get the warning and are reported there."""
    if not isinstance(stmt, cst.ImportFrom) or isinstance(stmt.names, cst.ImportStar):
        return False
    if not all(a.asname is not None and isinstance(a.asname.name, cst.Name)
               and a.asname.name.value == dotted_name(a.name) for a in stmt.names):
        return False
    for top in model.module.body:
        if not isinstance(top, cst.SimpleStatementLine):
            return False
        for small in top.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
                continue
            if isinstance(small, cst.Assign) and all(
                    isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in small.targets):
                continue
            return False
    return True


def _attributes(model: Model, attrs: Collection[str]) -> Iterator[tuple[cst.Attribute, Scope]]:
    """``x.<attr>`` nodes anywhere in the module, with the scope they are evaluated in."""
    for node, scope in scoped_nodes(model):
        if isinstance(node, cst.Attribute) and node.attr.value in attrs:
            yield node, scope


# ---------------------------------------------------------------------------- STL803
class OldTemplateResponse(Rule):
    """
    ## What it does
    Reports the pre-1.0 calling forms of `Jinja2Templates.TemplateResponse`
    (also through `fastapi.templating`) on a templates object built in the
    module: the template name first (`TemplateResponse("index.html",
    {"request": request})`, with the context positional, by keyword or
    absent), a name variable first with a context (positional or `context=`)
    carrying `"request"`, or keywords only without `request=`
    (`TemplateResponse(name=..., context=...)`). STL803 is a breakage rule:
    it is reported in tests and docs too, except where a test exercises the
    old form on purpose (see STL802).

    ## Why is this bad?
    Starlette 1.0 made `request` the required first parameter. The old form
    still imports fine and fails at request time, every such page a 500; the
    error depends on the call's shape, and the message quotes the call as
    written and the error of its shape:

    * `TemplateResponse("x.html", {...})`: `TypeError: unhashable type:
      'dict'` (the context dict is used as the template name, deep inside
      jinja2, with no mention of TemplateResponse);
    * `TemplateResponse("x.html", context={...})` or `TemplateResponse("x.html")`:
      `TypeError: Jinja2Templates.TemplateResponse() missing 1 required
      positional argument: 'name'` (the name went into `request`);
    * `TemplateResponse(name=..., context=...)`: the same `TypeError` for
      `'request'`;
    * `TemplateResponse("x.html", {...}, 404)`: `AttributeError: 'int' object
      has no attribute 'setdefault'` (the status code is taken as the context).

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
    `request` parameter; left alone when neither is certain, or when the
    project also targets Starlette releases older than 0.29 (which do not
    take the request first).
    """

    code = "STL803"
    name = "old-template-response"
    summary = "old `TemplateResponse(\"name.html\", {\"request\": request})` signature (TypeError at request on Starlette 1.x)"
    claims = {
        "TemplateResponse(name, context)": Claim(
            "starlette", (1, 0),
            after="Starlette 1.x takes the request first and fails at request time with {error} (a 500)",
            before="deprecated since Starlette 0.29, which added the request-first form ({warning}), and removed "
                   "in 1.0", before_from=(0, 29)),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
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
            if message is not None and not Deliberate.of(fw).covers(site.node):
                yield self.report(site.node, message)

    @staticmethod
    def _local_subclasses(model: Model) -> set[str]:
        out: set[str] = set()
        for info in model.classes:
            if TEMPLATES in model.class_ancestors(info) and model._method(info, "TemplateResponse") is None:
                out.add(f"{LOCAL}.{info.qualname}")
        return out

    def _judge(self, model: Model, site: CallSite) -> Optional[str]:
        message = self._message(model, site)
        if message is not None and not model.target.at_least("starlette", (0, 29)):
            message += " (the request-first form needs starlette>=0.29)"
        return message

    def _message(self, model: Model, site: CallSite) -> Optional[str]:
        call = site.node
        if any(arg.star for arg in call.args):
            return None
        first = positional(call, 0)
        second = positional(call, 1)
        third = positional(call, 2)
        ref = _code(model, call.func.value) if isinstance(call.func, cst.Attribute) else "templates"
        written = _call_as_written(model, call, ref)
        missing = "TypeError: Jinja2Templates.TemplateResponse() missing 1 required positional argument: '{}'"
        if first is None:
            if keyword(call, "request") is not None or keyword(call, "name") is None:
                return None
            context = keyword(call, "context")
            request = _request_in(model, context.value if context else None, site.scope)
            said = self.claims["TemplateResponse(name, context)"].text(model.target, error=missing.format("request"))
            if said is None:
                return None
            return (f"{written} is the pre-1.0 form without the request: {said}; call "
                    f"{_fixed(model, call, ref, request)}" + _drop(request))
        if _is_request(model, first.value, site.scope) or keyword(call, "name") is not None:
            return None
        ctx = second.value if second is not None else None
        context = keyword(call, "context")
        if ctx is None and context is not None:
            ctx = context.value
        request = _request_in(model, ctx, site.scope)
        if not _is_string(model, first.value, site.scope) and request is None:
            return None  # ``TemplateResponse(template_name, ...)``: old only when the context carries the request
        if second is None:
            error = missing.format("name")  # the name went into request=, nothing is left for name
        elif third is not None:
            kind = "'int' object" if _is_int(model, third.value, site.scope) else "the third argument"
            error = f"AttributeError: {kind} has no attribute 'setdefault' (it is taken as the context)"
        elif _is_dict(model, second.value, site.scope):
            error = "TypeError: unhashable type: 'dict' (the context is taken as the template name)"
        else:
            error = "a TypeError or a missing template (the context is taken as the template name)"
        said = self.claims["TemplateResponse(name, context)"].text(model.target, error=error)
        if said is None:
            return None
        return f"{written} is the pre-1.0 signature: {said}; call {_fixed(model, call, ref, request)}" + _drop(request)


def _drop(request: Optional[str]) -> str:
    return ' and drop "request" from the context' if request else ""


def _arg_text(model: Model, arg: cst.Arg) -> str:
    value = model.module.code_for_node(arg.value)
    limit = 60 if isinstance(arg.value, (cst.SimpleString, cst.Name, cst.Attribute)) else 30
    if len(value) > limit or "\n" in value:
        value = "{...}" if isinstance(arg.value, cst.Dict) else "..."
    return f"{arg.keyword.value}={value}" if arg.keyword is not None else value


def _call_as_written(model: Model, call: cst.Call, ref: str) -> str:
    """``templates.TemplateResponse("index.html", context={...})``: the call's arguments as written,
    long or multi-line values shortened."""
    return f"{ref}.TemplateResponse({', '.join(_arg_text(model, a) for a in call.args)})"


def _fixed(model: Model, call: cst.Call, ref: str, request: Optional[str]) -> str:
    args = [request or "request"] + [_arg_text(model, a) for a in call.args]
    return f"{ref}.TemplateResponse({', '.join(args)})"


def _is_int(model: Model, expr: cst.BaseExpression, scope: Scope) -> bool:
    if isinstance(expr, cst.Integer):
        return True
    q = model.qualname(expr, scope)
    return q is not None and q.startswith("starlette.status.HTTP_")


def _is_dict(model: Model, expr: cst.BaseExpression, scope: Scope) -> bool:
    if isinstance(expr, cst.Name):
        found = model.value_of(expr, scope)
        if found is None:
            return False
        expr, scope = found
    if isinstance(expr, (cst.Dict, cst.DictComp)):
        return True
    return isinstance(expr, cst.Call) and model.qualname(expr.func, scope) == "builtins.dict"


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
