"""STL302 (wrap in ``Middleware(...)``) and STL303 (``async def dispatch`` + ``await call_next``)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..finding import Report
from ..model import Scope, all_params, walk
from . import FixContext, Plan, fixer


@fixer("STL302")
def wrap_in_middleware(ctx: FixContext, report: Report) -> Optional[Plan]:
    """``[GZipMiddleware]`` -> ``[Middleware(GZipMiddleware)]``;
    ``[GZipMiddleware(minimum_size=500)]`` -> ``[Middleware(GZipMiddleware, minimum_size=500)]``
    (an instance only when every argument is a keyword: a positional one may be the app)."""
    node = report.node
    if isinstance(node, (cst.Name, cst.Attribute)):
        cls_code, extra = ctx.code(node), []
    elif isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
        if any(a.keyword is None for a in node.args):
            return None
        cls_code, extra = ctx.code(node.func), list(node.args)
    else:
        return None
    ref = ctx.reference("starlette.middleware.Middleware", _scope_of(ctx, node), style="from")
    if ref is None:
        return None

    def change(updated: cst.CSTNode) -> cst.CSTNode:
        args = [cst.Arg(ctx.parse_expression(cls_code))]
        if extra:
            args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            tail = list(updated.args) if isinstance(updated, cst.Call) else extra
            tail[-1] = tail[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            args += tail
        return cst.Call(func=ctx.parse_expression(ref), args=args)

    return Plan(f"Middleware({cls_code})").edit(node, change)


def _scope_of(ctx: FixContext, node: cst.CSTNode) -> Scope:
    """The scope an expression is evaluated in: that of the call whose argument it is, else the module."""
    model = ctx.model
    for site in model.calls:
        for arg in site.node.args:
            if arg.value is node or _in_list(arg.value, node):
                return site.scope
    return model.scope


def _in_list(expr: cst.BaseExpression, node: cst.CSTNode) -> bool:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return any(el.value is node for el in expr.elements)
    return False


@fixer("STL303")
def async_dispatch(ctx: FixContext, report: Report) -> Optional[Plan]:
    """``def dispatch(self, request, call_next)`` -> ``async def`` with every ``call_next(...)`` awaited.

    Only when ``call_next`` is used nowhere but as a direct call in the
    function's own body, the function is never called directly in the module,
    and it is not a generator.
    """
    model = ctx.model
    fn = model.function_of.get(id(report.node))
    if fn is None or fn.is_async or fn.is_generator or ctx.framework.callers_of(fn):
        return None
    params = all_params(fn.params)
    index = 2 if fn.klass is not None else 1
    if len(params) <= index or params[index].star:
        return None
    call_next = params[index].name.value
    direct: set[int] = set()
    for site in fn.calls:
        if site.scope is fn.scope and isinstance(site.node.func, cst.Name) and site.node.func.value == call_next:
            if not site.awaited:
                direct.add(id(site.node))
    # every other mention of call_next (nested defs, lambdas, passed along) makes it unsafe
    mentions = 0
    for node in walk(fn.node.body, into_scopes=True):
        if isinstance(node, cst.Name) and node.value == call_next:
            mentions += 1
    funcs = sum(1 for site in fn.calls if site.scope is fn.scope and isinstance(site.node.func, cst.Name)
                and site.node.func.value == call_next)
    if mentions != funcs:
        return None
    plan = Plan(f"async def {fn.name}")
    plan.edit(fn.node, lambda node: node.with_changes(asynchronous=cst.Asynchronous()))
    for site in fn.calls:
        if id(site.node) in direct:
            plan.edit(site.node, _awaited)
    return plan


def _awaited(node: cst.CSTNode) -> cst.Await:
    if not isinstance(node, cst.BaseExpression):
        raise TypeError(f"cannot await a {type(node).__name__}")  # the edit fails, and with it the plan
    return cst.Await(expression=node)
