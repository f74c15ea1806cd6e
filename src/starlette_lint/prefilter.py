"""The text test that decides, before any import of LibCST, whether a file is worth parsing.

Rules find web code through names that resolve, via the file's imports, to
``starlette``, ``fastapi`` or ``uvicorn`` (or to a configured endpoint
decorator's package): a module that imports none of them is not web code (its
apps, routes, dependencies and request objects would all be of unknown type).
So a file is parsed only when its text has an import of one of those packages,
as the word after ``import``/``from`` on the same logical line, possibly after
other names (``import os, fastapi``, backslash continuations):

* ``fastapi_users``, ``starlette_admin``, ``myapp.fastapi`` do not count
  (libraries named after the frameworks are common);
* a mention in a comment or a help string (``"--decorators=fastapi.Depends"``)
  does not count;
* the test stays loose where that is cheap (``# imported from fastapi`` in a
  comment passes): it only has to be fast and never drop a file a rule could
  report on.
"""

from __future__ import annotations

import re
from typing import Union

from .config import DEFAULT, Config

_PATTERNS: dict[tuple[str, ...], tuple["re.Pattern[str]", "re.Pattern[bytes]"]] = {}


def _patterns(tokens: tuple[str, ...]) -> tuple["re.Pattern[str]", "re.Pattern[bytes]"]:
    found = _PATTERNS.get(tokens)
    if found is None:
        words = "|".join(re.escape(t) for t in tokens)
        # ``import``/``from``, then names, dots, commas, blanks and backslash
        # continuations (never a plain newline: one logical line), then the
        # package as a whole name. In the bytes form any non-ASCII byte counts as
        # a name character (identifiers may be non-ASCII).
        text = rf"\b(?:import|from)(?:[\w.,\t\f ]|\\(?:\r\n|\r|\n))+?(?<![\w.])(?:{words})(?!\w)"
        data = rb"\b(?:import|from)(?:[\w.,\t\f \x80-\xff]|\\(?:\r\n|\r|\n))+?(?<![\w.])(?:" + words.encode() + rb")(?!\w)"
        found = _PATTERNS[tokens] = (re.compile(text), re.compile(data))
    return found


def is_relevant(source: Union[str, bytes], config: Config = DEFAULT) -> bool:
    """Could this file hold anything a rule looks at? (It imports starlette, fastapi or uvicorn.)"""
    tokens = config.prefilter_tokens
    # the substring test (fast, in C) settles most files; the regex only the rest
    if isinstance(source, bytes):
        return any(tok.encode() in source for tok in tokens) and _patterns(tokens)[1].search(source) is not None
    return any(tok in source for tok in tokens) and _patterns(tokens)[0].search(source) is not None
