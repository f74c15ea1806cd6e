"""Line/column of reported nodes only, computed on demand.

LibCST's ``PositionProvider`` generates code for the whole module and records a
range for every node. A module with no finding needs no position at all, and
one with findings only needs the positions of those few nodes.

Two strategies, both replaying LibCST's code generation with a state that
emits nothing and only counts lines and columns:

* with Python's ``ast`` of the same source (flake8 hands it to plugins for
  free; elsewhere it costs about a tenth of a LibCST parse), each top-level
  statement's first line is known, so only the top-level statements that hold
  a reported node are replayed, each from its own first line;
* otherwise (or when the ``ast`` does not line up with the LibCST tree), the
  module is replayed from the top until the last reported node is reached.
"""

from __future__ import annotations

import ast
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from .model import walk

if TYPE_CHECKING:
    from .model import Model

_NEWLINE = re.compile(r"\r\n?|\n")


class _Found(Exception):
    pass


class _PositionState(CodegenState):
    """A code generator that emits nothing and only counts lines and columns."""

    def __init__(self, module: cst.Module, targets: dict[int, cst.CSTNode], line: int = 1) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = line
        self.column = 0
        self.targets = targets
        self.starts: dict[int, tuple[int, int]] = {}
        self.remaining = len(targets)

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            parts = _NEWLINE.split(value)
            self.line += len(parts) - 1
            self.column = len(parts[-1])
        else:
            self.column += len(value)

    def add_token(self, value: str) -> None:
        self._advance(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self._advance(token)

    def pop_trailing_newline(self) -> None:  # pragma: no cover - end of module
        pass

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets and key not in self.starts:
            self.starts[key] = (self.line, self.column)

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> Iterator[None]:
        key = id(node)
        if key in self.targets and start_node is None:
            # The syntactic start (after decorators and leading lines) wins.
            self.starts[key] = (self.line, self.column)
        yield

    def after_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self.remaining -= 1
            if self.remaining <= 0:
                raise _Found


def _replay(module: cst.Module, node: cst.CSTNode, targets: dict[int, cst.CSTNode], line: int,
            stop_after: Optional[int] = None) -> dict[int, tuple[int, int]]:
    """Replay ``node``'s code generation from ``line``; stop once ``stop_after`` targets are done."""
    state = _PositionState(module, targets, line)
    if stop_after is not None:
        state.remaining = stop_after
    try:
        node._codegen(state)
    except _Found:
        pass
    return state.starts


def positions(module: cst.Module, nodes: Iterable[cst.CSTNode], tree: Optional[ast.Module] = None,
              top_of: Optional[dict[int, int]] = None) -> dict[int, tuple[int, int]]:
    """``id(node) -> (line, column)``, 1-based line and 0-based column.

    ``top_of`` (the model's ``id(node) -> top-level statement index``) saves
    searching which statement holds each node.
    """
    targets = {id(n): n for n in nodes}
    if not targets:
        return {}
    if tree is not None:
        found = _by_statement(module, targets, tree, top_of or {})
        if found is not None:
            return found
    return _replay(module, module, targets, 1)


def _statement_lines(module: cst.Module, tree: ast.Module) -> Optional[list[tuple[int, int]]]:
    """For each LibCST top-level statement: (line its code generation starts on, line of its keyword)."""
    body = tree.body
    i = 0
    out: list[tuple[int, int]] = []
    for stmt in module.body:
        n = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        if i + n > len(body):
            return None
        first = body[i]
        keyword_line = first.lineno
        start = keyword_line
        decorators = getattr(first, "decorator_list", None)
        lead = len(stmt.leading_lines)
        if decorators and isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.decorators:
            start = decorators[0].lineno
            lead += len(stmt.decorators[0].leading_lines)
        out.append((start - lead, keyword_line))
        i += n
    return out if i == len(body) else None


def _by_statement(module: cst.Module, targets: dict[int, cst.CSTNode], tree: ast.Module,
                  top_of: dict[int, int]) -> Optional[dict[int, tuple[int, int]]]:
    lines = _statement_lines(module, tree)
    if lines is None:
        return None
    starts: dict[int, tuple[int, int]] = {}
    left = set(targets)
    known: dict[int, set[int]] = {}  # statement index -> targets the model placed there
    for key in targets:
        index = top_of.get(key)
        if index is not None:
            known.setdefault(index, set()).add(key)
    unplaced = left - set().union(*known.values()) if known else set(left)
    for index, (stmt, (line, keyword_line)) in enumerate(zip(module.body, lines)):
        if not left:
            break
        inside = set(known.get(index, ()))
        if id(stmt) in left:
            inside.add(id(stmt))
        if unplaced:
            for node in walk(stmt, into_scopes=True):
                if id(node) in unplaced:
                    inside.add(id(node))
            unplaced -= inside
        if not inside:
            continue
        wanted = {k: targets[k] for k in inside if k != id(stmt)}
        count = len(wanted) or None
        wanted[id(stmt)] = stmt  # its recorded start checks that the replay began where ast says
        got = _replay(module, stmt, wanted, line, stop_after=count)
        first = got.get(id(stmt))
        if first is None or first[0] != keyword_line:
            return None  # the two parsers disagree on this file: replay the whole module instead
        for key in inside:
            if key in got:
                starts[key] = got[key]
        left -= inside
    if left:  # a node the walk does not reach (inside an annotation, say): replay the module for those
        starts.update(_replay(module, module, {k: targets[k] for k in left}, 1))
    return starts


# Above this many top-level statements, Python's own parser (a tenth of a LibCST parse) is
# cheaper than replaying LibCST's code generation from the top.
AST_ABOVE = 40


def model_positions(model: "Model", nodes: Iterable[cst.CSTNode]) -> dict[int, tuple[int, int]]:
    """:func:`positions` of nodes of a model's module, with Python's tree of the source when the
    caller gave one or the module is long enough for parsing it to pay (parsed once per model)."""
    tree = model.given_python_tree()
    if tree is None and len(model.module.body) > AST_ABOVE:
        tree = model.python_tree()
    return positions(model.module, nodes, tree, model.top_of)
