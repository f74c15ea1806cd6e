"""The language server's core without the protocol (:mod:`starlette_lint.editor`).

Spans, quick fixes and suppressions on buffers, the line edits a fix becomes, and columns in
the protocol's units. ``test_server.py`` drives the same through a real client.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from starlette_lint import editor
from starlette_lint.config import DEFAULT
from starlette_lint.editor import Edit, Lines
from starlette_lint.runner import Settings

APP = '''import time
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"], allow_credentials=True,
)


@app.get("/items")
async def items():
    time.sleep(1)
    return []
'''

PLAIN = Settings(DEFAULT, "test", None)


def problems(text: str, path: str = "app.py") -> dict[str, editor.Problem]:
    return {p.code: p for p in editor.check(path, text, PLAIN)}


def spanned(text: str, p: editor.Problem) -> str:
    lines = text.splitlines()
    assert p.line == p.end_line
    return lines[p.line][p.col:p.end_col]


def test_spans_cover_the_node_on_its_line() -> None:
    found = problems(APP)
    assert spanned(APP, found["STL101"]) == "time.sleep(1)"
    assert spanned(APP, found["STL502"]) == 'allow_origins=["*"]'  # without the argument's comma
    assert found["STL101"].fix == "Fix STL101: use await asyncio.sleep()"
    assert found["STL502"].fix is None


def test_a_decorator_and_a_statement_are_underlined_on_their_line() -> None:
    text = ("from starlette.applications import Starlette\n\n"
            "app = Starlette()\n\n\n@app.route('/')\nasync def home(request):\n    return None\n")
    found = problems(text)
    p = found["STL801"]
    assert spanned(text, p) == "app.route('/')"
    assert spanned(text, found["STL603"]) == "return None"


def test_check_gives_a_syntax_error_and_never_raises() -> None:
    found = editor.check("app.py", "from fastapi import FastAPI\ndef broken(:\n", PLAIN)
    assert [p.code for p in found] == ["E999"]
    assert found[0].end_col >= found[0].col


def test_noqa_in_the_buffer_is_honoured_and_suppress_writes_it() -> None:
    found = problems(APP)
    quiet = editor.suppress(APP, found["STL101"])
    assert quiet is not None and "    time.sleep(1)  # noqa: STL101\n" in quiet
    assert "STL101" not in problems(quiet)
    # a finding inside a multi-line call: on its own line, where flake8 reads it too
    more = editor.suppress(APP, found["STL502"])
    assert more is not None and "allow_credentials=True,  # noqa: STL502\n" in more and "STL502" not in problems(more)
    # joined to the list already there
    both = editor.suppress(quiet.replace("# noqa: STL101", "# noqa: E501"), found["STL101"])
    assert both is not None and "# noqa: E501, STL101" in both


def test_fix_one_finding_or_all() -> None:
    text = APP.replace("    return []\n", "    time.sleep(2)\n    return []\n")
    found = [p for p in editor.check("app.py", text, PLAIN) if p.code == "STL101"]
    assert len(found) == 2
    one = editor.fix("app.py", text, found[1].key, PLAIN)
    assert one is not None
    assert "    time.sleep(1)\n    await asyncio.sleep(2)\n" in one
    every = editor.fix("app.py", text, None, PLAIN)
    assert every is not None and "time.sleep" not in every
    assert editor.fix("app.py", text, (999, 0, "STL101"), PLAIN) is None  # gone meanwhile: nothing
    assert editor.fix("app.py", "x = 1\n", None, PLAIN) is None


def test_a_configuration_error_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.starlette-lint]\nselect = ["NOPE9"]\n', encoding="utf-8")
    found = editor.check(str(tmp_path / "app.py"), APP)
    assert [p.code for p in found] == ["STL000"]
    assert found[0].message.startswith("configuration error:")
    assert editor.fix(str(tmp_path / "app.py"), APP) is None


def test_a_coding_cookie_is_kept_when_fixing() -> None:
    text = "# -*- coding: latin-1 -*-\n" + APP.replace("return []", "return ['caf\u00e9']")
    assert editor.encode(text).startswith(b"# -*- coding: latin-1")
    assert "caf\xe9".encode("latin-1") in editor.encode(text)
    fixed = editor.fix("app.py", text, None, PLAIN)
    assert fixed is not None and "return ['caf\u00e9']" in fixed and "await asyncio.sleep(1)" in fixed
    # a character the declared encoding cannot hold: the buffer is checked as UTF-8
    assert editor.encode("# coding: ascii\nx = '\u00e9'\n") == "# coding: ascii\nx = '\u00e9'\n".encode()


@pytest.mark.parametrize("old, new", [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\nb\nc", "a\nb\nc\nd"),  # no newline at the end: the protocol has no line after the last
    ("a\nb\nc", "a\nb"),
    ("", "x\n"),
    ("x\n", ""),
    ("a\r\nb\r\n", "a\r\nc\r\nb\r\n"),
    ("a\rb\r", "a\rb\rc\r"),
])
def test_edits_apply_to_the_new_text(old: str, new: str) -> None:
    changes = editor.edits(old, new)
    assert editor.apply(old, changes) == new
    assert editor.edits(old, old) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "d", "\U0001F600\n", "\n", "e\r"]), max_size=8),
       st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "d", "\U0001F600\n", "\n", "e\r"]), max_size=8))
def test_edits_round_trip(old_lines: list[str], new_lines: list[str]) -> None:
    old, new = "".join(old_lines), "".join(new_lines)
    assert editor.apply(old, editor.edits(old, new)) == new


def test_an_edit_past_a_last_line_without_newline_ends_on_that_line() -> None:
    assert editor.edits("a\nb", "a\nc") == [Edit((1, 0), (1, 1), "c")]


@pytest.mark.parametrize("encoding, col, units", [
    ("utf-16", 4, 5),  # the emoji is two UTF-16 units
    ("utf-8", 4, 8),  # é is two bytes, the emoji four
    ("utf-32", 4, 4),
])
def test_columns_in_protocol_units(encoding: str, col: int, units: int) -> None:
    lines = Lines("x\u00e9\U0001F600ab\nsecond\n", encoding)
    assert lines.to_units(0, col) == units
    assert lines.from_units(0, units) == col
    assert lines.to_units(1, 3) == 3 and lines.from_units(1, 99) == 6
    assert lines.to_units(5, 2) == 2  # past the text: as given


def test_fix_titles() -> None:
    assert editor.fix_title("STL101", "await asyncio.sleep()") == "Fix STL101: use await asyncio.sleep()"
    assert editor.fix_title("STL999", "STL999: rule-supplied replacement") == "Fix STL999"


def test_files_a_walk_skips_and_installed_packages_get_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.starlette-lint]\nextend-exclude = ['migrations']\n",
                                             encoding="utf-8")
    for rel in ("migrations/0001.py", ".venv/lib/app.py", "env/lib/python3.12/site-packages/pkg/app.py"):
        path = str(tmp_path / rel)
        assert editor.check(path, APP) == [], rel
        assert editor.fix(path, APP) is None
    assert "STL101" in {p.code for p in editor.check(str(tmp_path / "app" / "main.py"), APP)}
