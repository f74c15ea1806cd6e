"""Rule registry: importing the family modules registers their rules."""

from __future__ import annotations

from ..classify import APP_ONLY
from .base import REGISTRY, Rule

_loaded = False

# Rules about production behaviour run on application code only, not on tests, docs and
# examples, which do these things on purpose (classify.py): missing error handlers, CORS,
# session and host settings, request handling, global state, health checks. Every other
# rule (blocking calls, removed and deprecated APIs, constructions that fail) runs on all
# code: tests and docs apps break on upgrade too. A rule class may set ``applies_to`` itself.
APP_ONLY_CODES = ("STL206", "STL304", "STL306", "STL4", "STL5", "STL6", "STL703")

# SARIF level "error": code that breaks (an exception, a server that does not start, a removed
# API) and security settings; every other rule is a "warning" (it stalls, degrades or is deprecated).
ERROR_CODES = ("STL109", "STL201", "STL202", "STL203", "STL207", "STL301", "STL302", "STL303", "STL403",
               "STL404", "STL5", "STL601", "STL604", "STL701", "STL801", "STL803")
# GitHub code scanning's security-severity (0-10, CVSS-like) of the security rules
SECURITY_SEVERITY = {"STL501": "5.3", "STL502": "8.1", "STL503": "6.5", "STL504": "5.3", "STL505": "7.5",
                     "STL506": "5.3", "STL507": "6.1", "STL508": "9.8"}


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
        suppression,
    )

    from ..fixes import fixable_codes

    for code, rule in REGISTRY.items():
        own = vars(type(rule))
        if code.startswith(APP_ONLY_CODES) and "applies_to" not in own:
            type(rule).applies_to = APP_ONLY
        if code.startswith(ERROR_CODES) and "level" not in own:
            type(rule).level = "error"
        if code in SECURITY_SEVERITY and "security_severity" not in own:
            type(rule).security_severity = SECURITY_SEVERITY[code]
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
