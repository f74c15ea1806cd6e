"""Line/column of reported nodes only, computed on demand.

LibCST's ``PositionProvider`` generates code for the whole module and records a
range for every node. A module with no finding needs no position at all, and
one with findings only needs the positions of those few nodes: this replays
code generation just far enough to reach the last of them, tracking line and
column, and stops there.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


class _Found(Exception):
    pass


class _PositionState(CodegenState):
    """A code generator that emits nothing and only counts lines and columns."""

    def __init__(self, module: cst.Module, targets: dict[int, cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
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


def positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, tuple[int, int]]:
    """``id(node) -> (line, column)``, 1-based line and 0-based column."""
    targets = {id(n): n for n in nodes}
    if not targets:
        return {}
    state = _PositionState(module, targets)
    try:
        module._codegen(state)
    except _Found:
        pass
    return state.starts
