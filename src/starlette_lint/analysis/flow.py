"""Control flow within a function: can control reach the end of a block, and what runs after
a statement. Small and conservative: when unsure, a block is taken to terminate (so rules
built on it stay silent)."""

from __future__ import annotations

from typing import Iterator, Literal, Optional, Sequence

import libcst as cst

from ..framework import Framework
from ..model import Function, Scope, iter_children

_NORETURN = frozenset({
    "sys.exit", "os._exit", "os.abort", "builtins.exit", "builtins.quit",
    "typing.assert_never", "typing_extensions.assert_never",
})
_NORETURN_TYPES = frozenset({"typing.NoReturn", "typing.Never", "typing_extensions.NoReturn", "typing_extensions.Never"})
_MAX_DEPTH = 60


def suite_statements(suite: cst.BaseSuite) -> list[cst.CSTNode]:
    """The statements of a block; a one-line suite (``if x: return``) counts as one statement."""
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    return [suite]


class Flow:
    """A small, conservative "can control reach the end of this block" analysis.

    When unsure, a block is taken to terminate (so rules built on it stay silent).
    """

    def __init__(self, fw: Framework) -> None:
        self.model = fw.model
        self._raises: dict[int, bool] = {}

    def terminates(self, stmts: Sequence[cst.CSTNode], scope: Scope, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return True
        return any(self._statement(s, scope, depth + 1) for s in stmts)

    def _statement(self, s: cst.CSTNode, scope: Scope, depth: int) -> bool:
        if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return any(self._small(x, scope, depth) for x in s.body)
        if isinstance(s, cst.If):
            if not self.terminates(suite_statements(s.body), scope, depth):
                return False
            orelse = s.orelse
            if orelse is None:
                return False
            if isinstance(orelse, cst.If):
                return self._statement(orelse, scope, depth + 1)
            return self.terminates(suite_statements(orelse.body), scope, depth)
        if isinstance(s, cst.While):
            if _always_true(s.test) and not _breaks(s.body):
                return True
            return s.orelse is not None and not _breaks(s.body) and self.terminates(
                suite_statements(s.orelse.body), scope, depth)
        if isinstance(s, cst.For):
            return s.orelse is not None and not _breaks(s.body) and self.terminates(
                suite_statements(s.orelse.body), scope, depth)
        if isinstance(s, (cst.Try, cst.TryStar)):
            if s.finalbody is not None and self.terminates(suite_statements(s.finalbody.body), scope, depth):
                return True
            normal = self.terminates(suite_statements(s.body), scope, depth) or (
                s.orelse is not None and self.terminates(suite_statements(s.orelse.body), scope, depth))
            return normal and all(self.terminates(suite_statements(h.body), scope, depth) for h in s.handlers)
        if isinstance(s, cst.With):
            return self.terminates(suite_statements(s.body), scope, depth)
        if isinstance(s, cst.Match):
            return all(self.terminates(suite_statements(c.body), scope, depth) for c in s.cases)
        return False

    def _small(self, x: cst.CSTNode, scope: Scope, depth: int) -> bool:
        if isinstance(x, (cst.Return, cst.Raise)):
            return True
        if isinstance(x, cst.Assert):
            return isinstance(x.test, cst.Name) and x.test.value == "False"
        if isinstance(x, cst.Expr):
            value = x.value
            if isinstance(value, cst.Await):
                value = value.expression
            if isinstance(value, cst.Call):
                return self._noreturn_call(value, scope, depth)
        return False

    def _noreturn_call(self, call: cst.Call, scope: Scope, depth: int) -> bool:
        m = self.model
        if m.qualname(call.func, scope) in _NORETURN:
            return True
        fn = m.resolve_function(call.func, scope)
        if fn is None:
            return False
        known = self._raises.get(id(fn))
        if known is not None:
            return known
        self._raises[id(fn)] = False  # recursion guard
        result = False
        ret = fn.node.returns
        if ret is not None and m.qualname(ret.annotation, fn.outer) in _NORETURN_TYPES:
            result = True
        elif not fn.returns and not fn.is_generator:
            result = self.terminates(suite_statements(fn.node.body), fn.scope, depth)
        self._raises[id(fn)] = result
        return result


def flow(fw: Framework) -> Flow:
    """The module's :class:`Flow` (its memo of functions that never return, shared)."""
    return fw.derived(Flow)


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    if isinstance(test, cst.Integer):
        return test.value not in ("0", "0x0", "0o0", "0b0")
    return False


def _breaks(body: cst.BaseSuite) -> bool:
    """A ``break`` that leaves this loop (nested loops and defs not entered)."""
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Break):
            return True
        for kid in iter_children(node):
            if isinstance(kid, (cst.For, cst.While)):
                if kid.orelse is not None:
                    stack.append(kid.orelse)  # a loop's else belongs to the outer loop
                continue
            if isinstance(kid, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            stack.append(kid)
    return False


BlockKind = Literal["body", "orelse", "handler", "finally", "case"]  # where a statement sits


class _Loc:
    __slots__ = ("block", "index", "owner", "kind")

    def __init__(self, block: list[cst.CSTNode], index: int, owner: Optional[cst.CSTNode], kind: BlockKind) -> None:
        self.block = block
        self.index = index
        self.owner = owner  # the compound statement whose block this is (None: the function body)
        self.kind = kind


def _child_blocks(s: cst.CSTNode) -> Iterator[tuple[list[cst.CSTNode], BlockKind]]:
    if isinstance(s, cst.If):
        yield suite_statements(s.body), "body"
        if isinstance(s.orelse, cst.If):
            yield [s.orelse], "orelse"
        elif s.orelse is not None:
            yield suite_statements(s.orelse.body), "orelse"
    elif isinstance(s, (cst.For, cst.While)):
        yield suite_statements(s.body), "body"
        if s.orelse is not None:
            yield suite_statements(s.orelse.body), "orelse"
    elif isinstance(s, (cst.Try, cst.TryStar)):
        yield suite_statements(s.body), "body"
        for h in s.handlers:
            yield suite_statements(h.body), "handler"
        if s.orelse is not None:
            yield suite_statements(s.orelse.body), "orelse"
        if s.finalbody is not None:
            yield suite_statements(s.finalbody.body), "finally"
    elif isinstance(s, cst.With):
        yield suite_statements(s.body), "body"
    elif isinstance(s, cst.Match):
        for c in s.cases:
            yield suite_statements(c.body), "case"


class BodyIndex:
    """Where each statement of one function sits, and the innermost statement of chosen nodes."""

    def __init__(self, fn: Function, wanted: set[int]) -> None:
        self.fn = fn
        self.locs: dict[int, _Loc] = {}
        self.stmt_of: dict[int, cst.CSTNode] = {}  # id(wanted node) -> innermost statement
        top = suite_statements(fn.node.body)
        blocks: list[tuple[list[cst.CSTNode], Optional[cst.CSTNode], BlockKind]] = [(top, None, "body")]
        while blocks:
            block, owner, kind = blocks.pop()
            for i, s in enumerate(block):
                self.locs[id(s)] = _Loc(block, i, owner, kind)
                for child, ckind in _child_blocks(s):
                    blocks.append((child, s, ckind))
        if wanted:
            stack: list[tuple[cst.CSTNode, cst.CSTNode]] = [(s, s) for s in reversed(top)]
            while stack:
                node, stmt = stack.pop()
                if id(node) in self.locs:
                    stmt = node
                if id(node) in wanted:
                    self.stmt_of[id(node)] = stmt
                if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                    continue  # a nested scope: its body runs another time
                kids = list(iter_children(node))
                for kid in reversed(kids):
                    stack.append((kid, stmt))

    def after(self, stmt: cst.CSTNode, flow_: Flow) -> list[cst.CSTNode]:
        """Statements that run after ``stmt`` on some path, in source order (exclusive branches left out)."""
        out: list[cst.CSTNode] = []
        loc = self.locs.get(id(stmt))
        scope = self.fn.scope
        while loc is not None:
            out.extend(loc.block[loc.index + 1:])
            if flow_.terminates(loc.block[loc.index:], scope):
                break
            owner = loc.owner
            if owner is None:
                break
            if isinstance(owner, (cst.Try, cst.TryStar)):
                if loc.kind == "body" and owner.orelse is not None:
                    out.extend(suite_statements(owner.orelse.body))
                if loc.kind != "finally" and owner.finalbody is not None:
                    out.extend(suite_statements(owner.finalbody.body))
            loc = self.locs.get(id(owner))
        return out
