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
* in project mode a route decorator (``@router.get(``) counts too: the router may come
  from another module of the project (``from app.deps import router``);
* the test stays loose where that is cheap (``# imported from fastapi`` in a
  comment passes): it only has to be fast and never drop a file a rule could
  report on.
"""

from __future__ import annotations

import re
from typing import Optional, Union

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


# Project mode: a route decorator on an object that may come from another module of the project
# (``from app.deps import router``, then ``@router.get("/x")``, and no fastapi import).
_ROUTE_DECORATOR_TEXT = r"^[ \t]*@[ \t]*[A-Za-z_][\w.]*\.(?:get|post|put|patch|delete|head|options|trace|api_route|websocket)\("
_ROUTE_DECORATOR = (re.compile(_ROUTE_DECORATOR_TEXT, re.M), re.compile(_ROUTE_DECORATOR_TEXT.encode(), re.M))


def is_relevant(source: Union[str, bytes], config: Config = DEFAULT, project: Optional[bool] = None) -> bool:
    """Could this file hold anything a rule looks at? (It imports starlette, fastapi or uvicorn;
    in project mode, it may also decorate routes on a router another module built.) ``project``:
    whether the file is read with its project (default: ``config.project_mode``)."""
    tokens = config.prefilter_tokens
    project = config.project_mode if project is None else project
    # the substring test (fast, in C) settles most files; the regex only the rest
    if isinstance(source, bytes):
        if any(tok.encode() in source for tok in tokens) and _patterns(tokens)[1].search(source) is not None:
            return True
        return project and b"@" in source and _ROUTE_DECORATOR[1].search(source) is not None
    if any(tok in source for tok in tokens) and _patterns(tokens)[0].search(source) is not None:
        return True
    return project and "@" in source and _ROUTE_DECORATOR[0].search(source) is not None
