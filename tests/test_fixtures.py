"""Every fixture file's findings must equal its markers exactly: no missing, no extra."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from markers import FIXTURES, fixture_config, fixture_files, parse_markers
from starlette_lint.engine import check_source
from starlette_lint.prefilter import is_relevant
from starlette_lint.rules import all_rules

FILES = fixture_files()


@lru_cache(maxsize=None)
def findings_of(path: Path) -> tuple:
    """A fixture's findings with its ``# config:`` header: analysed once, read by every test below."""
    text = path.read_text(encoding="utf-8")
    return tuple(check_source(text, str(path), fixture_config(text)))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fixture(path):
    text = path.read_text(encoding="utf-8")
    expected, _ = parse_markers(text)
    findings = findings_of(path)
    got = Counter((f.line, f.code) for f in findings)
    want = Counter((e.line, e.code) for e in expected)
    missing = sorted((want - got).elements())
    surplus = got - want
    extra = sorted((f.line, f.code, f.message) for f in findings if surplus[(f.line, f.code)])
    assert not missing and not extra, f"missing: {missing}\nextra: {extra}"
    by_key = {(f.line, f.code): f for f in findings}
    for e in expected:
        if e.col is not None:
            assert by_key[(e.line, e.code)].col + 1 == e.col, f"line {e.line} {e.code}: column"


def test_every_fixture_is_parsed():
    """A fixture the prefilter skips would pass whatever its markers say: each must be analysed."""
    skipped = [str(p.relative_to(FIXTURES)) for p in FILES
               if not is_relevant(p.read_text(encoding="utf-8"), fixture_config(p.read_text(encoding="utf-8")))]
    assert skipped == []


def test_every_rule_has_positive_and_negative_fixtures():
    positives: dict[str, int] = {}
    negatives: dict[str, int] = {}
    for path in FILES:
        expected, ok = parse_markers(path.read_text(encoding="utf-8"))
        for e in expected:
            positives[e.code] = positives.get(e.code, 0) + 1
        for code, n in ok.items():
            negatives[code] = negatives.get(code, 0) + n
    codes = [r.code for r in all_rules()]
    assert [c for c in codes if c not in positives] == [], "rules without a failing fixture case"
    assert [c for c in codes if c not in negatives] == [], "rules without a look-alike (# ok:) case"


def test_messages_name_the_rule_context():
    """Every finding message is a sentence, not a bare code."""
    for path in FILES:
        for f in findings_of(path):
            assert len(f.message) > 20, f
