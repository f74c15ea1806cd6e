"""A rule that never ends on files that say ``LOOP_FOREVER``: the file-timeout's test subject.

Not registered on import (the test process's rule set stays the real one):
in-process tests pass ``rules=with_looping_rule()``; the subprocess front ends
of ``tests/test_deadline.py`` call :func:`register` first. Its code, STL990,
sorts after every real rule, so the real rules' findings on the same file are kept.
"""

from __future__ import annotations

from typing import Iterator

from starlette_lint.finding import Report
from starlette_lint.rules import all_rules
from starlette_lint.rules.base import REGISTRY, Rule

MARK = "LOOP_FOREVER"
AFTER_FIX = "LOOP_AFTER_FIX"  # loops only once the file's time.sleep() calls are fixed (a second fix round)
CODE = "STL990"


class LoopingRule(Rule):
    name = "loops-forever"
    summary = "test only: never finishes on files that contain LOOP_FOREVER"

    def check(self, model, fw) -> Iterator[Report]:  # type: ignore[no-untyped-def]
        looping = MARK in model.source or (AFTER_FIX in model.source and "time.sleep(" not in model.source)
        if not looping:
            return
        n = 0
        while True:  # pure Python, like a lookup that cycles
            n += 1
        yield  # pragma: no cover


LoopingRule.code = CODE  # after the class statement: not registered


def with_looping_rule() -> list[Rule]:
    return [*all_rules(), LoopingRule()]


def register() -> None:
    all_rules()
    REGISTRY[CODE] = LoopingRule()
