"""The text test that decides, before any import of LibCST, whether a file is worth parsing.

Only files that name ``starlette``, ``fastapi`` or ``uvicorn`` (or a configured
endpoint decorator's package) are analysed: rules find web code through names
that resolve, via the file's imports, to those packages, and such an import
names the package as a whole identifier. The words must stand alone:
``fastapi_users``, ``starlette_admin`` or ``uvicorn_worker`` do not count
(libraries named after the frameworks are common, and files that only import
them were parsed for nothing). The test stays loose the other way (a word in a
comment or a string passes): it only has to be cheap and never drop a file a
rule could report on.
"""

from __future__ import annotations

import re
from typing import Union

from .config import DEFAULT, Config

# ASCII identifier characters only: a non-ASCII letter next to the word makes
# the file pass (one more parse, never a lost finding).
_IDENT = "A-Za-z0-9_"
_PATTERNS: dict[tuple[str, ...], tuple["re.Pattern[str]", "re.Pattern[bytes]"]] = {}


def _patterns(tokens: tuple[str, ...]) -> tuple["re.Pattern[str]", "re.Pattern[bytes]"]:
    found = _PATTERNS.get(tokens)
    if found is None:
        words = "|".join(re.escape(t) for t in tokens)
        text = rf"(?<![{_IDENT}])(?:{words})(?![{_IDENT}])"
        found = _PATTERNS[tokens] = (re.compile(text), re.compile(text.encode()))
    return found


def is_relevant(source: Union[str, bytes], config: Config = DEFAULT) -> bool:
    """Could this file hold anything a rule looks at? (It names starlette, fastapi or uvicorn as a word.)"""
    tokens = config.prefilter_tokens
    # the substring test (fast, in C) settles most files; the regex only the rest
    if isinstance(source, bytes):
        return any(tok.encode() in source for tok in tokens) and _patterns(tokens)[1].search(source) is not None
    return any(tok in source for tok in tokens) and _patterns(tokens)[0].search(source) is not None
