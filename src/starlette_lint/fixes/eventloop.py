"""STL101: ``time.sleep(x)`` in async code -> ``await asyncio.sleep(x)`` / ``await anyio.sleep(x)``."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..finding import Report
from ..model import Model
from . import FixContext, Plan, fixer


@fixer("STL101")
def await_async_sleep(ctx: FixContext, report: Report) -> Optional[Plan]:
    """``time.sleep(x)`` -> ``await asyncio.sleep(x)``, or ``await anyio.sleep(x)`` when the module uses anyio.

    Only a ``time.sleep(seconds)`` statement directly in the ``async def``
    body (not its value used in an expression, not in a lambda); ``asyncio``
    is imported when the module does not import it yet.
    """
    call = report.node
    if not isinstance(call, cst.Call):
        return None
    model = ctx.model
    site = model.call_of.get(id(call))
    if site is None or model.call_qualname(site) != "time.sleep":
        return None
    fn = site.function
    if fn is None or not fn.is_async or site.in_lambda or site.awaited or site.scope is not fn.scope:
        return None
    if not isinstance(site.parent, cst.Expr) or site.parent.value is not call:
        return None
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    lib = "anyio" if model.imports_any("anyio") and not model.imports_any("asyncio") else "asyncio"
    if model.imports_any("anyio") and model.imports_any("asyncio"):
        lib = "anyio" if _prefers_anyio(model) else "asyncio"
    func = ctx.reference(f"{lib}.sleep", site.scope)
    if func is None:
        return None

    def change(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        new_call = node.with_changes(func=ctx.parse_expression(func))
        return cst.Await(expression=new_call)

    return Plan(f"await {func}()").edit(call, change)


def _prefers_anyio(model: Model) -> bool:
    """Both imported: the one the module calls more often."""
    anyio = sum(1 for s in model.calls if (model.call_qualname(s) or "").startswith("anyio."))
    asyncio = sum(1 for s in model.calls if (model.call_qualname(s) or "").startswith("asyncio."))
    return anyio > asyncio
