"""The text test that decides, before any import of LibCST, whether a file is worth parsing."""

from __future__ import annotations

from typing import Union

from .config import DEFAULT, Config


def is_relevant(source: Union[str, bytes], config: Config = DEFAULT) -> bool:
    """Could this file hold anything a rule looks at? (It names starlette, fastapi or uvicorn.)"""
    if isinstance(source, bytes):
        return any(tok.encode() in source for tok in config.prefilter_tokens)
    return any(tok in source for tok in config.prefilter_tokens)
