"""The rule contract: one small class per code, documented in ruff's headings.

A rule's docstring is its documentation (``starlette-lint rule STL101`` prints
it, the README table comes from ``summary``) with the sections
``What it does`` / ``Why is this bad?`` / ``Example`` / ``Use instead`` and,
for fixable rules, ``Fix``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator, Optional

import libcst as cst

from ..classify import EVERYWHERE, FileClass
from ..finding import Report
from ..framework import Framework
from ..model import Model
from ..versions import Claim

REGISTRY: dict[str, "Rule"] = {}


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""  # kebab-case, e.g. "blocking-sleep"
    summary: ClassVar[str] = ""  # one line, for the rule table
    opt_in: ClassVar[bool] = False  # off unless selected by its exact code (--extend-select STLnnn)
    # the kinds of files the rule runs on (see classify.py): breakage and migration rules
    # everywhere; rules about production behaviour on application code only
    applies_to: ClassVar[frozenset[FileClass]] = EVERYWHERE
    # SARIF level: "error" for breakage and security, "warning" for the rest; STL5xx also carry
    # a CVSS-like score that GitHub code scanning ranks security alerts by
    level: ClassVar[str] = "warning"
    security_severity: ClassVar[Optional[str]] = None
    fixable: ClassVar[bool] = False  # set by the fixer registry (``fixes``), never by hand
    # what the rule says on each side of the Starlette/FastAPI release that changed an API, by
    # form (versions.Claim): messages come from here, worded for the project's target releases
    claims: ClassVar[dict[str, Claim]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code:
            if cls.code in REGISTRY:
                raise RuntimeError(f"duplicate rule code {cls.code}")
            REGISTRY[cls.code] = cls()

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        """The reports of this rule on one module: ``model`` is the module's syntax and names,
        ``fw`` its Starlette/FastAPI facts (apps, routes, roles of functions)."""
        raise NotImplementedError

    def report(self, node: cst.CSTNode, message: str, fix: Optional[Any] = None) -> Report:
        return Report(node, message, self.code, fix)

    @property
    def doc(self) -> str:
        """The rule's documentation; a fixable rule without its own ``## Fix`` gets its fixer's docstring."""
        import inspect

        text = inspect.cleandoc(type(self).__doc__ or "")
        if self.claims:
            text += "\n\n## Versions\nWorded for the releases the project targets (see `--show-settings`):\n"
            text += "\n" + "\n".join(f"* {form}: {claim.doc()}" for form, claim in self.claims.items())
        if self.fixable and "## Fix" not in text:
            from ..fixes import fix_doc

            fix = fix_doc(self.code)
            if fix:
                text += "\n\n## Fix\n" + fix
        return text
