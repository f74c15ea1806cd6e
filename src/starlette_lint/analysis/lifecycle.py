"""When code runs relative to the application's start, and which objects are applications.

:class:`LateContexts` finds the functions that only run once the application has started
(request handlers, lifespans, startup hooks, async code, and the helpers only they call),
as opposed to entry points, tests and app factories that configure the app first.
:func:`late_app_calls` gives the ``app.<method>(...)`` calls made from there: what STL301
(``add_middleware``) and STL405 (``add_exception_handler``) report.
"""

from __future__ import annotations

from typing import Iterator, Optional, Sequence

import libcst as cst

from .. import names as N
from ..classify import is_pytest_fixture
from ..framework import LIFESPAN, NOWHERE, REQUEST_ROLES, STARTUP_ROLES, App, AppSetup, Framework
from ..model import CallSite, Function, Model, Scope, positional
from .request_objects import is_request_object

_APP_INSTANCES = frozenset({N.STARLETTE_APP + "()", N.FASTAPI_APP + "()"})

# Calls that run an event loop around a coroutine: the coroutine is the program's
# entry point, it runs before any server has started.
_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run", "asyncio.Runner().run"})
# Calls that start serving an app: the function making them configures the app first.
_SERVERS = frozenset({
    "uvicorn.run", "uvicorn.Config", "uvicorn.Server", "uvicorn.main.run", "uvicorn.config.Config",
    "uvicorn.server.Server", "hypercorn.asyncio.serve", "hypercorn.trio.serve",
})


def is_test_function(model: Model, fn: Function) -> bool:
    """A pytest test or fixture: it builds and drives apps on purpose."""
    return fn.name == "test" or fn.name.startswith("test_") or is_pytest_fixture(model, fn)


def first_param(fn: Function, skip_self: bool) -> Optional[str]:
    params = list(fn.node.params.posonly_params) + list(fn.node.params.params)
    if skip_self:
        params = params[1:]
    return params[0].name.value if params else None


def callers_fixpoint(fw: Framework, seed: dict[int, Function], candidates: list[Function],
                     outside: set[int]) -> dict[int, Function]:
    """Add to ``seed`` every candidate whose every caller (there is one) is in it, transitively.

    Returns ``id(fn) -> caller`` for the functions added (one member of the set
    that calls it, for messages). A worklist: each member of the set is taken
    once, and tells each function it calls that one more of its callers is in;
    a function joins when none is left (linear in the call graph, however many
    callers or call sites a function has; recursion and cycles end).
    """
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

    def __init__(self, fw: Framework) -> None:
        self.model = model = fw.model
        roles = fw.roles_of
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
            if not roles(fn) and is_test_function(model, fn):
                before[id(fn)] = fn
        callers_fixpoint(fw, before, [f for f in functions if not roles(f)], set())

        self.late: dict[int, Function] = {}
        for fn in functions:
            if roles(fn) & (REQUEST_ROLES | STARTUP_ROLES):
                self.late[id(fn)] = fn
            elif fn.is_async and id(fn) not in before:
                self.late[id(fn)] = fn
        sync = [f for f in functions if not f.is_async and not roles(f) and id(f) not in before]
        self.via = callers_fixpoint(fw, self.late, sync, outside)
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


def late_contexts(fw: Framework) -> LateContexts:
    """The module's :class:`LateContexts` (found once per module)."""
    return fw.derived(LateContexts)


class Receiver:
    """What ``x`` in ``x.add_middleware(...)`` is known to be."""

    def __init__(self, label: str, app: Optional[App], fastapi: Optional[bool]) -> None:
        self.label = label  # how messages name it: "app", "request.app"
        self.app = app  # the App object when built in this module
        self.fastapi = fastapi  # None: Starlette or FastAPI, not known which


def app_receiver(fw: Framework, expr: cst.BaseExpression, site: CallSite) -> Optional[Receiver]:
    """``expr`` when it is a Starlette/FastAPI app, else None (unknown objects are not judged)."""
    model = fw.model
    scope = site.scope
    app = fw.app_for(expr, scope)
    if app is not None:
        if not app.is_application:
            return None
        return Receiver(app.name or "app", app, app.kind == "fastapi")
    if isinstance(expr, cst.Attribute) and expr.attr.value == "app" and isinstance(expr.value, cst.Name):
        if is_request_object(fw, expr.value, scope):
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
        if fn is not None and LIFESPAN in fw.roles_of(fn) and first_param(fn, fn.klass is not None) == expr.value:
            return Receiver(expr.value, None, None)
        q = model.qualname(expr, scope)
        if q in _APP_INSTANCES:
            return Receiver(expr.value, None, q == N.FASTAPI_APP + "()")
    return None


def late_app_calls(fw: Framework, methods: frozenset[str]) -> Iterator[tuple[CallSite, Receiver, Function, str]]:
    """``app.<method>(...)`` calls (and decorators) made after the application has started."""
    late = None
    for site in fw.model.calls:
        func = site.node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in methods:
            continue
        fn = site.function
        if fn is None:
            continue
        if late is None:
            late = late_contexts(fw)
        if id(fn) not in late.late:
            continue
        recv = app_receiver(fw, func.value, site)
        if recv is not None and _started(fw, late, fn, recv):
            yield site, recv, fn, func.attr.value


def _started(fw: Framework, late: "LateContexts", fn: Function, recv: Receiver) -> bool:
    """The app ``fn`` configures has started when it runs (not one it builds, nor another app than
    the one a lifespan or startup hook starts)."""
    if recv.app is None:
        return True
    if recv.app.factory is fn:
        return False  # built right here: an app factory, not a started app
    root = late.root(fn)
    if fw.roles_of(root) and not (fw.roles_of(root) & REQUEST_ROLES):
        # A lifespan / startup hook starts its own app only.
        owners = late.started_by.get(id(root), [])
        if all(o is not recv.app for o in owners):
            return False
    return True


def listed(labels: list[str], most: int = 3) -> str:
    """``a, b, c, ...``: the first ``most`` labels, for a message."""
    return ", ".join(labels[:most]) + (", ..." if len(labels) > most else "")


def late_setup_calls(fw: Framework) -> Iterator[tuple[CallSite, str, str, AppSetup]]:
    """Calls made after the application has started that hand it to a project function which
    registers exception handlers or middleware on it (project mode: ``install_handlers(app)`` in
    a lifespan): the call, the call as a message shows it, where it is made, what it does."""
    if fw.elsewhere is NOWHERE:
        return
    model = fw.model
    late = None
    for site in model.calls:
        fn = site.function
        if fn is None or not site.node.args:
            continue
        if late is None:
            late = late_contexts(fw)
        if id(fn) not in late.late:
            continue
        for i, arg in enumerate(site.node.args):
            if arg.star:
                break
            if not isinstance(arg.value, (cst.Name, cst.Attribute)):
                continue
            recv = app_receiver(fw, arg.value, site)
            if recv is None or not _started(fw, late, fn, recv):
                continue
            own = model.resolve_function(site.node.func, site.scope)
            if own is not None and id(own) in late.late:
                break  # a function of this module that runs late: its own registrations are reported
            setup = fw.setup_at(site, i)
            if setup is not None and (setup.handlers or setup.middleware):
                yield site, f"{model.snippet(site.node.func, 40)}({recv.label})", late.describe(fn), setup
            break


def top_level_statements(scope: Scope) -> Optional[set[int]]:
    """ids of the expression statements / defs written directly in a module or function body."""
    node = scope.node
    body: Sequence[cst.BaseStatement]
    if isinstance(node, cst.Module):
        body = node.body
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
