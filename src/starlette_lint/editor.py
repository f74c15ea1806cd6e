"""What an editor asks of the linter, without the protocol: the language server's core.

:mod:`.server` speaks the Language Server Protocol (pygls); everything it computes
comes from here, so that it can be tested without a client:

- :func:`check`: the problems in an unsaved buffer, as ``starlette-lint check -
  --stdin-filename PATH`` finds them (the same configuration, releases, project and
  ``# noqa``), each with the span an editor underlines and the title of its quick fix;
- :func:`fix`: the buffer as ``check - --fix`` writes it, or with one problem fixed;
- :func:`suppress`: the buffer with ``# noqa: CODE`` on a problem's line, as
  ``--add-noqa`` writes it;
- :func:`edits`: the smallest line edits that turn one text into another, so that a
  quick fix keeps the editor's cursor, folds and undo history;
- :class:`Lines`: positions in the protocol's units (UTF-16 by default).

Positions here are 0-based lines (the protocol's) and 0-based columns in code
points (Python's ``str`` indexes); :class:`Lines` converts columns.
"""

from __future__ import annotations

import io
import os
import tokenize
from dataclasses import dataclass, replace
from typing import Optional, Union

from .cache import config_fingerprint, store_directory
from .config import ConfigError, load, targeting
from .discovery import excluded_file
from .noqa import NoqaIndex, raw_lines
from .runner import INTERNAL, Job, Settings, decode, process

FIX_ALL_TITLE = "Fix all safe starlette-lint problems"


@dataclass(frozen=True)
class Problem:
    """A finding in a buffer: where it starts and ends (0-based line, code-point column)."""

    line: int
    col: int
    end_line: int
    end_col: int
    code: str
    message: str
    fix: Optional[str] = None  # the quick fix's title ("Fix STL101: use await asyncio.sleep()"); None: none applies

    @property
    def key(self) -> tuple[int, int, str]:
        """The finding as the runner names it: (1-based line, column, code)."""
        return self.line + 1, self.col, self.code


@dataclass(frozen=True)
class Edit:
    """Replace the text from ``start`` to ``end`` (0-based line, code-point column) by ``text``."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


def settings_for(path: str, mode: str = "check") -> Union[Settings, str]:
    """The settings ``check --stdin-filename path`` would use: the nearest ``[tool.starlette-lint]``
    and the releases of the file's project; a message when the configuration is unusable."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        config = targeting(load(folder), path)
    except (ConfigError, OSError, ValueError) as exc:
        return f"configuration error: {exc}"
    index_dir = store_directory(config) if config.project_mode else None
    return Settings(config, config_fingerprint(config), None, mode, index_dir=index_dir)


def skipped(path: str, settings: Settings) -> bool:
    """A file the command's walk would skip (``extend-exclude``, ``.venv``, ``build``...), or an
    installed package's module (a definition the editor opened): not checked in an editor."""
    parts = os.path.abspath(path).replace(os.sep, "/").split("/")
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return excluded_file(path, settings.config.extend_exclude, settings.config.root)


def encode(text: str) -> bytes:
    """The bytes of a buffer as its file would be saved: in the encoding its coding cookie
    declares (UTF-8 without one); UTF-8 when the text does not fit that encoding."""
    raw = text.encode("utf-8", "surrogatepass")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:  # a cookie naming no codec: the check reports the file as it is
        return raw
    if encoding in ("utf-8", "utf-8-sig"):
        return raw
    try:
        return text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return raw


def check(path: str, text: str, settings: Optional[Union[Settings, str]] = None) -> list[Problem]:
    """The problems of the buffer ``text`` of the file ``path`` (the file on disk is not read)."""
    settings = settings_for(path) if settings is None else settings
    if isinstance(settings, str):
        return [Problem(0, 0, 0, 0, INTERNAL, settings)]
    if skipped(path, settings):
        return []
    result = process(Job(path, 0, encode(text), stdin=True, detail=True), replace(settings, mode="check"))
    lines = raw_lines(text)
    problems = []
    for line, col, code, message, fixable in result.rows:
        end_line, end_col = result.ends.get((line, col, code), (line, col))
        if end_line == line and end_col <= col and 0 < line <= len(lines):
            end_col = min(col + 1, len(lines[line - 1].rstrip("\r\n")))  # at least a character where there is one
        title = result.fix_titles.get((line, col, code)) if fixable else None
        problems.append(Problem(line - 1, col, end_line - 1, max(end_col, col), code, message,
                                fix_title(code, title) if title is not None else None))
    return problems


def fix_title(code: str, description: str) -> str:
    """``Fix STL101: use await asyncio.sleep()`` (a rule's own replacement: ``Fix STL101``)."""
    if description.startswith(code):
        return f"Fix {code}"
    return f"Fix {code}: use {description}"


def fix(path: str, text: str, only: Optional[tuple[int, int, str]] = None,
        settings: Optional[Union[Settings, str]] = None) -> Optional[str]:
    """The buffer fixed as ``check - --fix`` fixes it, or (``only``: a :attr:`Problem.key`)
    with that one problem fixed; None when nothing changes."""
    settings = settings_for(path) if settings is None else settings
    if isinstance(settings, str) or skipped(path, settings):
        return None
    content = encode(text)
    result = process(Job(path, 0, content, stdin=True, only=only), replace(settings, mode="diff"))
    if not result.fixed or result.output is None or result.output == content:
        return None
    return decode(result.output)


def suppress(text: str, problem: Problem) -> Optional[str]:
    """The buffer with ``# noqa: CODE`` for ``problem`` (joined to a ``# noqa:`` list already
    there); None when it cannot take one (a blanket ``# noqa``, a file Python cannot tokenize)."""
    new, changed = NoqaIndex(text).with_codes(text, {problem.line + 1: {problem.code}})
    return new if changed else None


def edits(old: str, new: str) -> list[Edit]:
    """Line edits that turn ``old`` into ``new``: one per changed run of lines."""
    import difflib

    a, b = raw_lines(old), raw_lines(new)
    out = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        out.append(Edit(_line_start(a, i1), _line_start(a, i2), "".join(b[j1:j2])))
    return out


def _line_start(lines: list[str], index: int) -> tuple[int, int]:
    """Where line ``index`` starts; past the last line, the end of the text (the protocol has no
    line after a last line without a newline)."""
    if index < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return index, 0
    return len(lines) - 1, len(lines[-1])


def apply(text: str, changes: list[Edit]) -> str:
    """``text`` with ``changes`` applied (they do not overlap), as an editor applies them."""
    lines = raw_lines(text)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(pos: tuple[int, int]) -> int:
        line, col = pos
        return offsets[min(line, len(lines))] + col

    for change in sorted(changes, key=lambda e: e.start, reverse=True):
        text = text[:at(change.start)] + change.text + text[at(change.end):]
    return text


class Lines:
    """A buffer's lines, to convert columns between code points and the protocol's units
    (``utf-16``, the default, ``utf-8`` or ``utf-32``)."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.lines = [line.rstrip("\r\n") for line in raw_lines(text)]
        self.encoding = encoding

    def _width(self, chars: str) -> int:
        if self.encoding == "utf-32":
            return len(chars)
        if self.encoding == "utf-8":
            return len(chars.encode("utf-8", "surrogatepass"))
        return len(chars) + sum(1 for c in chars if ord(c) > 0xFFFF)

    def to_units(self, line: int, col: int) -> int:
        """The column ``col`` (code points) of ``line`` in the protocol's units."""
        if line >= len(self.lines) or self.encoding == "utf-32":
            return col
        return self._width(self.lines[line][:col])

    def from_units(self, line: int, units: int) -> int:
        """The code-point column at ``units`` of ``line`` (the end of the line past it)."""
        if line >= len(self.lines):
            return units
        if self.encoding == "utf-32":
            return min(units, len(self.lines[line]))
        text, used = self.lines[line], 0
        for i, char in enumerate(text):
            if used >= units:
                return i
            used += self._width(char)
        return len(text)
