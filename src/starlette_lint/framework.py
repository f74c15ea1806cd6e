"""Starlette / FastAPI facts about a module, derived once from the :class:`Model`.

Everything here is computed from the model's call list and bindings, without
walking the tree again:

* ``apps``: every ``Starlette()``, ``FastAPI()``, ``Router()``, ``APIRouter()``
  (or same-module subclass) construction, with the variable it is bound to and
  every ``app.method(...)`` call / decorator made on it;
* ``routes``: ``Route``/``WebSocketRoute``/``Mount``/``Host`` objects,
  ``add_route``-style registrations and FastAPI path-operation decorators,
  with their full paths (Mount and router prefixes applied) and methods;
* ``middleware``: every place a middleware class is configured
  (``Middleware(C, ...)``, ``x.add_middleware(C, ...)``, ``C(app, ...)``) and
  the entries of every ``middleware=[...]`` list;
* ``handlers``: exception handler registrations;
* ``lifespans`` and ``startup_hooks`` (``on_startup=``, ``on_event``,
  ``add_event_handler``);
* ``roles`` of functions (endpoint, path operation, middleware, dependency,
  exception handler, lifespan, startup, background, task...) and the
  same-module call graph between functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Optional, Protocol, TypeVar, cast

import libcst as cst

from . import names as N
from .model import (
    LOCAL,
    CallSite,
    ClassInfo,
    Function,
    Model,
    Scope,
    all_params,
    argument,
    elements,
    keyword,
    plain_annotation,
    positional,
    string_value,
)

# Roles of functions (Framework.roles_of)
ENDPOINT = "endpoint"  # Starlette Route / add_route / @app.route endpoint function
WEBSOCKET_ENDPOINT = "websocket_endpoint"
PATH_OPERATION = "path_operation"  # FastAPI / APIRouter decorated function
ENDPOINT_METHOD = "endpoint_method"  # HTTPEndpoint / WebSocketEndpoint method
MIDDLEWARE = "middleware"  # BaseHTTPMiddleware.dispatch, ASGI __call__, @app.middleware
EXCEPTION_HANDLER = "exception_handler"
LIFESPAN = "lifespan"
STARTUP = "startup"  # startup or shutdown handler
DEPENDENCY = "dependency"
BACKGROUND = "background"
TASK = "task"  # passed to create_task / ensure_future / start_soon
CUSTOM_ENDPOINT = "custom_endpoint"  # decorated with a configured ``endpoint-decorators`` name

REQUEST_ROLES = frozenset(
    {ENDPOINT, WEBSOCKET_ENDPOINT, PATH_OPERATION, ENDPOINT_METHOD, MIDDLEWARE,
     EXCEPTION_HANDLER, DEPENDENCY, BACKGROUND, TASK, CUSTOM_ENDPOINT}
)
STARTUP_ROLES = frozenset({LIFESPAN, STARTUP})


AppKind = N.AppKind
RouteKind = Literal["http", "websocket", "mount", "host"]
RouteFramework = Literal["starlette", "fastapi", "unknown"]
MiddlewareConfigKind = Literal["wrapped", "add", "direct"]  # Middleware(C, ...) | x.add_middleware(C, ...) | C(app, ...)
MiddlewareEntryKind = Literal["list", "add"]
HandlerKind = Literal["dict", "add", "decorator"]
StartupKind = Literal["kwarg", "on_event", "add_event_handler"]
APPLICATION_KINDS: frozenset[AppKind] = frozenset({"starlette", "fastapi"})
CLASS_LABEL: dict[AppKind, str] = {"starlette": "Starlette", "fastapi": "FastAPI", "router": "Router",
                                   "apirouter": "APIRouter"}


class App:
    """An application or router object built in this module."""

    def __init__(self, kind: AppKind, site: CallSite, cls: str) -> None:
        self.kind = kind
        self.site = site
        self.call: cst.Call = site.node
        self.cls = cls  # qualified name of the class called
        self.name: Optional[str] = None  # variable name, when bound to one
        self.scope: Scope = site.scope  # where it is built (module or factory function)
        self.calls: list[AppCall] = []  # app.method(...) calls and decorators
        self.route_calls: list[cst.Call] = []  # Route(...)s passed in routes=[...]
        # a parameter annotated with an app class (``def setup(app: FastAPI)``): the name; ``site``
        # is then the first call on it, and nothing is known of its construction
        self.parameter: Optional[str] = None

    @property
    def is_fastapi(self) -> bool:
        return self.kind in ("fastapi", "apirouter")

    @property
    def class_label(self) -> str:
        """``Starlette``, ``FastAPI``, ``Router`` or ``APIRouter``."""
        return CLASS_LABEL[self.kind]

    @property
    def label(self) -> str:
        """How messages name the app: ``app = FastAPI()``, or ``FastAPI()`` when unnamed."""
        if self.parameter is not None:
            return f"{self.parameter}: {self.class_label}"
        return f"{self.class_label}()" if self.name is None else f"{self.name} = {self.class_label}()"

    @property
    def is_application(self) -> bool:
        """A Starlette or FastAPI app (served, with its own middleware stack), not a router; an app
        handed in as a parameter is not known to be served as it is (it may be mounted)."""
        return self.kind in APPLICATION_KINDS and self.parameter is None

    @property
    def factory(self) -> Optional[Function]:
        """The function that builds the app (an app factory), or None at module level."""
        return self.scope.enclosing_function

    def kwarg(self, name: str) -> Optional[cst.Arg]:
        """An argument of the construction (never known for a parameter)."""
        return keyword(self.call, name) if self.parameter is None else None

    def calls_named(self, *methods: str) -> list["AppCall"]:
        return [c for c in self.calls if c.method in methods]

    def __repr__(self) -> str:  # pragma: no cover
        return f"<App {self.kind} {self.name}>"


class AppCall:
    """``app.method(...)``: a call or a decorator on a known app object."""

    def __init__(self, app: App, method: str, site: CallSite) -> None:
        self.app = app
        self.method = method
        self.site = site
        self.call: cst.Call = site.node
        self.decorates = site.decorates  # Function/ClassInfo for ``@app.method(...)``


class Route:
    def __init__(self, kind: RouteKind, node: cst.Call, framework: RouteFramework) -> None:
        self.kind = kind
        self.node = node  # the Route(...) call, add_route call or decorator call
        self.framework = framework
        self.path_expr: Optional[cst.BaseExpression] = None
        self.path: Optional[str] = None  # literal path as written
        self.paths: list[str] = []  # full paths with known prefixes (may be several)
        self.endpoint_expr: Optional[cst.BaseExpression] = None
        self.function: Optional[Function] = None
        self.klass: Optional[ClassInfo] = None
        self.methods: Optional[tuple[str, ...]] = None  # None: not statically known
        self.app: Optional[App] = None  # the app/router it was registered on, if known
        self.parent: Optional[Route] = None  # enclosing Mount

    def describe(self) -> str:
        """``GET /users/{id}`` style label for messages (``@router.post("")``: the router's root, ``/``)."""
        path = _shown(self.paths[0] if self.paths else self.path)
        if self.kind == "websocket":
            return f"WEBSOCKET {path}"
        if self.methods:
            shown = [m for m in self.methods if m != "HEAD"] or list(self.methods)
            return f"{'/'.join(shown)} {path}"
        return path


class MiddlewareConfig:
    """One place a middleware class gets configured."""

    def __init__(self, kind: MiddlewareConfigKind, node: cst.Call, cls_expr: cst.BaseExpression, cls: Optional[str],
                 site: CallSite) -> None:
        self.kind = kind
        self.node = node
        self.cls_expr = cls_expr
        self.cls = cls  # canonical qualname, or <local>.X, or None
        self.site = site

    def option(self, name: str) -> Optional[cst.Arg]:
        return keyword(self.node, name)


class MiddlewareEntry:
    """An element of a ``middleware=[...]`` list, or an ``add_middleware`` call, on an app."""

    def __init__(self, app: App, kind: MiddlewareEntryKind, node: cst.CSTNode, expr: cst.BaseExpression,
                 cls: Optional[str], wrapped: bool, order: int) -> None:
        self.app = app
        self.kind = kind
        self.node = node  # list element expression, or the add_middleware call
        self.expr = expr  # class expression
        self.cls = cls
        self.wrapped = wrapped  # list entries: inside Middleware(...)
        self.order = order


class HandlerReg:
    def __init__(self, app: Optional[App], kind: HandlerKind, node: cst.CSTNode, key: Optional[cst.BaseExpression],
                 handler: Optional[cst.BaseExpression], function: Optional[Function]) -> None:
        self.app = app
        self.kind = kind
        self.node = node  # what a finding points at
        self.key = key
        self.handler = handler
        self.function = function


class StartupHook:
    def __init__(self, app: Optional[App], kind: StartupKind, node: cst.CSTNode, event: Optional[str],
                 handler: Optional[cst.BaseExpression], function: Optional[Function]) -> None:
        self.app = app
        self.kind = kind
        self.node = node  # the keyword Arg, the decorator call, or the add_event_handler call
        self.event = event  # startup | shutdown | None (unknown)
        self.handler = handler
        self.function = function


class Lifespan:
    def __init__(self, app: App, arg: cst.Arg, function: Optional[Function]) -> None:
        self.app = app
        self.arg = arg
        self.function = function


@dataclass(frozen=True)
class RemoteChain:
    """How calling a function of another module blocks: its helpers (absolute names, outermost
    first, the called function itself first) and the blocking call the last one makes."""

    helpers: tuple[str, ...]
    call: str  # the blocking call's qualified name (``requests.post``)
    caller: str  # the helper that makes it
    line: int  # where, in that helper's module
    in_async: bool = False  # that helper is async (awaited all the way): a thread around the first does not help
    more: int = 0  # other blocking calls that helper makes unconditionally
    asyncs: tuple[bool, ...] = ()  # which helpers are async, in the order of ``helpers``


class Elsewhere(Protocol):
    """What the framework step may learn from the project's other modules (the project-mode seam).

    A single-file analysis knows nothing there (:data:`NOWHERE`); a project index answers
    for the names a module imports from the project (:class:`.project.ProjectView`).
    """

    def app_kind(self, qualname: str) -> Optional[AppKind]:
        """The kind of app a class named by an imported qualified name builds (an
        ``APIRouter`` subclass defined in another module), or None when unknown."""

    def blocking_chain(self, qualname: str, calls: CallJudge, awaited: bool = False) -> Optional[RemoteChain]:
        """When calling a function of another module blocks the caller (``calls`` says which
        calls block, and which are never followed; ``awaited``: the call is awaited, so an async
        function runs), the chain down to that call; None when it does not or is unknown."""

    def outside(self, qualname: str) -> Optional[str]:
        """What a call of a name imported from another module of the project calls outside the
        project, through that module's bindings (``SessionLocal().query`` where ``SessionLocal =
        sessionmaker(...)``), when that differs from the name; None otherwise."""

    def instance_kind(self, qualname: str) -> Optional[AppKind]:
        """The kind of app an object another module of the project built is (``router =
        APIRouter()`` in ``app/deps.py`` for ``app.deps.router``), or None."""

    def routes_served_plainly(self, qualname: str) -> bool:
        """Whether a routes list of this module (``<local>.routes``) is served by another module of
        the project (``Starlette(routes=routes)``...) and used no other way, and no ``Mount``/
        ``Host`` (nor ``mount``, ``host``, an ``include_router`` prefix) of the project may put
        path parameters before routes: its paths are whole then. False when unknown (no project)."""

    def route_prefixes(self, qualname: str) -> list[str]:
        """The full path prefixes the routes of a router get from ``include_router`` calls in
        other modules (its own ``prefix=`` included); ``<local>.name`` is this module's router
        bound to ``name``. Empty when no other module includes it."""

    def app_setup(self, qualname: str, argument: str) -> Optional[AppSetup]:
        """What a project function does to the app handed to it (``register_handlers(app)``):
        ``argument`` is how the app is passed, ``@0`` by position or ``app@`` by keyword;
        ``<local>.name`` is this module's own function. None when it is not a project function
        this index can read."""

    def annotation(self, qualname: str) -> Optional[str]:
        """What a name imported from another module, used in a parameter's annotation, is:
        ``"type"`` (a project class, or an ``Annotated[...]`` alias with plain metadata),
        ``"depends"`` (an alias whose metadata may take request values by name: ``SessionDep =
        Annotated[Session, Depends(get_session)]``), ``"outside"`` (not of this project), or
        None when unknown."""


@dataclass(frozen=True)
class ForeignHandler:
    """An exception handler a project function registers on the app handed to it."""

    key: Optional[str]  # the key's absolute name (``builtins.Exception``, ``app.errors.AppError``), else None
    status: Optional[int]  # a literal status code key
    label: str  # the key as written
    bases: tuple[str, ...] = ()  # a project class key: its ancestors in method order, absolute
    # what the handler answers: per ``return``, the absolute name of the call it returns (None when
    # not a call of a name) and the string keys of the dict literal it is given first
    answers: tuple[tuple[Optional[str], Optional[tuple[str, ...]]], ...] = ()
    conditional: bool = False  # registered under a condition


@dataclass(frozen=True)
class ForeignMiddleware:
    """A middleware a project function adds to the app handed to it, in the order added."""

    cls: Optional[str]  # the class, absolute; None for a function, or a class not known by name
    label: str  # the class or function name
    function: bool = False  # an ``@app.middleware("http")`` function
    responds: bool = True  # it may answer a request itself (a function: it builds a response)
    catches_all: bool = False  # a function middleware that catches every exception
    conditional: bool = False  # added under a condition (or in a loop)


@dataclass(frozen=True)
class AppSetup:
    """What calling a project function does to an app: the handlers and middleware it registers
    (also through the functions it hands the app to), and whether it may do more than that."""

    function: str  # absolute name
    handlers: tuple[ForeignHandler, ...] = ()
    middleware: tuple[ForeignMiddleware, ...] = ()
    opaque: bool = False  # it hands the app on, or changes its handlers or middleware, out of sight

    @property
    def label(self) -> str:
        return self.function + "()"


class CallJudge(Protocol):
    """What blocks, for a chain search across modules (hashable: searches are memoised by it)."""

    def blocks(self, qualname: str, quiet: frozenset[str], given: frozenset[str]) -> bool:
        """A call of ``qualname`` blocks (``quiet``: its arguments given literally False or 0,
        ``given``: those given at all, ``@i`` by position and ``name@`` by keyword)."""

    def safe(self, qualname: str) -> bool:
        """A call never reported nor followed (``safe-calls``)."""

    def __hash__(self) -> int:
        """Judges are hashable: equal judges share memoised searches."""


class _Nowhere:
    def app_kind(self, qualname: str) -> Optional[AppKind]:
        return None

    def blocking_chain(self, qualname: str, calls: CallJudge, awaited: bool = False) -> Optional[RemoteChain]:
        return None

    def outside(self, qualname: str) -> Optional[str]:
        return None

    def instance_kind(self, qualname: str) -> Optional[AppKind]:
        return None

    def route_prefixes(self, qualname: str) -> list[str]:
        return []

    def routes_served_plainly(self, qualname: str) -> bool:
        return False

    def app_setup(self, qualname: str, argument: str) -> Optional[AppSetup]:
        return None

    def annotation(self, qualname: str) -> Optional[str]:
        return None


NOWHERE: Elsewhere = _Nowhere()
D = TypeVar("D")


class Framework:
    """Starlette and FastAPI facts about one module: the pipeline's second step, after the Model.

    Built once per file (``Framework(model)``) and handed to every rule with the model. Roles
    and routes of functions live here (:meth:`roles_of`, :meth:`routes_of`); a rule family's
    own shared facts live in :meth:`derived`, one typed object per family.
    """

    def __init__(self, model: Model, elsewhere: Elsewhere = NOWHERE) -> None:
        self.model = model
        self.elsewhere = elsewhere
        m = model
        self._roles: dict[int, set[str]] = {}  # id(Function) -> roles
        self._routes_of: dict[int, list[Route]] = {}  # id(Function) -> routes naming it as endpoint
        self._derived: dict[type, object] = {}
        self.apps: list[App] = []
        self.app_by_call: dict[int, App] = {}
        self.routes: list[Route] = []
        self.middleware: list[MiddlewareConfig] = []
        self.middleware_entries: list[MiddlewareEntry] = []
        self.handlers: list[HandlerReg] = []
        self.startup_hooks: list[StartupHook] = []
        self.lifespans: list[Lifespan] = []
        self.edges: dict[int, list[tuple[CallSite, Function]]] = {}  # id(Function) -> callees
        self.callers: dict[int, list[tuple[CallSite, Function]]] = {}
        self._app_classes = self._local_app_classes()
        self._class_routes: Optional[dict[int, list[Route]]] = None  # see class_routes
        self.parameter_apps: list[App] = []  # apps handed in as parameters (not in ``apps``)
        self._parameter_apps: dict[int, Optional[App]] = {}  # id(parameter node) -> its App, or None
        qn = m.call_qualname

        # 1. apps
        for site in m.calls:
            q = qn(site)
            if q is None:
                continue
            kind = self.app_kind(q)
            if kind is None:
                continue
            app = App(kind, site, q)
            parent = site.parent
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1 \
                    and isinstance(parent.targets[0].target, cst.Name) and parent.value is site.node:
                app.name = parent.targets[0].target.value
            elif isinstance(parent, cst.AnnAssign) and isinstance(parent.target, cst.Name) and parent.value is site.node:
                app.name = parent.target.value
            self.apps.append(app)
            self.app_by_call[id(site.node)] = app

        # 2. everything else, one pass over the calls
        fastapi_module = m.imports_any("fastapi")
        for site in m.calls:
            call = site.node
            func = call.func
            q = qn(site)
            if isinstance(func, cst.Attribute):
                owner = (self.app_for(func.value, site.scope, site.node) if self.apps else None) \
                    or self._parameter_app(func, site)
                if owner is not None:
                    ac = AppCall(owner, func.attr.value, site)
                    owner.calls.append(ac)
                    self._app_call(ac)
                    continue
                if site.decorates is not None and (fastapi_module or self._router_elsewhere(func, site.scope)):
                    self._unknown_decorator(site, func)
            if q is None:
                continue
            q = _ROUTE_ALIASES.get(q, q)
            if q in (N.ROUTE, N.WEBSOCKET_ROUTE, N.MOUNT, N.HOST):
                self._route_object(site, q)
            elif q == N.MIDDLEWARE:
                first = positional(call, 0) or keyword(call, "cls")
                if first is not None:
                    self.middleware.append(MiddlewareConfig(
                        "wrapped", call, first.value, m.qualname(first.value, site.scope), site))
                    fn = None
                    d = keyword(call, "dispatch")
                    if d is not None:
                        fn = m.resolve_function(d.value, site.scope)
                        if fn is not None:
                            self.add_role(fn, MIDDLEWARE)
                    self._mark_middleware_class(first.value, site.scope)
            elif q in N.DEPENDS:
                dep = positional(call, 0) or keyword(call, "dependency")
                if dep is not None:
                    self._mark(dep.value, site.scope, DEPENDENCY)
            elif q == N.BACKGROUND_TASK or q.endswith(".add_task") and q.startswith(N.BACKGROUND_TASKS):
                target = positional(call, 0) or keyword(call, "func")
                if target is not None:
                    self._mark(target.value, site.scope, BACKGROUND)
            elif q in _TASK_STARTERS or q.endswith(("().create_task", "().start_soon", "().start")) and _is_task_group(q):
                target = positional(call, 0) or keyword(call, "coro")
                if target is not None:
                    inner = target.value
                    if isinstance(inner, cst.Call):
                        inner = inner.func
                    self._mark(inner, site.scope, TASK)
            elif N.APP_CLASSES.get(q) is None and self._is_middleware_class_call(q, site):
                pass

        # 3. routes: prefixes from Mounts and routers; roles for classes
        self._finish_routes()
        self._class_roles()
        self._configured_endpoints()
        self._call_graph()

    # ------------------------------------------------------------ roles, routes, family facts
    def add_role(self, fn: Function, role: str) -> None:
        self._roles.setdefault(id(fn), set()).add(role)

    def roles_of(self, fn: Function) -> frozenset[str] | set[str]:
        """What the framework calls ``fn`` as (ENDPOINT, DEPENDENCY...); empty when nothing."""
        return self._roles.get(id(fn), _NO_ROLES)

    def routes_of(self, fn: Function) -> list[Route]:
        """The routes that name ``fn`` as their endpoint, in registration order."""
        return self._routes_of.get(id(fn), [])

    def derived(self, kind: Callable[["Framework"], D]) -> D:
        """A rule family's shared facts about this module: ``kind(framework)``, built once.

        ``kind`` is the family's facts class (``EventLoopFacts``...): its constructor takes
        the framework (and the model through it), so facts are typed at every use.
        """
        found = self._derived.get(cast(type, kind))
        if found is None:
            found = self._derived[cast(type, kind)] = kind(self)
        return cast(D, found)

    def records(self) -> list[object]:
        """Every record this step made (for Model.release): apps, routes, registrations, family facts."""
        out: list[object] = [self]
        for value in vars(self).values():
            if type(value) is list:
                out += value
        out += self._derived.values()
        return out

    # ------------------------------------------------------------ apps
    def app_kind(self, qualname: str) -> Optional[AppKind]:
        """The kind of app constructing ``qualname`` builds: the frameworks' classes, this
        module's subclasses of them, or (project mode) another module's."""
        kind = N.APP_CLASSES.get(qualname) or self._app_classes.get(qualname)
        if (kind is None and self.elsewhere is not NOWHERE and not qualname.startswith(LOCAL)
                and qualname.rpartition(".")[2][:1].isupper()):
            # a call per call site: only when there is a project, and for names spelled like classes
            # (``AuditedRouter``; ``crud.get_user`` is not one, and asking would read its module)
            kind = self.elsewhere.app_kind(qualname)
        return kind

    def _local_app_classes(self) -> dict[str, AppKind]:
        out: dict[str, AppKind] = {}
        for info in self.model.classes:
            for base in self.model.class_ancestors(info):
                kind = N.APP_CLASSES.get(base)
                if kind is not None:
                    out[f"{LOCAL}.{info.qualname}"] = kind
                    break
        return out

    def setup_at(self, site: CallSite, i: int) -> Optional[AppSetup]:
        """What the project function a call hands its argument ``i`` (an app) to does to it
        (project mode: :meth:`Elsewhere.app_setup`), or None."""
        q = self.model.call_qualname(site)
        if q is None or "(" in q:
            return None
        arg = site.node.args[i]
        return self.elsewhere.app_setup(q, f"{arg.keyword.value}@" if arg.keyword is not None else f"@{i}")

    def app_for(self, expr: cst.BaseExpression, scope: Scope, at: Optional[cst.CSTNode] = None) -> Optional[App]:
        """The app an expression refers to: a variable bound once to a construction, or (``at``, a
        node at module level) the construction a module-level name was last bound to above it."""
        if isinstance(expr, cst.Call):
            return self.app_by_call.get(id(expr))
        found = self.model.value_of(expr, scope)
        if found is None and at is not None and scope is self.model.scope:
            found = self.model.value_before(expr, at)
        if found is None:
            return None
        value, _ = found
        if isinstance(value, cst.Call):
            return self.app_by_call.get(id(value))
        return None

    def _app_call(self, ac: AppCall) -> None:
        m = self.model
        app, method, call, site = ac.app, ac.method, ac.call, ac.site
        if method in N.PATH_OPERATION_METHODS and ac.decorates is not None and app.is_fastapi:
            self._path_operation(site, method, app, "fastapi")
        elif method in ("route", "websocket_route") and ac.decorates is not None:
            kind: RouteKind = "websocket" if method == "websocket_route" else "http"
            route = Route(kind, call, "fastapi" if app.is_fastapi else "starlette")
            self._fill_route(route, argument(call, 0, "path"), None, keyword(call, "methods"), site.scope)
            route.app = app
            if isinstance(ac.decorates, Function):
                self._attach(route, ac.decorates, ENDPOINT if kind == "http" else WEBSOCKET_ENDPOINT)
            self.routes.append(route)
        elif method in ("add_route", "add_websocket_route", "add_api_route", "add_api_websocket_route"):
            kind = "websocket" if "websocket" in method else "http"
            fw: RouteFramework = "fastapi" if method.startswith("add_api") or (app.is_fastapi and method == "add_route") \
                else "starlette"
            route = Route(kind, call, "starlette" if method in ("add_route", "add_websocket_route") else fw)
            self._fill_route(route, argument(call, 0, "path"), argument(call, 1, "endpoint") or keyword(call, "route"),
                             keyword(call, "methods"), site.scope)
            route.app = app
            self.routes.append(route)
        elif method == "mount":
            route = Route("mount", call, "starlette")
            self._fill_route(route, argument(call, 0, "path"), argument(call, 1, "app"), None, site.scope)
            route.app = app
            self.routes.append(route)
        elif method == "middleware" and ac.decorates is not None:
            if isinstance(ac.decorates, Function):
                self.add_role(ac.decorates, MIDDLEWARE)
        elif method == "exception_handler" and ac.decorates is not None:
            key = argument(call, 0, "exc_class_or_status_code")
            fn = ac.decorates if isinstance(ac.decorates, Function) else None
            if fn is not None:
                self.add_role(fn, EXCEPTION_HANDLER)
            self.handlers.append(HandlerReg(app, "decorator", call, key.value if key else None, None, fn))
        elif method == "add_exception_handler":
            key = argument(call, 0, "exc_class_or_status_code")
            h = argument(call, 1, "handler")
            fn = m.resolve_function(h.value, site.scope) if h is not None else None
            if fn is not None:
                self.add_role(fn, EXCEPTION_HANDLER)
            self.handlers.append(HandlerReg(app, "add", call, key.value if key else None, h.value if h else None, fn))
        elif method == "on_event" and ac.decorates is not None:
            ev = argument(call, 0, "event_type")
            fn = ac.decorates if isinstance(ac.decorates, Function) else None
            if fn is not None:
                self.add_role(fn, STARTUP)
            self.startup_hooks.append(StartupHook(app, "on_event", call, string_value(ev.value) if ev else None, None, fn))
        elif method == "add_event_handler":
            ev = argument(call, 0, "event_type")
            h = argument(call, 1, "func")
            fn = m.resolve_function(h.value, site.scope) if h is not None else None
            if fn is not None:
                self.add_role(fn, STARTUP)
            self.startup_hooks.append(StartupHook(app, "add_event_handler", call, string_value(ev.value) if ev else None,
                                                  h.value if h else None, fn))
        elif method == "add_middleware":
            first = argument(call, 0, "middleware_class")
            if first is not None:
                cls = m.qualname(first.value, site.scope)
                self.middleware.append(MiddlewareConfig("add", call, first.value, cls, site))
                self._mark_middleware_class(first.value, site.scope)

    # what is registered on an app handed in as a parameter: routes, handlers and middleware
    # functions (each names its function's role); what configures the app itself is left alone
    _PARAMETER_METHODS = frozenset(N.PATH_OPERATION_METHODS) | {
        "route", "websocket_route", "exception_handler", "add_exception_handler", "middleware"}

    def _parameter_app(self, func: cst.Attribute, site: CallSite) -> Optional[App]:
        """``app.get(...)`` / ``@app.exception_handler(...)`` on a parameter annotated with an app
        class (``def register(app: FastAPI)``): the parameter's App, made on first use."""
        if func.attr.value not in self._PARAMETER_METHODS or not isinstance(func.value, cst.Name):
            return None
        bindings, where = self.model.lookup(func.value.value, site.scope)
        if not bindings or where is None or len(bindings) != 1 or bindings[0].kind != "param":
            return None
        b = bindings[0]
        found = self._parameter_apps.get(id(b.node))
        if found is not None or id(b.node) in self._parameter_apps:
            return found
        ann = plain_annotation(b.value)
        q = self.model.qualname(ann, where.parent or where) if ann is not None else None
        kind = self.app_kind(q) if q is not None else None
        app = None
        if kind is not None and q is not None:
            app = App(kind, site, q)
            app.parameter = app.name = func.value.value
            self.parameter_apps.append(app)
        self._parameter_apps[id(b.node)] = app
        return app

    def _router_elsewhere(self, func: cst.Attribute, scope: Scope) -> bool:
        """Project mode: ``@router.get(...)`` in a module that imports no fastapi, where ``router``
        is an ``APIRouter`` or app another module of the project built."""
        if self.elsewhere is NOWHERE or func.attr.value not in N.PATH_OPERATION_METHODS:
            return False
        name = self.model.qualname(func.value, scope)
        return name is not None and not name.startswith(LOCAL) and "(" not in name \
            and self.elsewhere.instance_kind(name) in ("fastapi", "apirouter")

    def _unknown_decorator(self, site: CallSite, func: cst.Attribute) -> None:
        """``@router.get("/x")`` on an object of unknown type, in a module importing fastapi."""
        method = func.attr.value
        if method not in N.PATH_OPERATION_METHODS or not isinstance(site.decorates, Function):
            return
        path = argument(site.node, 0, "path")
        p = string_value(path.value) if path is not None else None
        if p is None or not (p == "" or p.startswith("/")):
            return
        self._path_operation(site, method, None, "unknown")

    def _path_operation(self, site: CallSite, method: str, app: Optional[App], framework: RouteFramework) -> None:
        call = site.node
        kind: RouteKind = "websocket" if method == "websocket" else "http"
        route = Route(kind, call, framework)
        methods_arg = keyword(call, "methods") if method == "api_route" else None
        self._fill_route(route, argument(call, 0, "path"), None, methods_arg, site.scope)
        if method != "api_route":
            route.methods = N.PATH_OPERATION_METHODS[method]
        elif methods_arg is None:
            route.methods = ("GET",)
        route.app = app
        if isinstance(site.decorates, Function):
            self._attach(route, site.decorates, PATH_OPERATION)
        self.routes.append(route)

    # ---------------------------------------------------------- routes
    def _route_object(self, site: CallSite, q: str) -> None:
        call = site.node
        if q == N.ROUTE:
            route = Route("http", call, "starlette")
            self._fill_route(route, argument(call, 0, "path"), argument(call, 1, "endpoint"), keyword(call, "methods"),
                             site.scope)
        elif q == N.WEBSOCKET_ROUTE:
            route = Route("websocket", call, "starlette")
            self._fill_route(route, argument(call, 0, "path"), argument(call, 1, "endpoint"), None, site.scope)
        elif q == N.MOUNT:
            route = Route("mount", call, "starlette")
            self._fill_route(route, argument(call, 0, "path"), keyword(call, "app"), None, site.scope)
        else:
            route = Route("host", call, "starlette")
            self._fill_route(route, None, keyword(call, "app"), None, site.scope)
        self.routes.append(route)

    def _fill_route(self, route: Route, path: Optional[cst.Arg], endpoint: Optional[cst.Arg],
                    methods: Optional[cst.Arg], scope: Scope) -> None:
        m = self.model
        if path is not None:
            route.path_expr = path.value
            lit = m.constant(path.value, scope)
            route.path = string_value(lit) if lit is not None else None
        if endpoint is not None:
            route.endpoint_expr = endpoint.value
            fn = m.resolve_function(endpoint.value, scope)
            if fn is not None:
                route.function = fn
            else:
                route.klass = m.resolve_class(endpoint.value, scope)
        if methods is not None:
            lit = m.constant(methods.value, scope)
            els = elements(lit) if lit is not None else None
            if els is not None:
                vals = [v for v in (string_value(e) for e in els) if v is not None]
                if len(vals) == len(els):
                    route.methods = tuple(v.upper() for v in vals)
        elif route.kind == "http" and route.framework == "starlette":
            route.methods = ("GET", "HEAD") if route.klass is None else None
        if route.function is not None and route.kind in ("http", "websocket") and route.framework == "starlette":
            self._attach(route, route.function, ENDPOINT if route.kind == "http" else WEBSOCKET_ENDPOINT)

    def _attach(self, route: Route, fn: Function, role: str) -> None:
        self.add_role(fn, role)
        self._routes_of.setdefault(id(fn), []).append(route)
        route.function = fn

    def route_children(self, expr: Optional[cst.BaseExpression], scope: Scope, _depth: int = 0,
                       _seen: Optional[dict[int, int]] = None) -> list[cst.Call]:
        """Route/Mount calls listed in a routes expression (literal list or a constant name).

        A list or ``+`` expression met again (``routes = [*routes, *routes]``, lists that
        name each other) is not read again unless nearer the top (where the depth bound
        lets more of it be read): no exponential expansion. Each call is listed once.
        """
        if expr is None or _depth > 5:
            return []
        lit = expr
        if isinstance(expr, cst.Name):
            found = self.model.value_of(expr, scope)
            if found is None:
                return []
            lit, scope = found
        seen: dict[int, int] = {} if _seen is None else _seen  # id(expression) -> least depth it was read at
        if seen.get(id(lit), _depth + 1) <= _depth:
            return []
        seen[id(lit)] = _depth
        out: list[cst.Call] = []
        if isinstance(lit, cst.BinaryOperation) and isinstance(lit.operator, cst.Add):
            out = self.route_children(lit.left, scope, _depth + 1, seen) + \
                self.route_children(lit.right, scope, _depth + 1, seen)
        elif isinstance(lit, (cst.List, cst.Tuple)):
            for el in lit.elements:
                v = el.value
                if isinstance(el, cst.StarredElement):
                    out.extend(self.route_children(v, scope, _depth + 1, seen))
                elif isinstance(v, cst.Call):
                    out.append(v)
        if _seen is None and len(out) > 1:
            out = list({id(c): c for c in out}.values())
        return out

    def _finish_routes(self) -> None:
        m = self.model
        by_call = {id(r.node): r for r in self.routes}
        # Mount(..., routes=[...]) and Router(routes=[...]) parents
        for r in self.routes:
            if r.kind not in ("mount", "host"):
                continue
            site = m.call_of.get(id(r.node))
            if site is None:
                continue
            routes_arg = keyword(r.node, "routes") if r.kind == "mount" else None
            for child in self.route_children(routes_arg.value if routes_arg else None, site.scope):
                cr = by_call.get(id(child))
                if cr is not None and cr.parent is None:
                    cr.parent = r
            # Mount("/x", app=Router(routes=[...])) / Mount("/x", app=sub_app)
            app_arg = keyword(r.node, "app") if r.kind in ("mount", "host") else None
            if app_arg is None and r.kind == "mount":
                app_arg = positional(r.node, 1)
            if app_arg is not None:
                sub = self.app_for(app_arg.value, site.scope)
                if sub is not None:
                    for cr in self._routes_of_app(sub, by_call):
                        if cr.parent is None:
                            cr.parent = r
        registered: dict[int, list[cst.Call]] = {}  # id(app) -> the routes registered on it (app.add_route...)
        for rr in self.routes:
            if rr.app is not None:
                registered.setdefault(id(rr.app), []).append(rr.node)
        for app in self.apps:
            routes_arg = app.kwarg("routes")
            if routes_arg is not None:
                app.route_calls = self.route_children(routes_arg.value, app.scope)
            app.route_calls.extend(registered.get(id(app), ()))
            for child in app.route_calls:
                cr = by_call.get(id(child))
                if cr is not None and cr.app is None:
                    cr.app = app
        # FastAPI router prefixes: APIRouter(prefix=...) and include_router(router, prefix=...), through
        # routers included in routers; a router of unknown type (``router = make_router(prefix="/x")``)
        # is known by the call that built it
        own: dict[int, str] = {}  # id(router's constructor call) -> its own prefix
        includes: dict[int, list[tuple[int, str]]] = {}  # id(router call) -> [(id(includer call), prefix)]
        for site in m.calls if self.routes else ():
            func = site.node.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "include_router"):
                continue
            r_arg = argument(site.node, 0, "router")
            included = self._router_call(r_arg.value, site.scope, own) if r_arg is not None else None
            if included is None:
                continue
            parent = self._router_call(func.value, site.scope, own)
            p_arg = keyword(site.node, "prefix")
            lit = m.constant(p_arg.value, site.scope) if p_arg is not None else None
            p = string_value(lit) if lit is not None else ("" if p_arg is None else None)
            if p is not None:
                includes.setdefault(included, []).append((parent if parent is not None else 0, p))

        def outer(key: int, path: frozenset[int]) -> list[str]:
            """The full prefixes the routers including ``key`` put before its own prefix."""
            out: list[str] = []
            for parent, p in includes.get(key, ()):
                if parent in path or len(out) > 20:
                    continue
                above = outer(parent, path | {parent}) if parent else []
                out.extend(o + own.get(parent, "") + p for o in (above or [""]))
            return out

        for r in self.routes:
            if r.path is None:
                continue
            prefix = ""
            key = None
            if r.app is not None and r.app.kind == "apirouter" and r.app.parameter is None:
                key = self._router_call(r.app.call, r.app.scope, own)
            elif r.app is None and r.framework == "unknown" and isinstance(r.node.func, cst.Attribute):
                site = m.call_of.get(id(r.node))
                key = self._router_call(r.node.func.value, site.scope, own) if site is not None else None
            if key is not None:
                prefix = own.get(key, "")
                outers = outer(key, frozenset({key}))
                if outers:
                    r.paths = [o + prefix + r.path for o in outers]
                    continue
            elsewhere = self._prefixes_elsewhere(r)
            if elsewhere:  # project mode: included by another module (its own prefix included)
                r.paths = [p + r.path for p in elsewhere]
                continue
            full = prefix + r.path
            node = r.parent
            ok = True
            seen = 0
            chain = {id(r)}
            while node is not None and seen < 20:
                if id(node) in chain:
                    ok = False  # Mounts that list each other: no path
                    break
                chain.add(id(node))
                if node.kind == "mount":
                    if node.path is None:
                        ok = False
                        break
                    full = node.path.rstrip("/") + full if full.startswith("/") else node.path + full
                node = node.parent
                seen += 1
            if ok:
                r.paths = [full]

    def _prefixes_elsewhere(self, r: Route) -> list[str]:
        """Project mode: the prefixes other modules' ``include_router`` calls give a route's
        router, a module-level ``APIRouter`` of this module or one imported from another."""
        if self.elsewhere is NOWHERE:
            return []
        if r.app is not None:
            if r.app.kind != "apirouter" or r.app.name is None or r.app.scope is not self.model.scope:
                return []
            return self.elsewhere.route_prefixes(f"{LOCAL}.{r.app.name}")
        if r.framework == "unknown" and isinstance(r.node.func, cst.Attribute):
            site = self.model.call_of.get(id(r.node))
            name = self.model.qualname(r.node.func.value, site.scope) if site is not None else None
            if name is not None and not name.startswith(LOCAL) and "(" not in name:
                return self.elsewhere.route_prefixes(name)
        return []

    def _router_call(self, expr: cst.BaseExpression, scope: Scope, own: dict[int, str]) -> Optional[int]:
        """``id()`` of the call that built a router (a known app's, or one bound once to a name);
        records its own ``prefix=`` (a literal; "" otherwise) in ``own``."""
        app = self.app_for(expr, scope)
        if app is not None:
            call, scope = app.call, app.scope
        elif isinstance(expr, cst.Call):
            call = expr
        else:
            found = self.model.value_of(expr, scope)
            if found is None or not isinstance(found[0], cst.Call):
                return None
            call, scope = found[0], found[1]
        if id(call) not in own:
            p_arg = keyword(call, "prefix") if app is None or app.kind == "apirouter" else None
            lit = self.model.constant(p_arg.value, scope) if p_arg is not None else None
            own[id(call)] = (string_value(lit) or "") if lit is not None else ""
        return id(call)

    def _routes_of_app(self, app: App, by_call: dict[int, Route]) -> Iterator[Route]:
        site = app.site
        routes_arg = app.kwarg("routes")
        if routes_arg is not None:
            for child in self.route_children(routes_arg.value, site.scope):
                cr = by_call.get(id(child))
                if cr is not None:
                    yield cr

    # -------------------------------------------------------- roles
    def _mark(self, expr: cst.BaseExpression, scope: Scope, role: str) -> None:
        fn = self.model.resolve_function(expr, scope)
        if fn is not None:
            self.add_role(fn, role)
            return
        info = self.model.resolve_class(expr, scope)
        if info is not None:
            call = info.methods.get("__call__")
            if call is not None:
                self.add_role(call, role)

    def _mark_middleware_class(self, expr: cst.BaseExpression, scope: Scope) -> None:
        info = self.model.resolve_class(expr, scope)
        if info is None:
            return
        self._middleware_class(info)

    def _middleware_class(self, info: ClassInfo) -> None:
        for name in ("dispatch", "__call__"):
            fn = self.model._method(info, name)
            if fn is not None and fn.klass is info or (fn is not None and name == "dispatch"):
                self.add_role(fn, MIDDLEWARE)

    def _is_middleware_class_call(self, q: str, site: CallSite) -> bool:
        """``SomeMiddleware(app, ...)`` wrapping an ASGI app directly."""
        if not q.startswith("starlette.middleware.") or not q[-1:].isalnum():
            return False
        tail = q.rsplit(".", 1)[-1]
        if not tail.endswith("Middleware") or tail == "Middleware":
            return False
        first = positional(site.node, 0) or keyword(site.node, "app")
        if first is None:
            return False
        self.middleware.append(MiddlewareConfig("direct", site.node, site.node.func, q, site))
        return True

    def _class_roles(self) -> None:
        m = self.model
        for info in m.classes:
            ancestors = m.class_ancestors(info)
            if not ancestors:
                # pure ASGI middleware: __call__(self, scope, receive, send)
                call = info.methods.get("__call__")
                if call is not None and call.is_async and _asgi_signature(call):
                    self.add_role(call, MIDDLEWARE)
                continue
            if N.BASE_HTTP_MIDDLEWARE in ancestors:
                d = m._method(info, "dispatch")
                if d is not None and d.klass is info:
                    self.add_role(d, MIDDLEWARE)
            if N.HTTP_ENDPOINT in ancestors:
                for name, fn in info.methods.items():
                    if name.lower() in N.HTTP_ENDPOINT_METHODS:
                        self.add_role(fn, ENDPOINT_METHOD)
            if N.WEBSOCKET_ENDPOINT in ancestors:
                for name, fn in info.methods.items():
                    if name in N.WEBSOCKET_ENDPOINT_METHODS:
                        self.add_role(fn, ENDPOINT_METHOD)
        # handlers / lifespans / startup hooks given to constructors
        for app in self.apps:
            scope = app.scope
            ls = app.kwarg("lifespan")
            if ls is not None:
                handler = m.resolve_function(ls.value, scope)
                if handler is not None:
                    self.add_role(handler, LIFESPAN)
                self.lifespans.append(Lifespan(app, ls, handler))
            for kw in ("on_startup", "on_shutdown"):
                arg = app.kwarg(kw)
                if arg is None:
                    continue
                lit = m.constant(arg.value, scope)
                funcs = elements(lit) if lit is not None else None
                event = "startup" if kw == "on_startup" else "shutdown"
                if funcs:
                    for f in funcs:
                        handler = m.resolve_function(f, scope)
                        if handler is not None:
                            self.add_role(handler, STARTUP)
                        self.startup_hooks.append(StartupHook(app, "kwarg", arg, event, f, handler))
                else:
                    self.startup_hooks.append(StartupHook(app, "kwarg", arg, event, None, None))
            eh = app.kwarg("exception_handlers")
            if eh is not None:
                lit = m.constant(eh.value, scope)
                if isinstance(lit, cst.Dict):
                    for el in lit.elements:
                        if isinstance(el, cst.DictElement):
                            handler = m.resolve_function(el.value, scope)
                            if handler is not None:
                                self.add_role(handler, EXCEPTION_HANDLER)
                            self.handlers.append(HandlerReg(app, "dict", el.key, el.key, el.value, handler))
            mw = app.kwarg("middleware")
            if mw is not None:
                lit = m.constant(mw.value, scope)
                els = elements(lit) if lit is not None else None
                for i, e in enumerate(els or ()):
                    wrapped = False
                    cls_expr = e
                    if isinstance(e, cst.Call) and m.qualname(e.func, scope) == N.MIDDLEWARE:
                        first = positional(e, 0) or keyword(e, "cls")
                        if first is None:
                            continue
                        wrapped = True
                        cls_expr = first.value
                    cls = m.qualname(cls_expr, scope) if isinstance(cls_expr, (cst.Name, cst.Attribute)) else None
                    self.middleware_entries.append(MiddlewareEntry(app, "list", e, cls_expr, cls, wrapped, i))
        for app in self.apps:
            order = 0
            for ac in app.calls_named("add_middleware"):
                first = argument(ac.call, 0, "middleware_class")
                if first is None:
                    continue
                cls = m.qualname(first.value, ac.site.scope)
                self.middleware_entries.append(MiddlewareEntry(app, "add", ac.call, first.value, cls, True, order))
                order += 1

    def _configured_endpoints(self) -> None:
        """Functions decorated with a name from the ``endpoint-decorators`` setting are request-path code."""
        wanted = frozenset(getattr(self.model.config, "endpoint_decorators", None) or ())
        if not wanted:
            return
        m = self.model
        for fn in m.functions:
            for dec in fn.decorators:
                expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
                if m.qualname(expr, fn.outer) in wanted:
                    self.add_role(fn, CUSTOM_ENDPOINT)

    # ------------------------------------------------------- call graph
    def _call_graph(self) -> None:
        m = self.model
        for fn in m.functions:
            out: list[tuple[CallSite, Function]] = []
            for site in fn.calls:
                target = m.resolve_function(site.node.func, site.scope)
                if target is not None:
                    out.append((site, target))
                    self.callers.setdefault(id(target), []).append((site, fn))
            if out:
                self.edges[id(fn)] = out

    def callees(self, fn: Function) -> list[tuple[CallSite, Function]]:
        """Same-module functions ``fn`` calls directly, with the call site."""
        return self.edges.get(id(fn), [])

    def callers_of(self, fn: Function) -> list[tuple[CallSite, Function]]:
        return self.callers.get(id(fn), [])

    def reachable(self, roots: Iterable[Function],
                  follow: Optional[Callable[[Function, CallSite, Function], bool]] = None,
                  callees: Optional[Callable[[Function], list[tuple[CallSite, Function]]]] = None,
                  ) -> dict[int, tuple[Function, Function]]:
        """Functions reachable from ``roots`` through direct calls.

        ``follow(caller, site, callee)`` decides whether an edge is followed;
        ``callees(fn)`` replaces :meth:`callees` for a rule family with a richer graph.
        Roots are expanded last-first.
        Returns ``id(fn) -> (fn, the root it was first reached from)``; recursion terminates.
        """
        seen: dict[int, tuple[Function, Function]] = {}
        todo: list[tuple[Function, Function]] = [(r, r) for r in roots]
        while todo:
            fn, root = todo.pop()
            if id(fn) in seen:
                continue
            seen[id(fn)] = (fn, root)
            for site, callee in (callees or self.callees)(fn):
                if id(callee) not in seen and (follow is None or follow(fn, site, callee)):
                    todo.append((callee, root))
        return seen

    # ------------------------------------------------------- queries
    def class_routes(self, klass: ClassInfo) -> list[Route]:
        """The routes whose endpoint is this same-module class (an HTTPEndpoint), in order.

        Indexed once: asked for every endpoint method (messages, path parameters), a scan of
        every route each time was quadratic in a module with many endpoint classes.
        """
        index = self._class_routes
        if index is None:
            index = self._class_routes = {}
            for r in self.routes:
                if r.klass is not None:
                    index.setdefault(id(r.klass), []).append(r)
        return index.get(id(klass), [])

    def describe(self, fn: Function) -> str:
        """How messages name a function's context: ``async endpoint get_user (GET /users/{id})``."""
        kind = "async " if fn.is_async else ""
        roles = self.roles_of(fn)
        if roles & {ENDPOINT, PATH_OPERATION, WEBSOCKET_ENDPOINT}:
            label = "path operation" if PATH_OPERATION in roles else "endpoint"
            routes = ", ".join(dict.fromkeys(r.describe() for r in self.routes_of(fn)))
            return f"{kind}{label} {fn.qualname}" + (f" ({routes})" if routes else "")
        if ENDPOINT_METHOD in roles and fn.klass is not None:
            verb = fn.name.upper()
            paths = dict.fromkeys(
                _shown(r.paths[0] if r.paths else r.path) for r in self.class_routes(fn.klass)
            )
            where = ", ".join(f"{verb} {p}" if _is_http_verb(verb) else p for p in paths)
            return f"{kind}endpoint method {fn.qualname}" + (f" ({where})" if where else "")
        for role, label in (
            (MIDDLEWARE, "middleware"),
            (EXCEPTION_HANDLER, "exception handler"),
            (DEPENDENCY, "dependency"),
            (BACKGROUND, "background task"),
            (TASK, "task"),
            (LIFESPAN, "lifespan"),
            (STARTUP, "startup/shutdown handler"),
            (CUSTOM_ENDPOINT, "endpoint"),
        ):
            if role in roles:
                return f"{kind}{label} {fn.qualname}"
        return f"{kind}function {fn.qualname}"

    def applications(self) -> list[App]:
        """The Starlette and FastAPI apps built here (not routers): :attr:`App.is_application`."""
        return [a for a in self.apps if a.is_application]

    def is_web_module(self) -> bool:
        """Imports starlette/fastapi, or defines routes."""
        return bool(self.routes) or self.model.imports_any("starlette", "fastapi")


_NO_ROLES: frozenset[str] = frozenset()

# Route classes FastAPI re-exports unchanged under its own module (names.canonical does not fold them).
_ROUTE_ALIASES = {"fastapi.routing.Mount": N.MOUNT}

_TASK_STARTERS = frozenset(
    {"asyncio.create_task", "asyncio.ensure_future", "asyncio.get_event_loop().create_task",
     "asyncio.get_running_loop().create_task"}
)


def _shown(path: Optional[str]) -> str:
    """A route path for messages: ``?`` when not known, ``/`` for the empty path (a router's root)."""
    return "?" if path is None else (path or "/")


def _is_http_verb(verb: str) -> bool:
    """An HTTPEndpoint method named after an HTTP verb (not a WebSocketEndpoint hook)."""
    return verb.lower() in N.HTTP_ENDPOINT_METHODS


def _is_task_group(q: str) -> bool:
    return q.startswith(("asyncio.TaskGroup()", "anyio.create_task_group()", "trio.open_nursery()"))


def _asgi_signature(fn: Function) -> bool:
    params = [p.name.value for p in all_params(fn.node.params)]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    return params[:3] == ["scope", "receive", "send"]
