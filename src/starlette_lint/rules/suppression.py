"""STL9xx: the tool's own comments. STL901 judges ``# noqa: STL...`` lists.

Unlike the other rules, STL901 is about the findings of the others: the engine calls
:func:`unused_noqa` once every rule has run on the module (its ``check`` reports nothing
by itself).
"""

from __future__ import annotations

import tokenize
from typing import Iterable, Iterator

from ..codes import RULE_CODES
from ..finding import Finding, Report
from ..framework import Framework
from ..model import Model
from ..noqa import _LIST_SPLIT, NOQA_INLINE, NoqaIndex
from .base import Rule

CODE = "STL901"
_NOT_JUDGED = ("STL000", CODE)  # internal errors come and go; STL901 on its own comment is circular


class UnusedNoqa(Rule):
    """
    ## What it does
    Checks the `STL` codes of each `# noqa:` comment (flake8's form, which both front ends
    honour) in a checked module:

    - a code that names no starlette-lint rule (`# noqa: STL999`). flake8 reads a code up to
      its last digit: a typo such as `STL10l` is read as the prefix `STL10`, which covers
      STL101-STL109, and is judged as that prefix;
    - a code that suppresses nothing: no finding of that code (or, for a prefix such as
      `STL1`, of any code it covers) is reported on the comment's line.

    Codes of other tools are left alone, and so are blanket `# noqa` comments.

    A code is judged unused only when every rule it covers ran on the file, to the end: a
    rule turned off by the configuration, or not run on tests and docs files, may report
    there under another configuration, so its code is kept. Nothing is judged in a file
    whose analysis stopped (an internal error, the file-timeout), nor in a file the
    prefilter skips (one that imports no starlette, fastapi or uvicorn).

    ## Why is this bad?
    A suppression outlives its reason: the code was fixed, the rule's message moved to
    another line, or the code was mistyped and never suppressed anything. Each one left
    in place hides the next real problem on that line.

    ## Example
    ```python
    @app.get("/")
    async def home():
        await anyio.sleep(1)  # noqa: STL101
    ```

    ## Use instead
    ```python
    @app.get("/")
    async def home():
        await anyio.sleep(1)
    ```

    ## Why is it opt-in?
    Adopting the tool with `--add-noqa` writes many comments at once; reporting them as
    they become unused is worth it only once a team chooses to clean them up.
    """

    code = CODE
    name = "unused-noqa"
    summary = "a `# noqa: STL...` that names an unknown code, or a code reported nowhere on its line"
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        return iter(())


def _known(code: str) -> bool:
    """A listed code suppresses some rule's findings (equal, or a prefix flake8 matches)."""
    return code == "STL000" or any(c.startswith(code) for c in RULE_CODES)


def unused_noqa(source: str, findings: Iterable[Finding], ran: frozenset[str], complete: bool) -> list[Finding]:
    """STL901 findings for ``source``: ``findings`` are every rule's, before ``# noqa`` applies;
    ``ran`` the codes of the rules that ran on the module; ``complete`` whether all of them
    ran to the end (unused codes are judged only then)."""
    if "noqa" not in source:
        return []
    index = NoqaIndex(source)
    if index.file_ignored:
        return []
    spans, comments, quoted = index._units()
    by_unit: dict[tuple[int, int], set[str]] = {}
    for f in findings:
        unit = spans.get(f.line)
        if unit is not None:
            by_unit.setdefault(unit, set()).add(f.code)
    out = []
    for unit in sorted(set(spans.values())):
        lo, hi = unit
        if lo in quoted:
            continue  # flake8 reads a "# noqa" in a string first: not judged
        comment = _first_noqa(comments[n] for n in range(lo, hi + 1) if n in comments)
        if comment is None:
            continue
        match = NOQA_INLINE.search(comment.string)
        written = match.group("codes") if match is not None else None
        if written is None:
            continue  # a blanket # noqa
        listed = [c.strip() for c in _LIST_SPLIT.split(written) if c.strip()]
        ours = [c for c in listed if c.startswith("STL") and c not in _NOT_JUDGED]
        unknown = [c for c in ours if not _known(c)]
        reported = by_unit.get(unit, set())
        unused = [c for c in ours if c not in unknown and complete
                  and all(r in ran for r in RULE_CODES if r.startswith(c))
                  and not any(r.startswith(c) for r in reported)]
        if not unknown and not unused:
            continue
        parts = []
        if unknown:
            parts.append(f"{_names(unknown)} {'is' if len(unknown) == 1 else 'are'} no starlette-lint code")
        if unused:
            parts.append(f"{_names(unused)} {'suppresses' if len(unused) == 1 else 'suppress'} nothing here")
        out.append(Finding(comment.start[0], comment.start[1], CODE,
                           f"# noqa: {', '.join(parts)}; remove {'it' if len(unknown) + len(unused) == 1 else 'them'} "
                           f"from the comment"))
    return out


def _first_noqa(comments: Iterable[tokenize.TokenInfo]) -> tokenize.TokenInfo | None:
    """The comment whose ``# noqa`` flake8 reads for the unit: the first one."""
    for comment in comments:
        if NOQA_INLINE.search(comment.string):
            return comment
    return None


def _names(codes: list[str]) -> str:
    return ", ".join(codes)
