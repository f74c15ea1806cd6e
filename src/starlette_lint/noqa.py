"""``# noqa`` exactly as flake8 (7.x) honours it, for the standalone command.

The flake8 plugin needs none of this: flake8 applies ``# noqa`` itself. The
command mirrors it so both front ends suppress the same findings:

* ``# noqa`` (any case, exactly one space after ``#``) on a finding's line
  suppresses every code there; ``# noqa: STL101,STL2`` (codes separated by
  commas or whitespace) suppresses codes equal to or starting with one of
  them. Text after ``# noqa:`` that is not a code list (``# noqa: fine``)
  makes it a blanket ``# noqa``, as in flake8; codes are compared
  case-sensitively, so ``# noqa: stl101`` suppresses nothing, as in flake8.
* The "line" of a finding is flake8's: the physical line, except that a
  token spanning several lines (a triple-quoted string, or lines joined by a
  backslash) makes all those lines one unit, so a ``# noqa`` after a
  multi-line string covers findings on any of its lines.
* A line matching ``# flake8: noqa`` (alone on its line) skips the whole file.

Peers' codes (:data:`PEER_ALIASES`) are honoured by both front ends (the engine
applies them): a line already marked ``# noqa: RUF006`` was reviewed for the
problem STL108 reports, so STL108 stays quiet there too.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Optional

from .finding import Finding

# flake8/defaults.py
NOQA_INLINE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
NOQA_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.I)
_LIST_SPLIT = re.compile(r"[,\s]")
# tokens a "# noqa" may sit in without being a comment: strings, and f-string parts (Python 3.12+)
_STRINGS = frozenset({tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)})
_RAW_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # lines as universal newlines split them, ends kept


def raw_lines(text: str) -> list[str]:
    """Lines as written, ends kept: ``\r\n``, ``\r`` and ``\n`` each end one (the lines of an
    editor's buffer too)."""
    return _RAW_LINE.findall(text)


def split_lines(text: str) -> list[str]:
    """Lines as flake8 reads them (universal newlines, ends kept)."""
    return io.StringIO(text, newline=None).readlines()


class NoqaIndex:
    """Answers "is this finding suppressed?" for one file."""

    def __init__(self, text: str) -> None:
        self.lines = split_lines(text)
        self._mapping: Optional[dict[int, str]] = None

    @property
    def file_ignored(self) -> bool:
        return any(NOQA_FILE.match(line) for line in self.lines)

    def _build_mapping(self) -> dict[int, str]:
        """Line -> the text of its flake8 "line" (the lines a multi-line token joins)."""
        spans, _, _ = self._units()
        joined: dict[tuple[int, int], str] = {}
        out: dict[int, str] = {}
        for n, (lo, hi) in spans.items():
            text = joined.get((lo, hi))
            if text is None:
                text = joined[(lo, hi)] = "".join(self.lines[lo - 1:hi])
            out[n] = text
        return out

    def _units(self) -> tuple[dict[int, tuple[int, int]], dict[int, tokenize.TokenInfo], set[int]]:
        """Per line, the first and last lines of its flake8 "line" (see the module docstring); per
        line, its comment token; and the lines whose unit has ``# noqa`` inside a string."""
        lines = self.lines
        spans: dict[int, tuple[int, int]] = {}
        comments: dict[int, tokenize.TokenInfo] = {}
        quoted: set[int] = set()
        it = iter(lines)
        try:
            tokens = list(tokenize.generate_tokens(lambda: next(it, "")))
        except (tokenize.TokenError, SyntaxError):
            return {}, {}, set()
        lo, hi, noqa_in_string = len(lines) + 2, -1, False
        for tok in tokens:
            if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            lo = min(lo, tok.start[0])
            hi = max(hi, tok.end[0])
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok
            elif tok.type in _STRINGS and NOQA_INLINE.search(tok.string):
                noqa_in_string = True
            if tok.type in (tokenize.NL, tokenize.NEWLINE):
                spans.update((n, (lo, hi)) for n in range(lo, hi + 1))
                if noqa_in_string:
                    quoted.update(range(lo, hi + 1))
                lo, hi, noqa_in_string = len(lines) + 2, -1, False
        return spans, comments, quoted

    def with_codes(self, text: str, marks: dict[int, set[str]]) -> tuple[str, int]:
        """``text`` (this index's, line ends as written) with ``# noqa: CODE`` for each line's
        codes (``--add-noqa``): added to the ``# noqa:`` comment already there, else appended to
        the last line of the finding's flake8 line (after a multi-line string's closing quotes);
        how many lines got one. A line whose flake8 line holds ``# noqa`` in a string gets none
        (flake8 would read that one first), nor does a file Python's tokenizer cannot read."""
        spans, comments, quoted = self._units()
        lines = raw_lines(text)
        if not spans or len(lines) != len(self.lines):
            return text, 0
        wanted: dict[int, set[str]] = {}
        for line, codes in marks.items():
            if line in spans and line not in quoted:
                wanted.setdefault(spans[line][1], set()).update(codes)
        changed = 0
        for end, codes in wanted.items():
            raw = lines[end - 1]
            body = raw.rstrip("\r\n")
            newline = raw[len(body):]
            comment = comments.get(end)
            match = NOQA_INLINE.search(comment.string) if comment is not None else None
            if comment is not None and match is not None:
                if match.group("codes") is None:
                    continue  # a blanket # noqa: nothing left to add
                written = match.group("codes")
                listed = written.rstrip(", \t")
                have = {c.strip() for c in _LIST_SPLIT.split(written) if c.strip()}
                extra = sorted(c for c in codes if not c.startswith(tuple(have)))
                if not extra:
                    continue
                start = comment.start[1]
                new = (comment.string[:match.start("codes")] + ", ".join([listed, *extra])
                       + written[len(listed):] + comment.string[match.end("codes"):])
                body = body[:start] + new + body[start + len(comment.string):]
            else:
                body = f"{body}  # noqa: {', '.join(sorted(codes))}"
            lines[end - 1] = body + newline
            changed += 1
        return "".join(lines), changed

    def line_for(self, line: int) -> str:
        if self._mapping is None:
            self._mapping = self._build_mapping()
        found = self._mapping.get(line)
        if found is not None:
            return found
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def suppressed(self, code: str, line: int) -> bool:
        match = NOQA_INLINE.search(self.line_for(line))
        if match is None:
            return False
        codes_str = match.group("codes")
        if codes_str is None:
            return True
        codes = {c.strip() for c in _LIST_SPLIT.split(codes_str) if c.strip()}
        return code in codes or code.startswith(tuple(codes))


# The peers' codes for the same problems (ruff, flake8-async): a ``# noqa`` naming one of them
# on a finding's line suppresses the STL code too (docs: README, "Suppressing findings").
PEER_ALIASES: dict[str, tuple[str, ...]] = {
    "STL101": ("ASYNC251",),  # time.sleep in async function
    "STL102": ("ASYNC210", "ASYNC211", "ASYNC212"),  # blocking HTTP calls
    "STL103": ("ASYNC220", "ASYNC221", "ASYNC222"),  # subprocesses and process waits
    "STL104": ("ASYNC230", "ASYNC240"),  # open() and pathlib/os.path calls
    "STL106": ("ASYNC250",),  # input()
    "STL108": ("RUF006", "ASYNC300"),  # dangling asyncio task
}


def peer_suppressed(findings: list[Finding], text: str) -> list[Finding]:
    """``findings`` less those whose line has a ``# noqa`` naming a peer's code for the same problem."""
    aliased = [f for f in findings if f.code in PEER_ALIASES]
    if not aliased or "noqa" not in text:
        return findings
    index = NoqaIndex(text)
    drop = set()
    for f in aliased:
        match = NOQA_INLINE.search(index.line_for(f.line))
        codes_str = match.group("codes") if match is not None else None
        if codes_str is None:
            continue  # no comment, or a blanket one (the front end applies it)
        codes = tuple(c.strip() for c in _LIST_SPLIT.split(codes_str) if c.strip())
        if any(alias.startswith(codes) for alias in PEER_ALIASES[f.code]):
            drop.add(id(f))
    return [f for f in findings if id(f) not in drop] if drop else findings
