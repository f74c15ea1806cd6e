"""STL201/STL202 (startup/shutdown handlers -> one lifespan per app) and STL204 (generator lifespan)."""

from __future__ import annotations

import functools
from typing import Any, Optional

import libcst as cst

from ..finding import Report
from ..framework import App, StartupHook
from ..model import Function, Scope, all_params, elements, walk
from ..rules.lifespan import ROUTER_LIFESPAN
from . import FixContext, Plan, fixer, memo
from ._cst import append_arg, keyword_index, names_in, remove_arg, statement_in, with_blank_lines


# ---------------------------------------------------------------- STL201 / STL202
@fixer("STL201", "STL202", needs=(("starlette", (0, 16)),))
def startup_handlers_to_lifespan(ctx: FixContext, report: Report) -> Optional[Plan]:
    """All startup/shutdown handlers of one app -> an ``@asynccontextmanager`` lifespan.

    Safe only when every handler of that app is a function of this module that
    can be called with no argument, named from the scope the app is built in,
    and every registration sits in that scope's own block (module or factory
    function) -- all or nothing: a half-converted app would have both a
    lifespan and handlers, and those handlers would silently never run.
    """
    fw = ctx.framework
    hook = _hook_of(fw.startup_hooks, report.node)
    if hook is None or hook.app is None:
        return None
    app = hook.app
    return memo(ctx, ("lifespan", id(app)), lambda: _plan_app(ctx, app))


def _hook_of(hooks: list[StartupHook], node: cst.CSTNode) -> Optional[StartupHook]:
    for hook in hooks:
        if hook.node is node:
            return hook
    return None


def _callable_without_args(fn: Function) -> bool:
    if fn.is_generator or fn.klass is not None:
        return False
    for p in all_params(fn.params):
        if p.default is None and p.star not in ("*", "**"):
            return False
    params = fn.params
    return not any(p.default is None for p in params.kwonly_params)


def _plan_app(ctx: FixContext, app: App) -> Optional[Plan]:
    model = ctx.model
    if app.kwarg("lifespan") is not None:
        return None  # STL203 territory: merging into an existing lifespan is a human's call
    if app.is_fastapi and not model.target.at_least("fastapi", (0, 93)):
        return None  # FastAPI(lifespan=) arrived in FastAPI 0.93
    if app.kind == "apirouter" and not model.target.at_least("fastapi", ROUTER_LIFESPAN):
        return None  # before FastAPI 0.112.2 include_router drops a router's lifespan
    owner = app.scope.node
    stmt = statement_in(owner, app.call)
    if stmt is None:
        return None
    hooks = [h for h in ctx.framework.startup_hooks if h.app is app]
    if not hooks:
        return None
    startup: list[tuple[str, bool]] = []  # (callee code, is async)
    shutdown: list[tuple[str, bool]] = []
    kwargs_seen: set[str] = set()
    decorators: dict[int, tuple[Function, set[int]]] = {}
    removals: list[cst.CSTNode] = []
    # registration order: the constructor's lists first, then decorators/add_event_handler in source order
    ordered = [h for h in hooks if h.kind == "kwarg"] + [h for h in hooks if h.kind != "kwarg"]
    for hook in ordered:
        if hook.event not in ("startup", "shutdown"):
            return None
        target = startup if hook.event == "startup" else shutdown
        if hook.kind == "kwarg":
            arg = hook.node
            kw = arg.keyword.value if isinstance(arg, cst.Arg) and arg.keyword else None
            if not isinstance(arg, cst.Arg) or kw not in ("on_startup", "on_shutdown"):
                return None
            kwargs_seen.add(kw)
            if hook.handler is None:
                lit = model.constant(arg.value, app.scope)
                if elements(lit) == []:
                    continue  # on_startup=[]: nothing to move
                return None
            handler = _handler_code(ctx, hook, app.scope)
            if handler is None:
                return None
            target.append(handler)
        elif hook.kind == "on_event":
            fn = hook.function
            if fn is None or fn.outer is not app.scope or not _callable_without_args(fn):
                return None
            index = next((i for i, d in enumerate(fn.node.decorators) if d.decorator is hook.node), None)
            if index is None:
                return None
            bindings, _ = model.lookup(fn.name, app.scope)
            if not bindings or len(bindings) != 1 or bindings[0].target is not fn:
                return None
            decorators.setdefault(id(fn.node), (fn, set()))[1].add(index)
            target.append((fn.name, fn.is_async))
        elif hook.kind == "add_event_handler":
            site = model.call_of.get(id(hook.node))
            if site is None or site.scope is not app.scope or not site.discarded:
                return None
            line = statement_in(owner, hook.node)
            if (not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1
                    or not isinstance(line.body[0], cst.Expr) or line.body[0].value is not hook.node):
                return None
            handler = _handler_code(ctx, hook, app.scope)
            if handler is None:
                return None
            removals.append(line)
            target.append(handler)
    body: list[cst.BaseStatement]
    if isinstance(owner, cst.Module):
        body = list(ctx.module.body)
    elif isinstance(owner, cst.FunctionDef) and isinstance(owner.body, cst.IndentedBlock):
        body = list(owner.body.body)
    else:
        return None  # not reached: statement_in found the app's statement in a module or def block
    if removals and len(removals) >= len(body) - 1:
        return None

    plan = Plan(f"lifespan for {app.name or 'the app'}")
    if startup or shutdown:
        name = ctx.fresh_name(["lifespan", f"{app.name}_lifespan" if app.name else "app_lifespan", "_lifespan"],
                              app.scope)
        decorator = ctx.reference("contextlib.asynccontextmanager", app.scope, style="from")
        if name is None or decorator is None:
            return None
        used: set[str] = set()
        for text, _ in startup + shutdown:
            used |= names_in(ctx.parse_expression(text))
        param = "app" if "app" not in used else "_app"
        definition = _lifespan_code(ctx, decorator, name, param, startup, shutdown)
        nested = not isinstance(owner, cst.Module)
        first = body and body[0] is stmt

        def insert(node: cst.CSTNode, definition: cst.BaseStatement = definition) -> cst.FlattenSentinel[cst.CSTNode]:
            blank = 1 if nested else 2
            new_def = definition.with_changes(leading_lines=[] if (nested and first) else [cst.EmptyLine(indent=False)] * blank)
            return cst.FlattenSentinel([new_def, with_blank_lines(node, blank)])

        plan.edit(stmt, insert, last=True)
    else:
        name = None

    def rewrite_call(call: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(call, cst.Call)
        replaced = False
        for kw in ("on_startup", "on_shutdown"):
            i = keyword_index(call, kw)
            if i is None:
                continue
            if name is not None and not replaced:
                arg = call.args[i]
                call = call.with_changes(args=[
                    *call.args[:i], arg.with_changes(keyword=cst.Name("lifespan"), value=cst.Name(name)), *call.args[i + 1:]])
                replaced = True
            else:
                call = remove_arg(call, i)
        if name is not None and not replaced:
            call = append_arg(call, cst.Arg(keyword=cst.Name("lifespan"), value=cst.Name(name),
                                            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        return call

    plan.edit(app.call, rewrite_call)
    for fn, indexes in decorators.values():
        plan.edit(fn.node, functools.partial(_drop_decorators, indexes=indexes))
    for removal in removals:
        plan.edit(removal, lambda _node: cst.RemovalSentinel.REMOVE, last=True)
    return plan


def _handler_code(ctx: FixContext, hook: StartupHook, scope: Scope) -> Optional[tuple[str, bool]]:
    """(the code naming the hook's handler from ``scope``, whether it is async); None when unsafe."""
    fn, expr = hook.function, hook.handler
    if fn is None or expr is None or not _callable_without_args(fn):
        return None
    if not isinstance(expr, (cst.Name, cst.Attribute)):
        return None
    if ctx.model.resolve_function(expr, scope) is not fn:
        return None  # the name would not reach the same function from the lifespan
    if isinstance(expr, cst.Name):
        bindings, _ = ctx.model.lookup(expr.value, scope)
        if not bindings or len(bindings) != 1:
            return None
    return ctx.code(expr), fn.is_async


def _lifespan_code(ctx: FixContext, decorator: str, name: str, param: str,
                   startup: list[tuple[str, bool]], shutdown: list[tuple[str, bool]]) -> cst.BaseStatement:
    ind = ctx.module.default_indent
    nl = "\n"
    lines = [f"@{decorator}", f"async def {name}({param}):"]
    for text, is_async in startup:
        lines.append(f"{ind}{'await ' if is_async else ''}{text}()")
    if shutdown:
        lines += [f"{ind}try:", f"{ind}{ind}yield", f"{ind}finally:"]
        for text, is_async in shutdown:
            lines.append(f"{ind}{ind}{'await ' if is_async else ''}{text}()")
    else:
        lines.append(f"{ind}yield")
    return ctx.parse_statement(nl.join(lines) + nl)


def _drop_decorators(node: cst.CSTNode, indexes: set[int]) -> cst.CSTNode:
    assert isinstance(node, cst.FunctionDef)
    kept: list[cst.Decorator] = []
    carried: list[cst.EmptyLine] = []
    for i, dec in enumerate(node.decorators):
        if i in indexes:
            carried.extend(line for line in dec.leading_lines if line.comment is not None)
            continue
        if carried:
            dec = dec.with_changes(leading_lines=[*carried, *dec.leading_lines])
            carried = []
        kept.append(dec)
    changes: dict[str, Any] = {"decorators": kept}
    if carried:  # comments that sat between removed decorators and the def
        changes["lines_after_decorators"] = [*carried, *node.lines_after_decorators]
    return node.with_changes(**changes)


# ---------------------------------------------------------------- STL204
@fixer("STL204", needs=(("starlette", (0, 16)),))
def decorate_generator_lifespan(ctx: FixContext, report: Report) -> Optional[Plan]:
    """Add ``@asynccontextmanager`` (and make a plain generator ``async``)."""
    fn = ctx.model.function_of.get(id(report.node))
    if fn is None or not fn.is_generator or fn.node.decorators:
        return None
    if ctx.framework.callers_of(fn):
        return None  # called directly somewhere: it must stay a generator
    if not fn.is_async:
        # ``def lifespan(app): ... yield ...`` -> ``async def``: no ``yield from``, no ``return value``
        for node in walk(fn.node.body):
            if isinstance(node, cst.Yield) and isinstance(node.value, cst.From):
                return None
            if isinstance(node, cst.Return) and node.value is not None:
                return None
    decorator = ctx.reference("contextlib.asynccontextmanager", fn.outer, style="from")
    if decorator is None:
        return None
    make_async = not fn.is_async

    def change(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.FunctionDef)
        dec = cst.Decorator(decorator=ctx.parse_expression(decorator))
        changes: dict[str, Any] = {"decorators": [*node.decorators, dec]}
        if make_async:
            changes["asynchronous"] = cst.Asynchronous()
        return node.with_changes(**changes)

    return Plan(f"@asynccontextmanager on {fn.name}").edit(fn.node, change)
