"""STL607: ``RedirectResponse(url)`` after POST -> ``status_code=303``; STL611: a redundant ``response_model=``
goes; STL612: ``Depends()``, ``Query()``... move from the default value into ``Annotated[...]``."""

from __future__ import annotations

from typing import Callable, Optional

import libcst as cst

from ..finding import Report
from ..versions import python_for
from . import FixContext, Plan, fixer
from ._cst import append_arg, expect, has_comment, keyword_index, positional_args, remove_arg


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


@fixer("STL611", needs=(("fastapi", (0, 89)),))
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


@fixer("STL612", needs=(("fastapi", (0, 95)),))
def annotated_parameter(ctx: FixContext, report: Report) -> Optional[Plan]:
    """`q: str | None = Query(None, max_length=50)` becomes
    `q: Annotated[str | None, Query(max_length=50)] = None`, and `db: Session = Depends(get_db)`
    becomes `db: Annotated[Session, Depends(get_db)]` (importing `Annotated` from `typing`, or
    from `typing_extensions` when the project's `requires-python` admits Python 3.8).
    Not applied to a parameter without an annotation, to a `default_factory=`, to a default
    argument that carries a comment (it would be lost), nor when the parameter would lose its
    default value after one that keeps its own (a SyntaxError)."""
    from ..analysis.request_objects import param_function

    param = report.node
    if not isinstance(param, cst.Param) or param.annotation is None or not isinstance(param.default, cst.Call):
        return None
    fn = next((f for f in ctx.model.functions
               if any(p is param for p in [*_positional(f.params), *f.params.kwonly_params])), None)
    if fn is None:
        return None
    call = param.default
    name = param_function(ctx.model, call, fn.outer)
    if name is None or any(a.star for a in call.args):
        return None
    marker, default = call, None
    if name not in ("Depends", "Security"):
        if any(a.keyword is not None and a.keyword.value == "default_factory" for a in call.args):
            return None
        index = keyword_index(call, "default")
        if index is None and call.args and call.args[0].keyword is None:
            index = 0
        if index is not None:
            if has_comment(call.args[index]):
                return None  # a comment on the default value would be lost with its argument
            default = call.args[index].value
            marker = remove_arg(call, index)
            if isinstance(default, cst.Ellipsis):
                default = None  # Query(...): required
    if default is None and not _may_lose_default(fn.params, param):
        return None
    # typing.Annotated is Python 3.9's: a project that still runs on 3.8 gets typing_extensions'
    # (a dependency of FastAPI), unless the module already imports one of them
    python = python_for(ctx.model.config, ctx.model.filename)
    source = "typing_extensions.Annotated" if python is not None and python.allows_below((3, 9)) else "typing.Annotated"
    annotated = ctx.reference(source, fn.outer, style="from")
    if annotated is None:
        return None
    try:
        annotation = ctx.parse_expression(f"{annotated}[{ctx.code(param.annotation.annotation)}, {ctx.code(marker)}]")
    except cst.ParserSyntaxError:
        return None

    def change(node: cst.CSTNode) -> cst.CSTNode:
        old = expect(node, cst.Param)
        new = old.with_changes(annotation=old.annotation.with_changes(annotation=annotation)
                               if old.annotation is not None else None)
        if default is None:
            return new.with_changes(default=None, equal=cst.MaybeSentinel.DEFAULT)
        return new.with_changes(default=default)

    return Plan(f"{param.name.value}: Annotated[..., {name}(...)]").edit(param, change)


def _positional(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params]


def _may_lose_default(params: cst.Parameters, param: cst.Param) -> bool:
    """``param`` may go without a default value: it is keyword-only, or no positional parameter
    before it has one."""
    positional = _positional(params)
    if not any(p is param for p in positional):
        return True
    for p in positional:
        if p is param:
            return True
        if p.default is not None:
            return False
    return True
