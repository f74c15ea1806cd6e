"""Rule registry: importing the family modules registers their rules."""

from __future__ import annotations

from .base import REGISTRY, Rule

_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    from . import (  # noqa: F401  (imported for registration)
        deployment,
        eventloop,
        exceptions,
        lifespan,
        middleware,
        migration,
        requests,
        security,
    )

    from ..fixes import fixable_codes

    # A rule is fixable exactly when a fixer is registered for its code.
    for code in fixable_codes():
        if code in REGISTRY:
            type(REGISTRY[code]).fixable = True
    _loaded = True


def all_rules() -> list[Rule]:
    _load()
    return [REGISTRY[c] for c in sorted(REGISTRY)]


def get_rule(code: str) -> Rule | None:
    _load()
    return REGISTRY.get(code.upper())


__all__ = ["Rule", "all_rules", "get_rule"]
