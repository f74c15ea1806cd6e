"""Positions computed per top-level statement (with Python's ast) equal a full replay from the top.

Each fixture is analysed as ``tests/test_fixtures.py`` analyses it: with the configuration of its
``# config:`` header (:func:`markers.fixture_config`), so every node its markers expect is positioned.
"""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from markers import FIXTURES, fixture_config, fixture_files, parse_markers
from starlette_lint.engine import analyze_source
from starlette_lint.positions import _replay, positions

FILES = fixture_files()


def _all_reported_nodes(text: str, name: str, config=None):
    analysis = analyze_source(text, name, config)
    return analysis.module, [r.node for r, _ in analysis.reports]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_statement_positions_match_full_replay(path):
    text = path.read_text(encoding="utf-8")
    module, nodes = _all_reported_nodes(text, str(path), fixture_config(text))
    if module is None or not nodes:
        # (STL901 points at a comment, found by the tokenizer: it has no node to position)
        expected = [e for e in parse_markers(text)[0] if e.code != "STL901"]
        assert not expected, "the markers expect findings: the fixture must be analysed as they say"
        pytest.skip("no findings")
    full = _replay(module, module, {id(n): n for n in nodes}, 1)
    fast = positions(module, nodes, ast.parse(text))
    assert fast == full


def test_every_kind_of_statement_start():
    """Decorators, comments and blank lines before statements, `;` lines, async defs, CRLF."""
    src = (
        "# header\n\nimport os; import sys\n\n\n# about f\n@dec(1)\n\n@dec2\nasync def f():\n"
        "    x = call()\n\nclass C:\n    # inner\n    @property\n    def p(self):\n        return call()\n"
        "if x:\n    call()\nelse:\n    call()\n"
    ) * 3
    for text in (src, src.replace("\n", "\r\n")):
        module = cst.parse_module(text)
        nodes = [n for n in _walk_calls(module)]
        full = _replay(module, module, {id(n): n for n in nodes}, 1)
        assert positions(module, nodes, ast.parse(text)) == full
        assert len(full) == len(nodes)


def test_structurally_different_ast_falls_back_to_full_replay():
    """The ast is always parsed from the same text; if the two parsers still disagree on the
    statement structure, positions come from the full replay."""
    text = "a = call()\nb = call()\n"
    module = cst.parse_module(text)
    nodes = list(_walk_calls(module))
    other = ast.parse("a = call()\nb = call()\nc = call()\n")
    assert positions(module, nodes, other) == _replay(module, module, {id(n): n for n in nodes}, 1)


def _walk_calls(module):
    from starlette_lint.model import walk

    return [n for n in walk(module, into_scopes=True) if isinstance(n, (cst.Call, cst.FunctionDef, cst.ClassDef))]
