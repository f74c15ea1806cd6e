"""STL607: ``RedirectResponse(url)`` after POST -> ``status_code=303``; STL611: a redundant ``response_model=`` goes."""

from __future__ import annotations

from typing import Callable, Optional

import libcst as cst

from ..finding import Report
from . import FixContext, Plan, fixer
from ._cst import append_arg, expect, positional_args, remove_arg


@fixer("STL607")
def redirect_see_other(ctx: FixContext, report: Report) -> Optional[Plan]:
    """``RedirectResponse(url)`` -> ``RedirectResponse(url, status_code=303)`` (303 See Other: the browser
    follows with a GET). Not when the call passes ``*args``/``**kwargs`` or a second positional argument."""
    call = report.node
    if not isinstance(call, cst.Call) or any(a.star for a in call.args):
        return None
    if len(positional_args(call)) > 1 or any(a.keyword is not None and a.keyword.value == "status_code" for a in call.args):
        return None
    if not call.args:
        return None
    new = cst.Arg(keyword=cst.Name("status_code"), value=cst.Integer("303"),
                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    return Plan("status_code=303").edit(call, lambda node: append_arg(expect(node, cst.Call), new))


@fixer("STL611")
def drop_response_model(ctx: FixContext, report: Report) -> Optional[Plan]:
    """`@app.post("/items/", response_model=Item)` on a function returning `-> Item` becomes
    `@app.post("/items/")`: the argument goes, the return annotation stays."""
    arg = report.node
    for site in ctx.model.calls:
        index = next((i for i, candidate in enumerate(site.node.args) if candidate is arg), None)
        if index is not None:
            return Plan("the return annotation").edit(site.node, _without_arg(index))
    return None


def _without_arg(index: int) -> Callable[[cst.CSTNode], cst.CSTNode]:
    def change(node: cst.CSTNode) -> cst.CSTNode:
        return remove_arg(expect(node, cst.Call), index)

    return change
