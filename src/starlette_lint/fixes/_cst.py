"""Small LibCST editing helpers that keep the surrounding formatting."""

from __future__ import annotations

from typing import Optional, Sequence, TypeVar

import libcst as cst

from ..model import iter_children

NodeT = TypeVar("NodeT", bound=cst.CSTNode)


def expect(node: cst.CSTNode, kind: type[NodeT]) -> NodeT:
    """``node`` as a ``kind``; a TypeError otherwise (the edit fails, and with it its plan)."""
    if not isinstance(node, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(node).__name__}")
    return node


def contains(root: cst.CSTNode, target: cst.CSTNode) -> bool:
    """Whether ``target`` (by identity) is ``root`` or inside it."""
    if root is target:
        return True
    stack = [root]
    while stack:
        node = stack.pop()
        for child in iter_children(node):
            if child is target:
                return True
            stack.append(child)
    return False


class _CommentFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Comment(self, node: cst.Comment) -> bool:
        self.found = True
        return False


def has_comment(node: cst.CSTNode) -> bool:
    """Whether a comment is anywhere inside ``node`` (its whitespace included)."""
    finder = _CommentFinder()
    node.visit(finder)
    return finder.found


def block_body(owner: cst.CSTNode) -> Optional[Sequence[cst.BaseStatement]]:
    """The statements of a module or of a function whose body is an indented block."""
    if isinstance(owner, cst.Module):
        return owner.body
    if isinstance(owner, cst.FunctionDef) and isinstance(owner.body, cst.IndentedBlock):
        return owner.body.body
    return None


def statement_in(owner: cst.CSTNode, target: cst.CSTNode) -> Optional[cst.BaseStatement]:
    """The statement directly in ``owner``'s block (module or def body) that holds ``target``."""
    body = block_body(owner)
    if body is None:
        return None
    for stmt in body:
        if contains(stmt, target):
            return stmt
    return None


def names_in(node: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.add(n.value)
        stack.extend(iter_children(n))
    return out


# ------------------------------------------------------------------ arguments
def append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``f(a)`` -> ``f(a, new)``; a trailing comma / one-per-line layout is kept."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # trailing comma: the new argument takes the trailing comma, the old last one a separator like the others
        if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
            sep = args[-2].comma
        elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
            sep = cst.Comma(whitespace_after=call.whitespace_before_args)
        else:
            sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args[-1] = last.with_changes(comma=sep)
        args.append(arg.with_changes(comma=last.comma))
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return call.with_changes(args=args)


def remove_arg(call: cst.Call, index: int) -> cst.Call:
    """Drop one argument, keeping the commas and layout of the others."""
    args = list(call.args)
    removed = args.pop(index)
    if args and index == len(args):
        # the removed one was last: the new last argument takes its (trailing) comma
        args[-1] = args[-1].with_changes(comma=removed.comma)
    return call.with_changes(args=args)


def insert_first_arg(call: cst.Call, value: cst.BaseExpression) -> cst.Call:
    """``f(a, b)`` -> ``f(value, a, b)``, with the separator the call already uses."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[cst.Arg(value)])
    if len(args) >= 2 and isinstance(args[0].comma, cst.Comma):
        sep = args[0].comma
    elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        sep = cst.Comma(whitespace_after=call.whitespace_before_args)
    else:
        sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return call.with_changes(args=[cst.Arg(value, comma=sep), *args])


def keyword_index(call: cst.Call, name: str) -> Optional[int]:
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == name:
            return i
    return None


def positional_args(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


# ------------------------------------------------------------------ dicts
def remove_dict_element(d: cst.Dict, index: int) -> cst.Dict:
    elements = list(d.elements)
    removed = elements.pop(index)
    if elements and index == len(elements):
        elements[-1] = elements[-1].with_changes(comma=removed.comma)
    return d.with_changes(elements=elements)


# ------------------------------------------------------------------ statements
def with_blank_lines(stmt: NodeT, n: int) -> NodeT:
    """Make sure ``stmt`` has at least ``n`` blank lines before its first comment/code line."""
    leading = list(getattr(stmt, "leading_lines", ()))
    have = 0
    for line in leading:
        if line.comment is None:
            have += 1
        else:
            break
    if have >= n:
        return stmt
    return stmt.with_changes(leading_lines=[cst.EmptyLine(indent=False) for _ in range(n - have)] + leading)
