"""STL802 (renamed status constants) and STL803 (``TemplateResponse(request, name, context)``)."""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..finding import Report
from ..model import Model, Scope, iter_children, string_value
from . import FixContext, Plan, fixer
from ._cst import insert_first_arg, keyword_index, positional_args, remove_arg, remove_dict_element

STATUS_RENAMES = {
    "HTTP_413_REQUEST_ENTITY_TOO_LARGE": "HTTP_413_CONTENT_TOO_LARGE",
    "HTTP_414_REQUEST_URI_TOO_LONG": "HTTP_414_URI_TOO_LONG",
    "HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE": "HTTP_416_RANGE_NOT_SATISFIABLE",
    "HTTP_422_UNPROCESSABLE_ENTITY": "HTTP_422_UNPROCESSABLE_CONTENT",
}
_STATUS_MODULES = ("starlette.status", "fastapi.status")


@fixer("STL802", needs=(("starlette", (0, 48)),))
def renamed_status(ctx: FixContext, report: Report) -> Optional[Plan]:
    """``status.HTTP_422_UNPROCESSABLE_ENTITY`` -> ``status.HTTP_422_UNPROCESSABLE_CONTENT``.

    For ``from starlette.status import HTTP_422_UNPROCESSABLE_ENTITY`` the
    import and every use of the name are renamed together (only when every
    ``HTTP_422_UNPROCESSABLE_ENTITY`` name in the module is that import and
    no string mentions it, e.g. in ``__all__``); with ``as alias`` only the
    imported name changes. The default of ``getattr(status, "NEW", status.OLD)``
    is left alone (renamed, it would fail on a Starlette without the new name).
    """
    node = report.node
    if isinstance(node, cst.Attribute):
        old = node.attr.value
        renamed = STATUS_RENAMES.get(old)
        if renamed is None:
            return None
        from ..rules.migration import getattr_defaults

        if id(node) in getattr_defaults(ctx.model):
            return None  # getattr(status, "NEW", status.OLD): renaming the default breaks old Starlette
        return Plan(f"status.{renamed}").edit(node, lambda n: n.with_changes(attr=cst.Name(renamed)))
    if isinstance(node, cst.ImportAlias) and isinstance(node.name, cst.Name):
        old = node.name.value
        new = STATUS_RENAMES.get(old)
        if new is None:
            return None
        if node.asname is not None:
            return Plan(f"import {new}").edit(node, lambda n: n.with_changes(name=cst.Name(new)))
        return memo_rename(ctx, node, old, new)
    return None


def memo_rename(ctx: FixContext, alias: cst.ImportAlias, old: str, new: str) -> Optional[Plan]:
    model = ctx.model
    if f'"{old}"' in model.source or f"'{old}'" in model.source:
        return None
    if not ctx.is_free(new):
        return None
    uses = list(_names(model, old))
    total = sum(1 for n in _all_nodes(model.module) if isinstance(n, cst.Name) and n.value == old)
    # every Name is either the import's own alias name or a use resolving to it
    if total != len(uses) + 1:
        return None
    for name, scope in uses:
        if model.qualname(name, scope) not in {f"{m}.{old}" for m in _STATUS_MODULES}:
            return None
    plan = Plan(f"import {new}")
    plan.edit(alias, lambda n: n.with_changes(name=cst.Name(new)))
    for name, _ in uses:
        plan.edit(name, lambda n: n.with_changes(value=new))
    return plan


def _all_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(iter_children(node))


def _names(model: Model, value: str) -> Iterator[tuple[cst.Name, Scope]]:
    """Name nodes used as values (not attribute names, keywords or the import itself), with their scope."""
    stack: list[tuple[cst.CSTNode, Scope]] = [(n, model.scope) for n in iter_children(model.module)]
    while stack:
        node, scope = stack.pop()
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        if isinstance(node, cst.Name) and node.value == value:
            yield node, scope
            continue
        inner = model.scope_inside(node, scope)
        if isinstance(node, cst.Attribute):
            stack.append((node.value, inner))  # not node.attr
            continue
        for child in iter_children(node):
            if isinstance(node, cst.Arg) and child is node.keyword:
                continue
            stack.append((child, inner))


@fixer("STL803", needs=(("starlette", (0, 29)),))
def template_response_request_first(ctx: FixContext, report: Report) -> Optional[Plan]:
    """``TemplateResponse("x.html", {"request": request, ...})`` -> ``TemplateResponse(request, "x.html", {...})``.

    The request comes from the context dict literal's ``"request"`` entry
    (which is then dropped; an emptied dict is dropped too unless a positional
    argument follows it), or else from a ``request`` parameter of the
    enclosing function. ``TemplateResponse(name=..., context=...)`` gets the
    request as first positional argument.
    """
    call = report.node
    if not isinstance(call, cst.Call) or any(a.star for a in call.args):
        return None
    model = ctx.model
    site = model.call_of.get(id(call))
    if site is None:
        return None
    pos = positional_args(call)
    if pos and _is_request(model, pos[0].value, site.scope):
        return None
    if pos:
        ctx_index: Optional[int] = call.args.index(pos[1]) if len(pos) > 1 else keyword_index(call, "context")
    else:
        if keyword_index(call, "name") is None or keyword_index(call, "request") is not None:
            return None
        ctx_index = keyword_index(call, "context")
    context = call.args[ctx_index].value if ctx_index is not None else None
    request_code: Optional[str] = None
    drop: Optional[int] = None
    if isinstance(context, cst.Dict):
        for i, el in enumerate(context.elements):
            if isinstance(el, cst.DictElement) and string_value(el.key) == "request":
                request_code = ctx.code(el.value)
                drop = i
                break
    if request_code is None:
        fn = site.function
        if fn is None or site.in_lambda:
            return None
        names = [p.name.value for p in fn.params.params] + [p.name.value for p in fn.params.posonly_params]
        if "request" not in names:
            return None
        request_code = "request"
        if model.lookup("request", site.scope)[1] is not fn.scope:
            return None
    followed = ctx_index is not None and any(a.keyword is None for a in call.args[ctx_index + 1:])
    request_expr = request_code

    def change(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        if ctx_index is not None and drop is not None:
            d = node.args[ctx_index].value
            if isinstance(d, cst.Dict):
                d = remove_dict_element(d, drop)
                if not d.elements and not followed:
                    node = remove_arg(node, ctx_index)
                else:
                    args = list(node.args)
                    args[ctx_index] = args[ctx_index].with_changes(value=d)
                    node = node.with_changes(args=args)
        return insert_first_arg(node, ctx.parse_expression(request_expr))

    return Plan(f"TemplateResponse({request_code}, ...)").edit(call, change)


def _is_request(model: Model, expr: cst.BaseExpression, scope: Scope) -> bool:
    q = model.qualname(expr, scope)
    return q is not None and q.startswith(("starlette.requests.Request()", "starlette.requests.HTTPConnection()"))
