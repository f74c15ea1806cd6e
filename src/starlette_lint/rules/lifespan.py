"""STL2xx: lifespan and startup/shutdown hooks."""

from __future__ import annotations

from typing import Any, Iterator, Optional, cast

import libcst as cst

from ..finding import Report
from ..framework import REQUEST_ROLES, STARTUP_ROLES, App, AppCall, Framework, Lifespan
from ..model import LOCAL, CallSite, Function, Model, Scope, argument, dotted_name, iter_children, string_value, walk
from ..names import ASYNCCONTEXTMANAGER, FASTAPI_APP, FASTAPI_ROUTER
from ..versions import Claim
from .base import Rule
from ..analysis.deliberate import Deliberate, file_class, object_class, when_runs


class OnStartupKwarg(Rule):
    """
    ## What it does
    Reports `on_startup=` and `on_shutdown=` passed to `Starlette()`,
    `Router()`, `FastAPI()` or `APIRouter()`. For FastAPI and `APIRouter`,
    `on_startup=None` and a parameter of the enclosing function handed on (a
    wrapper of the constructor) register nothing and are not reported;
    Starlette 1.x rejects the keyword whatever its value.

    Where: everywhere for `Starlette()` / `Router()` (a removal breaks tests
    and docs too), except in a test that exercises the old API on purpose
    (`pytest.warns`, `@pytest.mark.filterwarnings("ignore...")`... see
    STL802). For `FastAPI()` / `APIRouter()` application code only: the hook
    works and is not deprecated, so a test or a docs page using it breaks
    nothing.

    ## Why is this bad?
    Starlette 1.0 removed both parameters: `Starlette(on_startup=[...])` raises
    `TypeError: Starlette.__init__() got an unexpected keyword argument
    'on_startup'` when the app is built (at import for a module-level app,
    when the factory runs for one built in `create_app()`).

    FastAPI 0.165 keeps its own copy of the hook and runs the handlers with no
    warning at all (a TODO in FastAPI plans to deprecate it once the lifespan
    interface improves), but:

    * a `FastAPI(lifespan=..., on_startup=[...])` app silently never runs
      them (STL203 reports that combination);
    * an `APIRouter`'s handlers are run through `include_router` even when the
      app has a lifespan, and **twice** when the including app has no
      `lifespan=` of its own (once as handlers copied onto the app, once by the
      router's own default lifespan, which `include_router` merges in).

    The lifespan is the one form both frameworks support without caveats.

    ## Example
    ```python
    app = Starlette(routes=routes, on_startup=[connect_db], on_shutdown=[close_db])
    ```

    ## Use instead
    ```python
    @contextlib.asynccontextmanager
    async def lifespan(app):
        await connect_db()
        try:
            yield
        finally:
            await close_db()

    app = Starlette(routes=routes, lifespan=lifespan)
    ```
    """

    code = "STL201"
    name = "startup-shutdown-kwarg"
    summary = "`on_startup=`/`on_shutdown=` passed to an app or router (removed in Starlette 1.0)"
    claims = {
        "Starlette()/Router()": Claim(
            "starlette", (1, 0),
            after="removed in Starlette 1.0 (TypeError: {cls}.__init__() got an unexpected keyword argument "
                  "'{first}' {when})",
            before="deprecated since Starlette 0.26 ({warning}) and removed in 1.0", before_from=(0, 26)),
        "FastAPI()/APIRouter()": Claim(
            "fastapi", (0, 93), note=False,
            after="FastAPI runs these handlers, and drops them silently once the app gets lifespan=, which FastAPI "
                  "0.93 added (the message details the release)"),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        ignored = fw.derived(LifespanFacts).ignored_hooks  # STL203 reports those instead
        for app in fw.apps:
            for kw in ("on_startup", "on_shutdown"):
                arg = app.kwarg(kw)
                if arg is None or id(arg) in ignored:
                    continue
                if app.is_fastapi and (file_class(model) != "app" or _passes_nothing(model, app, arg)):
                    continue
                if Deliberate.of(fw).covers(arg, (kw,)):
                    continue
                fix = "move the handlers into an @asynccontextmanager lifespan and pass lifespan="
                if app.kind == "fastapi":
                    why = ("FastAPI 0.165 still runs these handlers with no warning (it keeps the hook Starlette 1.0 "
                           "removed; a TODO plans its deprecation), but drops them silently once the app gets "
                           "lifespan=")
                elif app.kind == "apirouter":
                    why = ("FastAPI 0.165 still runs these handlers through include_router with no warning (it keeps "
                           "the hook Starlette 1.0 removed; a TODO plans its deprecation), and twice when the "
                           "including app has no lifespan= of its own")
                    fix = _router_advice(model, "handlers")
                if app.kind in ("fastapi", "apirouter"):
                    if self.claims["FastAPI()/APIRouter()"].side(model.target) is None:
                        continue  # no lifespan= to move them to before FastAPI 0.93
                else:
                    said = self.claims["Starlette()/Router()"].text(
                        model.target, cls=app.class_label, first=_first_hook_keyword(app), when=when_runs(app.scope))
                    if said is None:
                        continue  # not deprecated yet on the releases the project targets
                    why = said
                yield self.report(arg, f"{kw}= on {app.label}: {why}; {fix}")


ROUTER_LIFESPAN = (0, 112, 2)  # the first FastAPI whose include_router runs an APIRouter's lifespan=


def _router_advice(model: Model, what: str) -> str:
    """Where an APIRouter's startup/shutdown code goes on the target's FastAPI releases."""
    if model.target.at_least("fastapi", ROUTER_LIFESPAN):
        return (f"move the {what} into an @asynccontextmanager lifespan and pass lifespan= to the APIRouter "
                f"(include_router merges it)")
    return (f"move the {what} into the including app's @asynccontextmanager lifespan (include_router merges an "
            f"APIRouter's lifespan= only from FastAPI 0.112.2)")


def _first_hook_keyword(app: App) -> str:
    """The keyword Python's TypeError names: the first of on_startup=/on_shutdown= in the call."""
    for arg in app.call.args:
        if arg.keyword is not None and arg.keyword.value in ("on_startup", "on_shutdown"):
            return arg.keyword.value
    return "on_startup"


def _forwarded(app: App, arg: cst.Arg) -> bool:
    """The argument is just a parameter of the function that builds the app (a wrapper handing it on)."""
    if not isinstance(arg.value, cst.Name) or app.scope.kind != "function":
        return False
    bindings = app.scope.bindings.get(arg.value.value, ())
    return bool(bindings) and all(b.kind == "param" for b in bindings)


def _passes_nothing(model: Model, app: App, arg: cst.Arg) -> bool:
    """``on_startup=None``, or a parameter of the enclosing function handed on (a wrapper of FastAPI()).

    FastAPI accepts both without registering anything itself (Starlette 1.x
    rejects the keyword whatever its value, so this is asked for FastAPI only).
    """
    value = model.constant(arg.value, app.scope)
    if isinstance(value, cst.Name) and value.value == "None":
        return True
    return _forwarded(app, arg)


# --------------------------------------------------------------------------- shared facts
_HOOK_METHODS = ("on_event", "add_event_handler")


def _overrides(model: Model, app: App, method: str) -> bool:
    """A same-module subclass of the app class that defines ``method`` itself: not judged."""
    if not app.cls.startswith(LOCAL + "."):
        return False
    info = model.local_class(app.cls)
    return info is None or model._method(info, method) is not None


def _has_lifespan(model: Model, app: App) -> bool:
    """``lifespan=`` with a value; a parameter of the building function handed on (``lifespan=lifespan``
    in a wrapper, maybe None) is the caller's decision, not this call's."""
    arg = app.kwarg("lifespan")
    if arg is None or _forwarded(app, arg):
        return False
    value = model.constant(arg.value, app.scope)
    return not (isinstance(value, cst.Name) and value.value == "None")


def _hook_calls(app: App) -> list[AppCall]:
    """``@app.on_event(...)`` decorators, ``app.on_event(...)(f)`` and ``app.add_event_handler(...)``."""
    return app.calls_named(*_HOOK_METHODS)


def _event(ac: AppCall) -> Optional[str]:
    ev = argument(ac.call, 0, "event_type")
    return string_value(ev.value) if ev is not None else None


class LifespanFacts:
    """The lifespan family's shared facts about a module (built once: ``fw.derived(LifespanFacts)``)."""

    def __init__(self, fw: Framework) -> None:
        self.ignored_hooks = _ignored_hooks(fw)


def _ignored_hooks(fw: Framework) -> dict[int, tuple[cst.CSTNode, App, str]]:
    """Registration nodes of startup/shutdown handlers an app ignores because it has ``lifespan=``.

    ``id(node) -> (node, app, what)`` where node is the ``on_startup=``/``on_shutdown=``
    keyword, the ``on_event`` call or the ``add_event_handler`` call. STL203 reports
    these; STL201/STL202 stay silent on them (one finding per problem).

    Not included: APIRouter (``include_router`` moves a router's handlers to the
    app, so they may well run), ``add_event_handler`` on a FastAPI app (FastAPI
    has no such method: the AttributeError is STL202's), handler keywords that only
    hand on a parameter of the building function, apps whose ``lifespan=`` does
    (a wrapper such as Starlette's own ``__init__``: forwarding, not a decision), and
    registrations a test makes on purpose (:class:`.migration.Deliberate`).
    """
    model = fw.model
    out: dict[int, tuple[cst.CSTNode, App, str]] = {}
    for app in fw.apps:
        if app.kind == "apirouter" or not _has_lifespan(model, app):
            continue
        for kw in ("on_startup", "on_shutdown"):
            arg = app.kwarg(kw)
            if arg is not None and not _forwarded(app, arg) and not Deliberate.of(fw).covers(arg, (kw,)):
                out[id(arg)] = (arg, app, kw + "=")
        for ac in _hook_calls(app):
            if ac.method == "add_event_handler" and app.kind == "fastapi":
                continue
            if _event(ac) not in ("startup", "shutdown") or _overrides(model, app, ac.method):
                continue
            if Deliberate.of(fw).covers(ac.call, (ac.method,)):
                continue
            out[id(ac.call)] = (ac.call, app, _registration(model, app, ac))
    return out


def _handler_name(model: Model, ac: AppCall) -> Optional[str]:
    if isinstance(ac.decorates, Function):
        return ac.decorates.name
    if ac.method == "add_event_handler":
        h = argument(ac.call, 1, "func")
        if h is not None:
            return dotted_name(h.value)
    elif isinstance(ac.site.parent, cst.Call) and ac.site.parent.func is ac.call and ac.site.parent.args:
        return dotted_name(ac.site.parent.args[0].value)  # app.on_event("startup")(handler)
    return None


def _registration(model: Model, app: App, ac: AppCall) -> str:
    """``@api.on_event("startup") (handler connect)`` style label for messages."""
    owner = app.name or app.class_label + "()"
    event = _event(ac)
    shown = f'"{event}"' if event else "..."
    if ac.method == "on_event" and ac.decorates is not None:
        form = f"@{owner}.on_event({shown})"
    else:
        form = f"{owner}.{ac.method}({shown}, ...)" if ac.method == "add_event_handler" else f"{owner}.on_event({shown})"
    handler = _handler_name(model, ac)
    return f"{form} (handler {handler})" if handler else form


def _decorator_names(model: Model, fn: Function) -> list[Optional[str]]:
    return [model.qualname(d.decorator, fn.outer) for d in fn.decorators]


_CONTEXT_MANAGER_DECORATORS = frozenset({ASYNCCONTEXTMANAGER, "contextlib.contextmanager"})


def _lifespans(fw: Framework) -> Iterator[tuple[Lifespan, Function]]:
    """Each (lifespan registration, same-module function) once per function."""
    seen: set[int] = set()
    for ls in fw.lifespans:
        fn = ls.function
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        yield ls, fn


def _returns_value(fn: Function) -> bool:
    for ret in fn.returns:
        value = ret.value
        if value is not None and not (isinstance(value, cst.Name) and value.value == "None"):
            return True
    return False


# --------------------------------------------------------------------------- STL202
class OnEventHandler(Rule):
    """
    ## What it does
    Reports `@app.on_event("startup")` / `@app.on_event("shutdown")`,
    `app.add_event_handler(...)` and `router.on_event(...)` on a `Starlette`,
    `Router`, `FastAPI` or `APIRouter` object built in this module.

    ## Why is this bad?
    Starlette 1.0 removed `on_event` and `add_event_handler` from `Starlette`
    and `Router`: the module fails at import (or the app factory when it runs)
    with `AttributeError: 'Starlette' object has no attribute 'on_event'`.
    FastAPI still has `on_event`, but it is deprecated and its warning is
    invisible under `uvicorn module:app` (it only shows when the app lives in
    `__main__`); a FastAPI app drops the handler silently once it gets
    `lifespan=`, and FastAPI 0.165 runs an `APIRouter`'s handler twice when
    the including app has no `lifespan=` of its own. A `FastAPI` app has no
    `add_event_handler` at all (`AttributeError`). `APIRouter.add_event_handler`
    is FastAPI's own working API and is not reported.

    Where: everywhere, except in a test that exercises the API on purpose
    (see STL802); in docs and examples `on_event` on FastAPI objects is not
    reported (deprecated, but it works: the FastAPI docs show it on purpose),
    while the Starlette removals and the missing FastAPI `add_event_handler`
    are. Objects of unknown type
    (an `app` imported from another module, a Socket.IO server...) are not
    judged; a parameter annotated `FastAPI` or `APIRouter` (`def setup(app:
    FastAPI)`) is, for `on_event`.

    ## Example
    ```python
    app = FastAPI()

    @app.on_event("startup")
    async def connect_db():
        app.state.db = await create_pool()
    ```

    ## Use instead
    ```python
    @contextlib.asynccontextmanager
    async def lifespan(app):
        db = await create_pool()
        try:
            yield {"db": db}
        finally:
            await db.close()

    app = FastAPI(lifespan=lifespan)
    ```
    """

    code = "STL202"
    name = "on-event-handler"
    summary = "`@app.on_event(...)` / `app.add_event_handler(...)` (removed in Starlette 1.0, deprecated in FastAPI)"
    claims = {
        "Starlette/Router on_event": Claim(
            "starlette", (1, 0),
            after="was removed in Starlette 1.0 (AttributeError: '{cls}' object has no attribute 'on_event' {when})",
            before="is deprecated since Starlette 0.23 ({warning}) and removed in 1.0", before_from=(0, 23)),
        "Starlette/Router add_event_handler": Claim(
            "starlette", (1, 0),
            after="was removed in Starlette 1.0 (AttributeError: '{cls}' object has no attribute "
                  "'add_event_handler' {when})"),
        "FastAPI add_event_handler": Claim(
            "starlette", (1, 0),
            after="does not exist on Starlette 1.x: a FastAPI app has no add_event_handler (AttributeError: "
                  "'{cls}' object has no attribute 'add_event_handler' {when})"),
        "FastAPI on_event": Claim(
            "fastapi", (0, 104), note=False,
            after="is deprecated in FastAPI (its DeprecationWarning is invisible under uvicorn, and the handler is "
                  "silently dropped once the app gets a lifespan=)"),
        "APIRouter on_event": Claim(
            "fastapi", (0, 104), note=False,
            after="is deprecated in FastAPI (its DeprecationWarning is invisible under uvicorn), and FastAPI 0.165 "
                  "runs the handler twice when the including app has no lifespan= of its own"),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        ignored = fw.derived(LifespanFacts).ignored_hooks
        docs = file_class(model) == "docs"
        for app in fw.apps:
            for ac in _hook_calls(app):
                if id(ac.call) in ignored or _overrides(model, app, ac.method):
                    continue
                if app.kind == "apirouter" and ac.method == "add_event_handler":
                    continue  # FastAPI's own, working, not deprecated
                if docs and app.is_fastapi and ac.method == "on_event":
                    continue  # a deprecation only: a docs page may show the old API on purpose
                if Deliberate.of(fw).covers(ac.call, (ac.method,)):
                    continue
                if app.kind == "apirouter":
                    form = "APIRouter on_event"
                elif app.kind == "fastapi":
                    form = f"FastAPI {ac.method}"
                else:
                    form = f"Starlette/Router {ac.method}"
                why = self.claims[form].text(model.target, cls=object_class(app), when=when_runs(ac.site.scope))
                if why is None:
                    continue  # works, and is not deprecated, on the releases the project targets
                advice = (_router_advice(model, "handler") if app.kind == "apirouter" else
                          "move the handler into an @asynccontextmanager lifespan and pass lifespan=")
                yield self.report(ac.call, f"{_registration(model, app, ac)} on {app.label} {why}; {advice}")
        yield from self._annotated(model, fw)

    def _annotated(self, model: Model, fw: Framework) -> Iterator[Report]:
        """``def setup(app: FastAPI): @app.on_event("startup") ...``: a parameter annotated FastAPI / APIRouter."""
        if ".on_event(" not in model.source or file_class(model) == "docs":
            return
        for site in model.calls:
            func = site.node.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "on_event" and isinstance(func.value, cst.Name)):
                continue
            if fw.app_for(func.value, site.scope) is not None:
                continue  # an app built here: judged above
            bindings, _ = model.lookup(func.value.value, site.scope)
            if not bindings or len(bindings) != 1 or bindings[0].kind != "param":
                continue
            cls = _ANNOTATED_KINDS.get(model.qualname(func.value, site.scope) or "")
            if cls is None or Deliberate.of(fw).covers(site.node, ("on_event",)):
                continue
            if self.claims["FastAPI on_event"].side(model.target) is None:
                continue  # not deprecated before FastAPI 0.104
            ev = argument(site.node, 0, "event_type")
            event = string_value(ev.value) if ev is not None else None
            shown = f'"{event}"' if event else "..."
            name = func.value.value
            form = f"@{name}.on_event({shown})" if site.decorates is not None else f"{name}.on_event({shown})"
            if isinstance(site.decorates, Function):
                form += f" (handler {site.decorates.name})"
            dropped = (", and the handler is silently dropped once the app gets a lifespan=" if cls == "FastAPI" else
                       ", and FastAPI 0.165 runs the handler twice when the including app has no lifespan= of its own")
            yield self.report(
                site.node,
                f"{form} on {name} ({cls}) is deprecated in FastAPI (its DeprecationWarning is invisible under "
                f"uvicorn{dropped}); move the handler into an @asynccontextmanager lifespan and pass lifespan=",
            )


_ANNOTATED_KINDS = {FASTAPI_APP + "()": "FastAPI", FASTAPI_ROUTER + "()": "APIRouter"}


# --------------------------------------------------------------------------- STL203
class LifespanWithStartupHandlers(Rule):
    """
    ## What it does
    Reports startup/shutdown handlers (`on_startup=`, `on_shutdown=`,
    `@app.on_event(...)`, `app.add_event_handler(...)`) registered on an app
    that also gets `lifespan=`. The finding points at each ignored handler's
    registration; STL201/STL202 are not reported again on the same node.

    ## Why is this bad?
    Once an app has a lifespan, its startup and shutdown handlers are dropped:
    FastAPI (0.115 to 0.165) and Starlette 0.x silently never run them (FastAPI
    0.165 prints no warning at all), so the database is never connected or the
    pool never closed. `Starlette(lifespan=..., on_startup=...)` raises at
    construction (`AssertionError` on 0.x, `TypeError` on 1.x), and Starlette 1.x
    has no `on_event` / `add_event_handler` at all. Handlers registered on an
    `APIRouter` are not reported: `include_router` runs them even when the app
    has a lifespan. A call that only hands on parameters of the function it
    sits in (`def __init__(self, on_startup=None, lifespan=None): ...
    Router(on_startup=on_startup, lifespan=lifespan)`, a wrapper of the
    constructor) decides nothing and is not reported; nor is a test that
    registers the handlers on purpose (see STL802).

    ## Example
    ```python
    app = FastAPI(lifespan=lifespan)

    @app.on_event("startup")
    async def warm_cache():  # never runs
        ...
    ```

    ## Use instead
    ```python
    @contextlib.asynccontextmanager
    async def lifespan(app):
        await warm_cache()
        yield

    app = FastAPI(lifespan=lifespan)
    ```
    """

    code = "STL203"
    name = "lifespan-with-startup-handlers"
    summary = "startup/shutdown handlers on an app that also has `lifespan=` (never run, or a construction error)"

    claims = {
        "Starlette(lifespan=, on_startup=)": Claim(
            "starlette", (1, 0),
            after="Starlette 1.x raises TypeError {when} (on_startup/on_shutdown were removed)",
            before="Starlette 0.x raises AssertionError {when} (use either lifespan or on_startup/on_shutdown)"),
        "Router(lifespan=, on_startup=)": Claim(
            "starlette", (1, 0),
            after="Starlette 1.x raises TypeError {when} (on_startup/on_shutdown were removed)",
            before="Starlette 0.x ignores these handlers once lifespan= is given"),
        "FastAPI(lifespan=) with handlers": Claim(
            "fastapi", (0, 93), note=False,
            after="FastAPI silently never runs startup/shutdown handlers once lifespan= is given (no warning on "
                  "0.165)"),
        "lifespan= and on_event/add_event_handler": Claim(
            "starlette", (1, 0),
            after="Starlette 1.x has no {method} (AttributeError {when})",
            before="Starlette 0.x silently never runs this handler once lifespan= is given"),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for node, app, what in fw.derived(LifespanFacts).ignored_hooks.values():
            if app.kind == "fastapi":
                why = self.claims["FastAPI(lifespan=) with handlers"].text(model.target)
            elif what.endswith("="):
                form = "Starlette(lifespan=, on_startup=)" if app.kind == "starlette" else "Router(lifespan=, on_startup=)"
                why = self.claims[form].text(model.target, when=when_runs(app.scope))
            else:
                method = "on_event" if ".on_event(" in what else "add_event_handler"
                site = model.call_of.get(id(node))
                when = when_runs(site.scope if site is not None else app.scope)
                why = self.claims["lifespan= and on_event/add_event_handler"].text(model.target, method=method, when=when)
            if why is None:
                continue
            yield self.report(
                node,
                f"{what} on {app.label}, which also has lifespan=: {why}; merge the handler into the lifespan",
            )


# --------------------------------------------------------------------------- STL204
class GeneratorLifespan(Rule):
    """
    ## What it does
    Reports a function passed as `lifespan=` to `Starlette()` or `Router()`
    that is a bare generator or async generator, not decorated with
    `@contextlib.asynccontextmanager` (or any other decorator). FastAPI wraps
    such generators itself without a warning, so FastAPI apps are not reported.

    ## Why is this bad?
    Starlette 1.x deprecates generator lifespans: every construction emits a
    `StarletteDeprecationWarning` ("async generator function lifespans are
    deprecated, use an @contextlib.asynccontextmanager function instead"), and
    the support is due to be removed.

    Reported in tests (they break when the support goes), except where the
    test exercises it on purpose (Starlette's own `@deprecated_lifespan =
    pytest.mark.filterwarnings(...)` tests; see STL802); not reported in docs
    and examples (a deprecation only: it still works).

    ## Example
    ```python
    async def lifespan(app):
        yield {"db": await connect()}

    app = Starlette(lifespan=lifespan)
    ```

    ## Use instead
    ```python
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        yield {"db": await connect()}
    ```
    """

    code = "STL204"
    name = "generator-lifespan"
    summary = "a Starlette/Router `lifespan=` that is a bare generator without `@asynccontextmanager` (deprecated)"
    claims = {
        "generator lifespan": Claim(
            "starlette", (0, 16), note=False,
            after="deprecated since Starlette 0.16, which added @asynccontextmanager lifespans (at construction: "
                  "{warning})"),
    }

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if file_class(model) == "docs":
            return  # a deprecation only: docs and examples may show it on purpose
        said = self.claims["generator lifespan"].text(model.target)
        if said is None:
            return  # before 0.16 a generator is the only lifespan there is
        seen: set[int] = set()
        for ls in fw.lifespans:
            fn = ls.function
            if fn is None or ls.app.kind not in ("starlette", "router") or id(fn) in seen:
                continue
            seen.add(id(fn))
            if not fn.is_generator or fn.decorators:
                continue
            if Deliberate.of(fw).covers(fn.node) or Deliberate.of(fw).covers(ls.app.call):
                continue
            if fn.is_async:
                hint = "decorate it with @contextlib.asynccontextmanager"
                kind = "an async generator"
            else:
                hint = "make it an async def decorated with @contextlib.asynccontextmanager"
                kind = "a generator"
            yield self.report(
                fn.node,
                f"lifespan {fn.qualname} of {ls.app.label} is {kind} without @asynccontextmanager: "
                f"{said}; {hint}",
            )


# --------------------------------------------------------------------------- STL205
# Async clients / pools that must be created inside the running loop and closed.
_ASYNC_CLIENTS = {
    "httpx.AsyncClient": "await {v}.aclose()",
    "httpx2.AsyncClient": "await {v}.aclose()",
    "aiohttp.ClientSession": "await {v}.close()",
    "aiohttp.client.ClientSession": "await {v}.close()",
    "redis.asyncio.Redis": "await {v}.aclose()",
    "redis.asyncio.StrictRedis": "await {v}.aclose()",
    "redis.asyncio.from_url": "await {v}.aclose()",
    "redis.asyncio.Redis.from_url": "await {v}.aclose()",
    "redis.asyncio.client.Redis": "await {v}.aclose()",
    "redis.asyncio.client.Redis.from_url": "await {v}.aclose()",
    "redis.asyncio.client.StrictRedis": "await {v}.aclose()",
    "motor.motor_asyncio.AsyncIOMotorClient": "{v}.close()",
    "databases.Database": "await {v}.disconnect()",
}
# Attribute names that count as closing (or registering a close of) the object.
_CLOSERS = frozenset({"aclose", "close", "disconnect", "shutdown", "wait_closed", "__aexit__"})


def _chain_names(expr: cst.BaseExpression) -> set[str]:
    """Every name and attribute in a ``a.b.c`` chain (calls and subscripts looked through)."""
    out: set[str] = set()
    while True:
        if isinstance(expr, cst.Attribute):
            out.add(expr.attr.value)
            expr = expr.value
        elif isinstance(expr, cst.Call):
            expr = expr.func
        elif isinstance(expr, cst.Subscript):
            expr = expr.value
        elif isinstance(expr, cst.Await):
            expr = expr.expression
        else:
            break
    if isinstance(expr, cst.Name):
        out.add(expr.value)
    return out


def _closed_names(model: Model, fw: Framework) -> set[str]:
    """Names/attributes of objects something in this module closes.

    Conservative on purpose (a close anywhere in the module counts): ``x.aclose()``,
    ``x.close()``, ``x.disconnect()``..., a close method handed over as a callback
    (``stack.push_async_callback(x.aclose)``, ``on_shutdown=[x.aclose]``),
    ``stack.enter_async_context(x)``, and ``async with x`` in a lifespan or
    startup/shutdown handler.
    """
    out: set[str] = set()

    def closer(expr: cst.BaseExpression) -> None:
        if isinstance(expr, cst.Attribute) and expr.attr.value in _CLOSERS:
            out.update(_chain_names(expr.value))
        elif isinstance(expr, (cst.List, cst.Tuple)):
            for el in expr.elements:
                closer(el.value)

    for site in model.calls:
        call = site.node
        closer(call.func)
        func = call.func
        entering = isinstance(func, cst.Attribute) and func.attr.value in ("enter_async_context", "enter_context")
        for arg in call.args:
            closer(arg.value)
            if entering:
                out.update(_chain_names(arg.value))
    for fn in model.functions:
        if not fw.roles_of(fn) & STARTUP_ROLES:
            continue
        for node in walk(fn.node):
            if isinstance(node, cst.With) and node.asynchronous is not None:
                for item in node.items:
                    out.update(_chain_names(item.item))
    return out


def _import_time(site: CallSite) -> bool:
    s: Optional[Scope] = site.scope
    while s is not None:
        if s.kind in ("function", "lambda"):
            return False
        s = s.parent
    return True


def _bound_target(site: CallSite) -> Optional[cst.BaseExpression]:
    """The variable or attribute a call's result is assigned to (``x = C()``, ``app.state.x = C()``)."""
    parent = site.parent
    target: Optional[cst.BaseExpression] = None
    if isinstance(parent, cst.Assign) and parent.value is site.node and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, cst.AnnAssign) and parent.value is site.node:
        target = parent.target
    return target if isinstance(target, (cst.Name, cst.Attribute)) else None


class ImportTimeAsyncClient(Rule):
    """
    ## What it does
    Reports an async client or pool created at import time (module level or a
    class body) in a web module and assigned to a variable or attribute:
    `httpx.AsyncClient()`, `aiohttp.ClientSession()`, `redis.asyncio.Redis()` /
    `from_url()`, `motor.motor_asyncio.AsyncIOMotorClient()`,
    `databases.Database()`, when nothing in the module closes it. Closing
    means: a call of `.aclose()` / `.close()` / `.disconnect()` on it (in a
    lifespan, a shutdown handler or a helper they call), handing that method
    over as a callback, `enter_async_context(it)`, or `async with it` in a
    lifespan or startup/shutdown handler.

    ## Why is this bad?
    The object is built before the server's event loop exists and is never
    closed: connections opened on one loop are reused from another (tests
    running several loops fail with "Event loop is closed" or "attached to a
    different loop"), and sockets leak at shutdown ("Unclosed client session").

    ## Example
    ```python
    client = httpx.AsyncClient(base_url=API)

    async def proxy(request):
        return JSONResponse((await client.get("/data")).json())
    ```

    ## Use instead
    ```python
    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with httpx.AsyncClient(base_url=API) as client:
            yield {"client": client}

    async def proxy(request):
        return JSONResponse((await request.state.client.get("/data")).json())
    ```
    """

    code = "STL205"
    name = "import-time-async-client"
    summary = "async client / pool (`httpx.AsyncClient()`, `aiohttp.ClientSession()`...) created at import time, never closed"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        sites = [s for s in model.calls if _import_time(s) and model.call_qualname(s) in _ASYNC_CLIENTS]
        if not sites or not fw.is_web_module():
            return
        closed = _closed_names(model, fw)
        for site in sites:
            target = _bound_target(site)
            if target is None:
                continue
            key = target.value if isinstance(target, cst.Name) else cast(cst.Attribute, target).attr.value
            if key in closed:
                continue
            var = dotted_name(target) or key
            q = model.call_qualname(site) or ""
            close = _ASYNC_CLIENTS[q].format(v=var)
            yield self.report(
                site.node,
                f"{q}() assigned to {var} is created at import time and nothing in this module closes it: "
                f"it outlives the event loop (\"Event loop is closed\", leaked connections); create it in an "
                f"@asynccontextmanager lifespan and yield it as state, or close it there ({close})",
            )


# --------------------------------------------------------------------------- STL206
class GlobalStateRebinding(Rule):
    """
    ## What it does
    Reports a `global` statement whose names the function rebinds, in two
    kinds of code (the finding points at the `global` statement):

    * lifespans and startup/shutdown handlers (and the async functions only
      they call), sync or async: any rebinding;
    * request-path code (endpoints, path operations, endpoint methods,
      middleware, exception handlers, dependencies, background tasks and the
      async functions they call): only a **read, then an `await` (or `async
      with` / `async for`), then the rebinding**, in that order in one
      function (`n = counter; await save(); counter = n + 1`, or `if client is
      None: client = await connect()`). A read and write inside one `async
      with` block (a lock held across them) is not reported.

    A per-process counter or cache updated with no `await` between its read
    and its write (`counter += 1` in an `async def`) is not reported: the
    event loop runs one request at a time between awaits, so no update is
    lost, and there is no better place for it (`request.state` is copied per
    request, so rebinding `request.state.counter` would not persist). Sync
    functions run in the threadpool are not judged for thread races. A
    `global` used only to read is not reported.

    ## Why is this bad?
    In a lifespan, module globals are process state, not application state:
    every app instance and every test in the process shares them, and a
    lifespan that fills globals keeps stale objects between test apps.

    In request-path code, an `await` between reading a global and rebinding
    it lets other requests run in between: two requests read the same value
    and the second write overwrites the first (a lost update), or two
    requests that find `client is None` each build a client and one leaks.

    ## Example
    ```python
    db = None

    @asynccontextmanager
    async def lifespan(app):
        global db
        db = await connect()
        yield

    async def visit(request):
        global visits
        n = visits
        await log_visit(request)
        visits = n + 1  # lost updates under concurrency
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app):
        async with connect() as db:
            yield {"db": db, "lock": asyncio.Lock()}

    async def visit(request):
        global visits
        async with request.state.lock:
            n = visits
            await log_visit(request)
            visits = n + 1
    ```
    """

    code = "STL206"
    name = "global-state-rebinding"
    summary = ("`global` rebinding of module state in a lifespan or startup/shutdown handler, or across an "
               "`await` in request-path code")

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if not any(fn.globals for fn in model.functions):
            return
        roles = fw.roles_of
        roots = [fn for fn in model.functions if roles(fn) & (REQUEST_ROLES | STARTUP_ROLES)]
        reached = fw.reachable(roots, follow=lambda caller, site, callee: callee.is_async)
        for fn, root in reached.values():
            startup_only = bool(roles(root) & STARTUP_ROLES) and not roles(root) & REQUEST_ROLES
            startup = bool(roles(fn) & STARTUP_ROLES) or startup_only
            via = "" if root is fn else f" (called from {fw.describe(root)})"
            for stmt in fn.globals:
                names = [item.name.value for item in stmt.names if _rebinds(fn, item.name.value)]
                if not names:
                    continue
                if startup:
                    first = names[0]
                    yield self.report(
                        stmt,
                        f"global {', '.join(names)} rebinds module state in {fw.describe(fn)}{via}: module globals "
                        f"are shared by every app and test in the process and differ per worker; yield it as "
                        f'lifespan state (yield {{"{first}": ...}}) and read request.state.{first}',
                    )
                    continue
                if not fn.is_async:
                    continue
                racy = _read_await_write(fn, set(names))
                names = [n for n in names if n in racy]
                if not names:
                    continue
                first = names[0]
                shown = ", ".join(names)
                if racy[first] == "lazy":
                    what = (f"{first} is checked, then rebound after an await: requests arriving meanwhile find it "
                            f"unset too and each build their own (the extras leak); create it once in an "
                            f"@asynccontextmanager lifespan and yield it as state (read request.state.{first}), or "
                            f"hold an asyncio.Lock from the check to the assignment")
                else:
                    what = (f"{first} is read, then rebound after an await: concurrent requests run at that await "
                            f"and one request's update overwrites another's (lost updates); hold an asyncio.Lock "
                            f"from the read to the write (request.state would not do: it is copied per request)")
                yield self.report(stmt, f"global {shown} in {fw.describe(fn)}{via}: {what}")


_AW_ENTER, _AW_EXIT, _IF_ENTER, _IF_EXIT = "enter", "exit", "if", "endif"


def _names_read(expr: Optional[cst.CSTNode]) -> frozenset[str]:
    """Names an expression reads (attribute and keyword names left out; nested scopes not entered)."""
    if expr is None:
        return frozenset()
    out: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            out.add(node.value)
        elif isinstance(node, cst.Attribute):
            stack.append(node.value)
        elif isinstance(node, cst.Arg):
            stack.append(node.value)
        elif not isinstance(node, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
            stack.extend(iter_children(node))
    return frozenset(out)


def _writes(target: cst.BaseExpression, reads: frozenset[str]) -> list[Any]:
    """Evaluation items for an assignment target: ``("W", name, names the value read)`` for each name
    rebound, and the expressions other targets read (``x.attr = ...`` reads ``x``)."""
    if isinstance(target, cst.Name):
        return [("W", target.value, reads)]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [w for el in target.elements for w in _writes(el.value, reads)]
    if isinstance(target, cst.StarredElement):
        return _writes(target.value, reads)
    return [target]


def _evaluation_events(fn: Function) -> list[tuple[Any, ...]]:
    """The function body as events in evaluation order (each loop body and branch once):
    ``("R", name)`` a read; ``("W", name, names its value read)`` a rebinding; ``("A",)`` a
    suspension point (await, ``async with`` entry and exit, ``async for`` step); ``(enter|exit, id)``
    around ``async with`` bodies; ``("if", names the test read)`` / ``("endif",)`` around an ``if``'s
    branches. Nested functions, classes and lambdas are not entered."""
    events: list[tuple[Any, ...]] = []
    stack: list[Any] = [fn.node.body]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            events.append(item)
            continue
        node = item
        t = type(node)
        if t in (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.Global, cst.Nonlocal, cst.Import, cst.ImportFrom):
            continue
        if t is cst.Name:
            events.append(("R", node.value))
            continue
        if t is cst.Assign:
            reads = _names_read(node.value)
            seq = [node.value] + [w for tgt in node.targets for w in _writes(tgt.target, reads)]
        elif t is cst.AnnAssign:
            seq = [node.value] + _writes(node.target, _names_read(node.value)) if node.value is not None else []
        elif t is cst.AugAssign:
            own = [("R", node.target.value)] if isinstance(node.target, cst.Name) else []
            reads = _names_read(node.value) | {w[1] for w in own}
            seq = own + [node.value] + _writes(node.target, reads)
        elif t is cst.NamedExpr:
            seq = [node.value] + _writes(node.target, _names_read(node.value))
        elif t is cst.Await:
            seq = [node.expression, ("A",)]
        elif t is cst.Attribute or t is cst.Arg:
            seq = [node.value]
        elif t is cst.If or t is cst.IfExp:
            seq = [node.test, (_IF_ENTER, _names_read(node.test)), node.body]
            if node.orelse is not None:
                seq.append(node.orelse)
            seq.append((_IF_EXIT,))
        elif t is cst.For:
            step = [("A",)] if node.asynchronous is not None else []
            seq = [node.iter] + step + _writes(node.target, frozenset()) + [node.body] + step
            if node.orelse is not None:
                seq.append(node.orelse)
        elif t is cst.With:
            seq = [i.item for i in node.items]
            if node.asynchronous is not None:
                seq += [("A",), (_AW_ENTER, id(node))]
            for i in node.items:
                if i.asname is not None:
                    seq += _writes(cast(cst.BaseExpression, i.asname.name), frozenset())
            seq.append(node.body)
            if node.asynchronous is not None:
                seq += [(_AW_EXIT, id(node)), ("A",)]
        elif t is cst.Del:
            seq = _writes(node.target, frozenset())
        else:
            seq = list(iter_children(node))
        stack.extend(reversed(seq))
    return events


def _read_await_write(fn: Function, names: set[str]) -> dict[str, str]:
    """Globals of ``names`` rebound from a value read before a suspension point (``"update"``: ``n =
    counter; await ...; counter = n + 1``), or rebound under an ``if`` that tested them before one
    (``"lazy"``: ``if client is None: client = await connect()``); not when an ``async with`` block
    (a lock) holds from the read to the write. ``name -> kind``."""
    out: dict[str, str] = {}
    if not fn.awaits and not _has_async_blocks(fn):
        return out
    # a variable holding a value read from a global: name -> [global, stale?, async with blocks open at the read]
    carriers: dict[str, list[Any]] = {}
    tests: list[list[Any]] = []  # open ``if`` tests: [names read, stale?, blocks open at the test]
    blocks: list[int] = []
    for ev in _evaluation_events(fn):
        kind = ev[0]
        if kind == "R":
            if ev[1] in names:
                carriers[ev[1]] = [ev[1], False, frozenset(blocks)]  # a fresh read
        elif kind == "A":
            for c in carriers.values():
                c[1] = True
            for test in tests:
                test[1] = True
        elif kind == _AW_ENTER:
            blocks.append(ev[1])
        elif kind == _AW_EXIT:
            if blocks:
                blocks.pop()
        elif kind == _IF_ENTER:
            tests.append([ev[1], False, frozenset(blocks)])
        elif kind == _IF_EXIT:
            if tests:
                tests.pop()
        elif kind == "W":
            name, reads = ev[1], ev[2]
            open_now = set(blocks)
            sources = [carriers[r] for r in reads if r in carriers]
            if name in names:
                if any(c[0] == name and c[1] and not (c[2] & open_now) for c in sources):
                    out.setdefault(name, "update")
                elif any(name in t[0] and t[1] and not (t[2] & open_now) for t in tests):
                    out.setdefault(name, "lazy")
                carriers.pop(name, None)
            elif sources:  # a local now holds (a value computed from) a global read
                first = sources[0]
                carriers[name] = [first[0], any(c[1] for c in sources), first[2]]
            else:
                carriers.pop(name, None)
    return out


def _has_async_blocks(fn: Function) -> bool:
    return any(isinstance(n, (cst.With, cst.For)) and n.asynchronous is not None for n in walk(fn.node))


def _rebinds(fn: Function, name: str) -> bool:
    for b in fn.scope.bindings.get(name, ()):
        if b.kind == "other" and isinstance(b.node, cst.CompFor):
            continue  # a comprehension variable lives in its own scope
        if b.kind != "param":
            return True
    return False


# --------------------------------------------------------------------------- STL207
class LifespanNeverYields(Rule):
    """
    ## What it does
    Reports a function passed as `lifespan=` (Starlette, Router, FastAPI or
    APIRouter) that never yields: a plain `async def` / `def` that returns
    nothing, or a function decorated with `@asynccontextmanager` /
    `@contextmanager` that has no `yield`. A function that returns a value (an
    async context manager built elsewhere) is valid and not reported; other
    decorators, lambdas and names from other modules are not judged.

    ## Why is this bad?
    The lifespan must be an async context manager factory. A plain coroutine
    function fails at startup on every Starlette and FastAPI version
    (`TypeError: 'coroutine' object does not support the asynchronous context
    manager protocol`); uvicorn logs "Application startup failed. Exiting."
    and exits with code 3.

    ## Example
    ```python
    async def lifespan(app):
        app.state.db = await connect()

    app = FastAPI(lifespan=lifespan)
    ```

    ## Use instead
    ```python
    @contextlib.asynccontextmanager
    async def lifespan(app):
        db = await connect()
        yield {"db": db}
        await db.close()
    ```
    """

    code = "STL207"
    name = "lifespan-never-yields"
    summary = "the function passed as `lifespan=` never yields (startup fails, uvicorn exits with code 3)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for ls, fn in _lifespans(fw):
            if fn.is_generator:
                continue
            decorators = _decorator_names(model, fn)
            if decorators:
                if len(decorators) != 1 or decorators[0] not in _CONTEXT_MANAGER_DECORATORS:
                    continue
                shape = f"is decorated with @{(decorators[0] or '').rsplit('.', 1)[-1]} but has no yield"
            elif _returns_value(fn):
                continue  # returns a context manager built elsewhere
            else:
                shape = f"is a plain {'coroutine ' if fn.is_async else ''}function that never yields"
            yield self.report(
                fn.node,
                f"lifespan {fn.qualname} of {ls.app.label} {shape}: startup fails (TypeError: it is not "
                f"an async context manager; uvicorn exits with code 3); make it an @asynccontextmanager "
                f"async def that yields once",
            )
