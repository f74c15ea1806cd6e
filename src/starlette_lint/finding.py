"""What a rule reports, and what the front ends print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the front ends import this module before they know whether LibCST is needed
    import libcst as cst


@dataclass(frozen=True, order=True)
class Finding:
    """A problem at a place: 1-based line, 0-based column (flake8 shows column + 1)."""

    line: int
    col: int
    code: str
    message: str = field(compare=False)
    fix: Optional[cst.CSTNode] = field(default=None, compare=False, repr=False, hash=False)

    @property
    def text(self) -> str:
        """``STL101 message`` as flake8 prints it."""
        return f"{self.code} {self.message}"


@dataclass
class Report:
    """A rule's finding before positions are known."""

    node: cst.CSTNode
    message: str
    code: str = ""
    fix: Optional[cst.CSTNode] = None
