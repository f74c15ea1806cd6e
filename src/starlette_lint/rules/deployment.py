"""STL7xx: how the app is served (uvicorn) and probed."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import libcst as cst

from .. import names as N
from ..finding import Report
from ..framework import App, Framework, Route
from ..model import (
    LOCAL,
    CallSite,
    Function,
    Model,
    Scope,
    argument,
    bool_value,
    int_value,
    keyword,
    string_value,
    walk,
)
from .base import Rule

# ``uvicorn.run`` is re-exported from ``uvicorn.main``.
UVICORN_RUN = frozenset({"uvicorn.run", "uvicorn.main.run"})
# ``uvicorn.Server(config).run()`` blocks the same way at import time.
SERVER_RUN = frozenset({"uvicorn.Server().run", "uvicorn.server.Server().run", "uvicorn.main.Server().run"})


def module_import_path(filename: str) -> Optional[str]:
    """``app/main.py`` -> ``app.main`` (packages followed through ``__init__.py``), or None."""
    if not filename or filename.startswith("<") or filename in ("-", "stdin"):
        return None
    path = Path(filename)
    if path.suffix != ".py":
        return None
    parts: list[str] = [] if path.stem in ("__init__", "__main__") else [path.stem]
    directory = path.parent
    try:
        while len(parts) < 20 and directory.name and (directory / "__init__.py").is_file():
            parts.insert(0, directory.name)
            directory = directory.parent
    except OSError:  # pragma: no cover - unreadable directory
        pass
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


# ---------------------------------------------------------------------------- STL701
_CONFIG_OBJECTS = frozenset({"settings", "config", "conf", "cfg", "env", "options", "opts", "args", "environ"})


class UvicornRunAppObject(Rule):
    """
    ## What it does
    Reports `uvicorn.run(app, reload=True)` and `uvicorn.run(app, workers=N)`
    (a literal `N` > 1) where `app` is an application object (or a factory
    function) instead of an import string. Only literal `reload=` / `workers=`
    values (and module constants bound once to a literal) are judged.

    ## Why is this bad?
    To reload or to start worker processes uvicorn must import the app again
    in a new process, so it needs to know *where* the app lives. Given an
    object it logs `WARNING: You must pass the application as an import string
    to enable 'reload' or 'workers'.` and exits at once with code 3: the server
    never starts.

    `uvicorn.Server(uvicorn.Config(app, reload=True)).run()` is not reported:
    `Server.run` does not reload or fork at all, it silently serves one
    process without reloading.

    ## Example
    ```python
    app = FastAPI()

    if __name__ == "__main__":
        uvicorn.run(app, reload=True)
    ```

    ## Use instead
    ```python
    if __name__ == "__main__":
        uvicorn.run("app.main:app", reload=True)
    ```

    ## Fix
    Replaces a module-level app variable with its import string
    (`"package.module:app"`) when the module's import path is certain: a
    module outside any package, or a package whose top sits in a project root
    (beside `pyproject.toml` / `setup.py` / `setup.cfg`) or its `src/`.
    """

    code = "STL701"
    name = "uvicorn-run-app-object"
    summary = "`uvicorn.run(app_object, reload=True / workers>1)`: uvicorn exits with code 3 (needs an import string)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for site in model.calls_to(*UVICORN_RUN):
            call = site.node
            why = []
            reload = keyword(call, "reload")
            if reload is not None:
                lit = model.constant(reload.value, site.scope)
                if bool_value(lit) is True:
                    why.append("reload=True")
            workers = keyword(call, "workers")
            if workers is not None:
                lit = model.constant(workers.value, site.scope)
                n = int_value(lit)
                if n is not None and n > 1:
                    why.append(f"workers={n}")
            if not why:
                continue
            app_arg = argument(call, 0, "app")
            if app_arg is None:
                continue
            target = self._import_target(model, fw, site, app_arg.value)
            if target is None:
                continue
            spec, factory = target
            fix = f'uvicorn.run("{spec}"' + (", factory=True" if factory and keyword(call, "factory") is None else "")
            yield self.report(
                call,
                f"uvicorn.run() gets an application object with {' and '.join(why)}: uvicorn logs "
                f"\"You must pass the application as an import string to enable 'reload' or 'workers'\" "
                f"and exits with code 3; pass the import string: {fix}, ...)",
            )

    def _import_target(self, model: Model, fw: Framework, site: CallSite, expr: cst.BaseExpression
                       ) -> Optional[tuple[str, bool]]:
        """``("module:attr", is_factory)`` when ``expr`` is certainly not a string, else None."""
        scope = site.scope
        if not isinstance(expr, (cst.Name, cst.Attribute, cst.Call)):
            return None
        if isinstance(expr, cst.Name) and model.constant(expr, scope) is not None:
            return None  # a constant: an import string, most likely
        module = module_import_path(model.filename) or "<module>"
        var = expr.value if isinstance(expr, cst.Name) else None
        # An app built in this module (``app = Starlette(...)``, or the construction itself).
        app = fw.app_for(expr, scope)
        if app is not None:
            return f"{module}:{var or app.name or 'app'}", False
        if isinstance(expr, cst.Call):
            fn = model.resolve_function(expr.func, scope)
            if fn is not None and fn.outer is model.scope and self._returns_app(fw, fn):
                return f"{module}:{fn.name}", True  # an app factory called in place
            q = model.qualname(expr.func, scope)
            if q in N.APP_CLASSES:
                return f"{module}:app", False
            return None
        q = model.qualname(expr, scope)
        if q is None:
            return None
        if q.endswith("()"):
            # a variable holding a call result, or a parameter annotated with an app class
            callee = q[:-2]
            if callee in N.APP_CLASSES:
                return f"{module}:{var or 'app'}", False
            if callee.startswith(LOCAL + "."):
                info = model.local_class(callee)
                fn = None if info is not None else self._local_function(model, callee)
                if fn is not None and self._returns_app(fw, fn) and var is not None:
                    return f"{module}:{var}", False
                return None
            if "app" in callee.rsplit(".", 1)[-1].lower() and var is not None and not var.isupper():
                return f"{module}:{var}", False  # app = create_app() from another module
            return None
        if q.startswith(LOCAL + "."):
            tail = q[len(LOCAL) + 1:]
            # a module-level def or class: an ASGI callable, or a factory
            return (f"{module}:{tail}", False) if "." not in tail else None
        owner, _, attr = q.rpartition(".")
        if not owner or attr.isupper() or owner.split(".")[0] in ("builtins", "os", "sys"):
            return None  # SETTINGS-like constants may well hold import strings
        if owner.rsplit(".", 1)[-1].lower() in _CONFIG_OBJECTS:
            return None  # settings.app / config.app: likely an import string
        if attr.lower() not in ("app", "application", "api", "asgi", "asgi_app") and not attr.lower().endswith("app"):
            return None
        return f"{owner}:{attr}", False  # an object imported from another module

    @staticmethod
    def _local_function(model: Model, qualname: str) -> Optional[Function]:
        name = qualname[len(LOCAL) + 1:]
        for fn in model.functions:
            if fn.qualname == name:
                return fn
        return None

    @staticmethod
    def _returns_app(fw: Framework, fn: Function) -> bool:
        for ret in fn.returns:
            if ret.value is not None and fw.app_for(ret.value, fn.scope) is not None:
                return True
        return False


# ---------------------------------------------------------------------------- STL702
def _is_main_test(test: cst.BaseExpression, negated: bool = False) -> bool:
    """``__name__ == "__main__"`` (either order); with ``negated`` the ``!=`` form."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) and not negated:
        return _is_main_test(test.left) or _is_main_test(test.right)
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    op = cst.NotEqual if negated else cst.Equal
    if not isinstance(target.operator, op):
        return False
    sides = (test.left, target.comparator)
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if string_value(s) == "__main__"]
    return len(names) == 1 and len(strings) == 1


def _guarded_bodies(stmt: cst.BaseStatement) -> Iterator[cst.CSTNode]:
    """Blocks that only run when the module is ``__main__``, in or under a top-level statement."""
    candidates: list[cst.CSTNode] = [stmt]
    if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine)):
        candidates.extend(n for n in walk(stmt) if isinstance(n, cst.If))
    for node in candidates:
        if not isinstance(node, cst.If):
            continue
        if _is_main_test(node.test):
            yield node.body
        elif _is_main_test(node.test, negated=True) and isinstance(node.orelse, cst.Else):
            yield node.orelse.body


def guarded_call_ids(model: Model) -> set[int]:
    """ids of every Call node under an ``if __name__ == "__main__":`` block."""
    out: set[int] = set()
    for stmt in model.module.body:
        for body in _guarded_bodies(stmt):
            out.update(id(n) for n in walk(body, into_scopes=True) if isinstance(n, cst.Call))
    return out


def conditional_call_ids(model: Model) -> set[int]:
    """ids of module-level calls under an ``if`` other than the ``__main__`` guard itself.

    ``if "gunicorn" in sys.modules: run(...)``: whether that branch runs on
    import is the author's decision, on a condition the linter cannot evaluate.
    (The ``else:`` of a ``__main__`` guard is not conditional: it always runs
    on import.)
    """
    out: set[int] = set()
    for stmt in model.module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine)):
            continue
        ifs = [stmt] if isinstance(stmt, cst.If) else []
        ifs.extend(n for n in walk(stmt) if isinstance(n, cst.If))
        for node in ifs:
            if _is_main_test(node.test) or _is_main_test(node.test, negated=True):
                continue
            out.update(id(n) for n in walk(node, into_scopes=True) if isinstance(n, cst.Call))
    return out


def _switched_off(model: Model, call: cst.Call, fn: Function) -> bool:
    """``run(start_server=False)`` where ``fn`` tests that parameter: the call may well not serve.

    The argument is ``False``/``None``/``0`` (literal or module constant) and
    ``fn`` mentions the parameter in an ``if`` test.
    """
    params = {p.name.value: i for i, p in enumerate(list(fn.node.params.posonly_params) + list(fn.node.params.params))}
    params.update({p.name.value: -1 for p in fn.node.params.kwonly_params})
    off: set[str] = set()
    for i, arg in enumerate(call.args):
        if arg.star:
            continue
        lit = model.constant(arg.value, model.scope)
        if not ((isinstance(lit, cst.Name) and lit.value in ("False", "None")) or int_value(lit) == 0):
            continue
        if arg.keyword is not None:
            off.add(arg.keyword.value)
        else:
            off.update(name for name, j in params.items() if j == i)
    if not off:
        return False
    for node in walk(fn.node):
        if isinstance(node, (cst.If, cst.IfExp, cst.While)):
            if any(isinstance(n, cst.Name) and n.value in off for n in walk(node.test)) or (
                    isinstance(node.test, cst.Name) and node.test.value in off):
                return True
    return False


def _runs_at_import(site: CallSite) -> bool:
    return site.function is None and not site.in_lambda


class UnguardedUvicornRun(Rule):
    """
    ## What it does
    Reports `uvicorn.run(...)` (or `uvicorn.Server(config).run()`) executed at
    module level outside an `if __name__ == "__main__":` block, and a
    module-level call to a function of the module that starts the server that
    way (`main()` at the bottom of the file). A package's `__main__.py` is
    not checked: it only runs as `python -m package`. Calls under another
    module-level `if` (`if "gunicorn" in sys.modules:`, `if settings.SERVE:`)
    are the author's explicit decision and are not judged (the `else:` of a
    `__main__` guard always runs on import and is); neither is `run(False)` /
    `run(start_server=False)` when that parameter gates the server in `run`.

    ## Why is this bad?
    The server starts as a side effect of *importing* the module. `uvicorn
    module:app`, gunicorn workers, pytest, TestClient fixtures, Alembic or any
    tool that imports the module for the `app` object starts a second server
    instead: it blocks forever, fails on the busy port, or recurses when the
    server imports the module again (reload, workers).

    ## Example
    ```python
    app = FastAPI()
    uvicorn.run(app, host="0.0.0.0", port=8000)
    ```

    ## Use instead
    ```python
    app = FastAPI()

    if __name__ == "__main__":
        uvicorn.run(app, host="0.0.0.0", port=8000)
    ```
    """

    code = "STL702"
    name = "unguarded-uvicorn-run"
    summary = "`uvicorn.run(...)` at module level outside `if __name__ == \"__main__\":` (the server starts on import)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if "uvicorn" not in model.source or Path(model.filename).name == "__main__.py":
            return  # ``python -m package`` runs __main__.py on purpose; nothing imports it
        starters = UVICORN_RUN | SERVER_RUN
        direct = [s for s in model.calls_to(*starters)]
        if not direct:
            return
        guarded: Optional[set[int]] = None  # found on first use, like conditional
        conditional: Optional[set[int]] = None
        for site in direct:
            if not _runs_at_import(site):
                continue
            guarded = guarded if guarded is not None else guarded_call_ids(model)
            if id(site.node) in guarded:
                continue
            conditional = conditional if conditional is not None else conditional_call_ids(model)
            if id(site.node) in conditional:
                continue
            what = "uvicorn.run()" if model.call_qualname(site) in UVICORN_RUN else "uvicorn.Server(...).run()"
            yield self.report(
                site.node,
                f"{what} at module level starts the server whenever the module is imported (by uvicorn or "
                f"gunicorn workers, tests, tools): they hang or fail on the busy port; put it under "
                f'if __name__ == "__main__":',
            )
        # main() called at module level, where main (or what it calls) runs the server
        servers: dict[int, Function] = {}
        for site in direct:
            fn = site.function
            if fn is not None and not site.in_lambda:
                servers.setdefault(id(fn), fn)
        if not servers:
            return
        for site in model.calls:
            if not _runs_at_import(site) or site.decorates is not None:
                continue
            fn = model.resolve_function(site.node.func, site.scope)
            if fn is None:
                continue
            reach = fw.reachable([fn])
            hit = next((servers[k] for k in reach if k in servers), None)
            if hit is None:
                continue
            guarded = guarded if guarded is not None else guarded_call_ids(model)
            if id(site.node) in guarded:
                continue
            conditional = conditional if conditional is not None else conditional_call_ids(model)
            if id(site.node) in conditional or _switched_off(model, site.node, fn):
                continue  # ``if "gunicorn" in sys.modules: run(start_server=False)``: the author decides
            via = "" if hit is fn else f" (through {hit.qualname}())"
            yield self.report(
                site.node,
                f"{fn.qualname}() runs uvicorn{via} and is called at module level: the server starts whenever "
                f'the module is imported (by uvicorn, tests, tools); call it under if __name__ == "__main__":',
            )


# ---------------------------------------------------------------------------- STL703
HEALTH_SEGMENTS = frozenset(
    {
        "health", "healthz", "healthcheck", "health-check", "health_check", "healthy",
        "livez", "live", "liveness", "alive", "readyz", "ready", "readiness",
        "ping", "heartbeat", "status", "startupz",
    }
)
_ROUTE_CLASSES = frozenset({N.ROUTE, N.WEBSOCKET_ROUTE, N.MOUNT, N.HOST})
_ROUTE_METHODS = frozenset({"route", "websocket_route", "add_route", "add_websocket_route", "add_api_route",
                            "add_api_websocket_route"})
# Calls that serve, test or wrap an app without adding routes to it.
_SERVING_CALLS = frozenset(
    UVICORN_RUN | {"uvicorn.Config", "uvicorn.config.Config", "starlette.testclient.TestClient",
                   "httpx.ASGITransport", "httpx2.ASGITransport", "hypercorn.asyncio.serve",
                   "mangum.Mangum", "a2wsgi.ASGIMiddleware", "builtins.print", "builtins.id",
                   "builtins.isinstance", "builtins.repr"}
)
_MUTATORS = frozenset({"append", "extend", "insert", "__iadd__"})


class _Unknown(Exception):
    """A route table this module cannot know completely."""


def _is_health_path(path: str) -> bool:
    return any(seg.lower() in HEALTH_SEGMENTS for seg in path.split("/"))


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix.rstrip("/") + path if path.startswith("/") else prefix + path


# Steps (apps, route lists and routes read) one module's route tables may take: routers included
# many times into routers included many times multiply; past this the table is taken as unknown.
_ROUTE_TABLE_STEPS = 20_000


class _RouteTable:
    """Every (full) HTTP path of an app, when all of them are known statically.

    An app or Mount met again inside itself (``app.mount("/x", app)``, routers that include
    each other, Mounts whose route lists name each other) makes the table unknown, and so
    does one too large to read (``_ROUTE_TABLE_STEPS``).
    """

    def __init__(self, fw: Framework) -> None:
        self.model = fw.model
        self.fw = fw
        self.by_node: dict[int, Route] = {id(r.node): r for r in self.fw.routes}
        self._open: set[int] = set()  # the apps and route objects being read (the current path)
        self._steps = 0
        self._literals: dict[tuple[int, int], Optional[str]] = {}  # a prefix read again in a router included again
        self.mutated: set[str] = set()
        for site in fw.model.calls:
            func = site.node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS and isinstance(func.value, cst.Name):
                self.mutated.add(func.value.value)

    def _enter(self, node: object) -> None:
        self._steps += 1
        if id(node) in self._open or self._steps > _ROUTE_TABLE_STEPS:
            raise _Unknown
        self._open.add(id(node))

    def app_paths(self, app: App, prefix: str = "", depth: int = 0) -> list[str]:
        if depth > 8:
            raise _Unknown
        if depth == 0:
            self._open.clear()  # after an _Unknown raised in another app's table
        self._enter(app)
        try:
            return self._app_paths(app, prefix, depth)
        finally:
            self._open.discard(id(app))

    def _app_paths(self, app: App, prefix: str, depth: int) -> list[str]:
        if app.kind == "apirouter":
            own = app.kwarg("prefix")
            if own is not None:
                prefix = _join(prefix, self._literal(own.value, app.scope))
        out: list[str] = []
        routes_arg = app.kwarg("routes")
        if routes_arg is not None:
            for call in self._route_list(routes_arg.value, app.scope):
                out.extend(self._route_paths(call, prefix, depth))
        for ac in app.calls:
            method = ac.method
            if method in N.PATH_OPERATION_METHODS and app.is_fastapi or method in _ROUTE_METHODS:
                path = argument(ac.call, 0, "path")
                if path is None:
                    raise _Unknown
                if method not in ("websocket", "websocket_route", "add_websocket_route", "add_api_websocket_route"):
                    out.append(_join(prefix, self._literal(path.value, ac.site.scope)))
            elif method == "mount":
                path = argument(ac.call, 0, "path")
                sub = argument(ac.call, 1, "app")
                if path is None or sub is None:
                    raise _Unknown
                mount_prefix = _join(prefix, self._literal(path.value, ac.site.scope))
                out.extend(self._mounted_app(sub.value, ac.site.scope, mount_prefix, depth))
            elif method == "include_router":
                r_arg = argument(ac.call, 0, "router")
                sub_app = self.fw.app_for(r_arg.value, ac.site.scope) if r_arg is not None else None
                if sub_app is None:
                    raise _Unknown
                p_arg = keyword(ac.call, "prefix")
                sub_prefix = _join(prefix, self._literal(p_arg.value, ac.site.scope)) if p_arg is not None else prefix
                out.extend(self.app_paths(sub_app, sub_prefix, depth + 1))
            elif method == "host":
                raise _Unknown
        return out

    def _literal(self, expr: cst.BaseExpression, scope: Scope) -> str:
        key = (id(expr), id(scope))
        if key in self._literals:
            value = self._literals[key]
        else:
            lit = self.model.constant(expr, scope)
            value = self._literals[key] = string_value(lit) if lit is not None else None
        if value is None:
            raise _Unknown
        return value

    def _route_list(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> list[cst.Call]:
        if depth > 6:
            raise _Unknown
        if isinstance(expr, cst.Name):
            if expr.value in self.mutated:
                raise _Unknown
            found = self.model.value_of(expr, scope)
            if found is None:
                raise _Unknown
            expr, scope = found
        self._steps += 1
        if self._steps > _ROUTE_TABLE_STEPS:
            raise _Unknown
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._route_list(expr.left, scope, depth + 1) + self._route_list(expr.right, scope, depth + 1)
        if not isinstance(expr, (cst.List, cst.Tuple)):
            raise _Unknown
        out: list[cst.Call] = []
        for el in expr.elements:
            if isinstance(el, cst.StarredElement):
                out.extend(self._route_list(el.value, scope, depth + 1))
                continue
            v = el.value
            if not isinstance(v, cst.Call) or self.model.qualname(v.func, scope) not in _ROUTE_CLASSES:
                raise _Unknown
            out.append(v)
        return out

    def _route_paths(self, call: cst.Call, prefix: str, depth: int) -> list[str]:
        self._enter(call)
        try:
            return self._call_paths(call, prefix, depth)
        finally:
            self._open.discard(id(call))

    def _call_paths(self, call: cst.Call, prefix: str, depth: int) -> list[str]:
        route = self.by_node.get(id(call))
        site = self.model.call_of.get(id(call))
        if route is None or site is None:
            raise _Unknown
        if route.kind in ("http", "websocket"):
            if route.path is None:
                raise _Unknown
            return [_join(prefix, route.path)] if route.kind == "http" else []
        if route.kind == "host":
            raise _Unknown
        if route.path is None:
            raise _Unknown
        mount_prefix = _join(prefix, route.path)
        routes_arg = keyword(call, "routes")
        if routes_arg is not None:
            out: list[str] = []
            for child in self._route_list(routes_arg.value, site.scope):
                out.extend(self._route_paths(child, mount_prefix, depth))
            return out
        sub = argument(call, 1, "app")
        if sub is None:
            raise _Unknown
        return self._mounted_app(sub.value, site.scope, mount_prefix, depth)

    def _mounted_app(self, expr: cst.BaseExpression, scope: Scope, prefix: str, depth: int) -> list[str]:
        sub_app = self.fw.app_for(expr, scope)
        if sub_app is not None:
            return self.app_paths(sub_app, prefix, depth + 1)
        q = self.model.qualname(expr, scope)
        if q == "starlette.staticfiles.StaticFiles()":
            return []  # files only, never a health check
        raise _Unknown


class MissingHealthCheck(Rule):
    """
    ## What it does
    (Opt-in.) Reports a `Starlette()` or `FastAPI()` app whose routes, all
    known in this module, include no health-check path: no path segment
    `health`, `healthz`, `livez`, `readyz` or `ping` (nor the common
    variants `healthcheck`, `ready`, `live`, `status`, `heartbeat`...).
    Apps with routes this module cannot see (routers or apps imported from
    elsewhere, `routes=build_routes()`, an app handed to `setup(app)`), apps
    mounted into another app, and apps built in tests (`test_*` functions,
    `test_*.py`, `conftest.py`) are not judged; use per-file-ignores for other
    test helpers.

    ## Why is this bad?
    Orchestrators (Kubernetes liveness/readiness probes, load balancers,
    container health checks) need a cheap endpoint that says the process is
    up. Without one they probe a real page (slow, authenticated, or a 404), or
    nothing at all: a wedged worker keeps receiving traffic.

    ## Example
    ```python
    app = Starlette(routes=[Route("/", homepage)])
    ```

    ## Use instead
    ```python
    async def health(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", homepage), Route("/health", health)])
    ```
    """

    code = "STL703"
    name = "missing-health-check"
    summary = "(opt-in) app with no health-check route (`/health`, `/healthz`, `/livez`, `/readyz`, `/ping`)"
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        roots = fw.applications()
        if not roots:
            return
        stem = Path(model.filename).name
        if stem.startswith("test_") or stem.endswith("_test.py") or stem == "conftest.py":
            return  # apps built for tests are never deployed
        table = _RouteTable(fw)
        handed_over = self._apps_handed_over(model, fw)
        for app in roots:
            if id(app) in handed_over or self._rebound(model, app):
                continue
            fn = app.factory
            if fn is not None and fn.name.startswith("test"):
                continue
            try:
                paths = table.app_paths(app)
            except _Unknown:
                continue
            if not paths or any(_is_health_path(p) for p in paths):
                continue
            shown = ", ".join(dict.fromkeys(paths[:4])) + (", ..." if len(paths) > 4 else "")
            add = '@app.get("/health")' if app.kind == "fastapi" else 'Route("/health", health)'
            yield self.report(
                app.call,
                f"{app.label} has no health-check route among its {len(paths)} route(s) ({shown}): "
                f"orchestrators (Kubernetes probes, load balancers) cannot probe it; add a cheap "
                f"{add} (or /healthz, /livez, /readyz, /ping)",
            )

    @staticmethod
    def _rebound(model: Model, app: App) -> bool:
        """The app's variable is bound more than once (``app = Wrapper(app)``): calls on it are not tracked."""
        if app.name is None:
            return False
        scope = app.scope
        return len(scope.bindings.get(app.name, ())) != 1

    @staticmethod
    def _apps_handed_over(model: Model, fw: Framework) -> set[int]:
        """Apps passed to a call that may add routes (``setup(app)``) or that mounts them elsewhere."""
        out: set[int] = set()
        qn = model.call_qualname
        for site in model.calls:
            for arg in site.node.args:
                v = arg.value
                if not isinstance(v, (cst.Name, cst.Call)):
                    continue
                app = fw.app_for(v, site.scope)
                if app is None:
                    continue
                q = qn(site)
                if q is not None and (q in _SERVING_CALLS or _is_middleware_class(q)):
                    continue
                out.add(id(app))
        # apps returned by a factory: what the caller does with them is not tracked
        factories: dict[int, list[App]] = {}
        for app in fw.apps:
            fn = app.factory
            if fn is not None and any(r.value is not None and fw.app_for(r.value, fn.scope) is app for r in fn.returns):
                factories.setdefault(id(fn), []).append(app)
        for site in model.calls:
            func = site.node.func
            if not isinstance(func, cst.Attribute):
                continue
            base = func.value
            # app.router.add_route(...), app.routes.append(...): routes added out of our sight
            if isinstance(base, cst.Attribute) and isinstance(base.value, cst.Name):
                app = fw.app_for(base.value, site.scope)
                if app is not None:
                    out.add(id(app))
            if factories:
                # app = create_app(); app.add_route(...)  /  create_app().include_router(...)
                made: Optional[cst.BaseExpression] = base
                if isinstance(made, cst.Name):
                    found = model.value_of(made, site.scope)
                    made = found[0] if found is not None else None
                if isinstance(made, cst.Call):
                    fn = model.resolve_function(made.func, site.scope)
                    for app in factories.get(id(fn), ()) if fn is not None else ():
                        out.add(id(app))
        return out


def _is_middleware_class(q: str) -> bool:
    tail = q.rsplit(".", 1)[-1]
    return tail.endswith("Middleware") and tail != "Middleware" or q.startswith("starlette.middleware.")
