"""Refuse, before parsing, expressions that LibCST's parser takes minutes on.

LibCST's native parser is super-linear in the length of a chain of operations
inside one expression: ``a + a + ...`` with 2,000 terms takes seconds and
4,000 terms most of a minute; ``a.b().b()...`` and ``q.filter(x)...`` method
chains, ``a[0][0]...`` subscripts and nested calls are worse (800 links of
``.filter(a == 1)``: 20 s). CPython parses all of them at once, so a
pre-commit hook that hangs on such a file (generated code, a fuzzer, a
hostile commit) would be a bug of ours. Real code stays far below: the
deepest chain in the benchmark corpora and a whole virtualenv's
site-packages (3,100 files) is 59 links, and :data:`MAX_CHAIN` is 500.

Two stages keep the cost off ordinary files:

1. :func:`_may_be_complex` works on the bytes at C speed (``translate``,
   two regular-expression passes, a substring search): it maps the source
   to character classes, splits it at the newlines that can only end a
   statement (the line ends with a word, a quote or a closing bracket, the
   next starts with a word or a quote, and the line holds no ``#``), and
   asks whether one piece holds :data:`MAX_CHAIN` operator or bracket
   characters. That is an upper bound of the chain length in almost every
   file (it overcounts: strings, flat lists of calls); it is cheap: about
   0.5% of LibCST's parse time on the benchmark corpora, where it lets one
   file of 594 through to stage 2.
2. :func:`chain_depth` tokenizes the file (``tokenize``, pure Python, about
   a fifth of the parse time of that file) and measures the chains exactly:
   binary and unary operators, attribute dots, calls and subscripts that
   follow an operand, plus one per open parenthesised group or list (so
   ``(a + (a + ...))`` counts both); separators (``,`` ``:``
   ``=`` ``;``, comparisons, keywords) end a chain at their bracket level.

Known blind spots of stage 1 (it undercounts, so LibCST may still be slow):
a chain whose operands are strings continued over lines (implicit
concatenation across a newline, triple-quoted strings). They need a
deliberately shaped file; ordinary code and generated code do not do that.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from typing import NamedTuple, Optional, Union

MAX_CHAIN = 500


class TooComplex(NamedTuple):
    links: int
    line: int

    def message(self) -> str:
        return (f"file not checked: the expression at line {self.line} has {self.links} chained operations and "
                f"nested brackets (more than {MAX_CHAIN}): too complex for LibCST to parse in reasonable time")


def check(source: Union[str, bytes]) -> Optional[TooComplex]:
    """The deepest chain when it exceeds :data:`MAX_CHAIN`, else None."""
    if len(source) < MAX_CHAIN or not _may_be_complex(source):
        return None
    links, line = chain_depth(source)
    return TooComplex(links, line) if links > MAX_CHAIN else None


# ------------------------------------------------------------------ stage 1
def _classes() -> bytes:
    table = bytearray(b"s" * 256)  # s: other punctuation (quotes, = : ; ! ...)
    for c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
        table[c] = ord("w")  # w: word
    for c in range(0x80, 0x100):
        table[c] = ord("w")  # non-ASCII (UTF-8 bytes of identifiers or text)
    for c in b".+-*/%|&^@~<>([":
        table[c] = ord("O")  # O: may be a link of a chain (or an opening bracket)
    for c in b"{,":
        table[c] = ord("k")  # k: continues the statement, is no link
    for c in b")]}":
        table[c] = ord("c")  # c: closing bracket
    table[ord("\\")] = ord("b")
    table[ord("#")] = ord("h")
    table[ord("\n")] = table[ord("\r")] = ord("n")
    return bytes(table)


_CLASSES = _classes()
_BLANKS = b" \t\f"
_COMMENTED_LINE_END = re.compile(rb"(h[^n]*)n")
_ONLY_LINKS_AND_ENDS = bytes(c for c in range(256) if c not in b"OE")
_ENDS = tuple((bytes([a]) + b"n" + bytes([z]), bytes([a]) + b"E" + bytes([z])) for a in b"wsc" for z in b"ws")
_WORST = b"O" * MAX_CHAIN


def _may_be_complex(source: Union[str, bytes]) -> bool:
    data = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
    skeleton = data.translate(_CLASSES, _BLANKS)
    if skeleton.count(b"O") < MAX_CHAIN:
        return False
    skeleton = _COMMENTED_LINE_END.sub(rb"\1j", skeleton)  # a line with a comment never ends a piece
    while b"nn" in skeleton:  # blank lines
        skeleton = skeleton.replace(b"nn", b"n")
    for a, b in _ENDS:  # statement ends ("E"); a missed one only merges pieces (overcounts)
        skeleton = skeleton.replace(a, b)
    return _WORST in skeleton.translate(None, _ONLY_LINKS_AND_ENDS)


# ------------------------------------------------------------------ stage 2
_LINKS = frozenset("+ - * / // % @ | & ^ << >> ** ~ .".split())
_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")
_RESET = frozenset(keyword.kwlist) - {"True", "False", "None"}
_SPACING = frozenset((tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING))


def chain_depth(source: Union[str, bytes]) -> tuple[int, int]:
    """(length of the deepest chain of operations, first line of its statement) by tokens.

    Of a file that does not tokenize, what comes before the error counts.
    """
    if isinstance(source, bytes):
        tokens = tokenize.tokenize(io.BytesIO(source).readline)
    else:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    runs = [0]  # links of the current chain, per open bracket
    weights = [0]  # 1 for an open group: ``(a + (a + ...))`` nests
    total = 0  # sum(runs) + sum(weights)
    best, best_line = 0, 1
    after_operand = False
    statement = 0  # first line of the current statement
    try:
        for tok in tokens:
            kind = tok.type
            if not statement and kind not in _SPACING:
                statement = tok.start[0]
            if kind == tokenize.OP:
                text = tok.string
                if text in _LINKS:
                    runs[-1] += 1
                    total += 1
                    after_operand = False
                elif text in _OPEN:
                    # a call or a subscript is a link; a group nests one level; a display does not count
                    weight = 0
                    if text == "{":
                        pass
                    elif after_operand:
                        runs[-1] += 1
                        total += 1
                    else:
                        weight = 1
                        total += 1
                    runs.append(0)
                    weights.append(weight)
                    after_operand = False
                elif text in _CLOSE:
                    if len(runs) > 1:
                        total -= runs.pop() + weights.pop()
                    after_operand = True
                    continue
                else:  # , : ; = comparisons -> ...: the chain ends
                    total -= runs[-1]
                    runs[-1] = 0
                    after_operand = False
                    continue
                if total > best:
                    best, best_line = total, statement
            elif kind == tokenize.NAME:
                if tok.string in _RESET:
                    total -= runs[-1]
                    runs[-1] = 0
                    after_operand = False
                else:
                    after_operand = True
            elif kind in (tokenize.NUMBER, tokenize.STRING):
                after_operand = True
            elif kind == tokenize.NEWLINE:
                runs, weights, total, after_operand, statement = [0], [0], 0, False, 0
    except (tokenize.TokenError, SyntaxError, ValueError, LookupError):
        pass  # a broken file: LibCST (or Python) will say what is wrong
    return best, best_line
