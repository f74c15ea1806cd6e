"""Peers: every blocking call flake8-async reports in our STL1xx fixtures, we report too.

flake8-async (ASYNC2xx blocking calls, ASYNC300 dangling tasks) runs over the
event-loop fixtures in a subprocess. Each line it reports must carry one of our
STL1xx findings, or an ``# ok: STL1xx`` marker that documents why we
deliberately stay quiet there (a lifespan, not request-path code, a
non-blocking form, a local function that only shares the name...). ASYNC240
(``os.path``) is excluded by RULES.md.
"""

from __future__ import annotations

import re

import pytest

from helpers import run_flake8
from markers import fixture_config, fixture_files
from starlette_lint.engine import check_source

pytest.importorskip("flake8_async")

_OK_STL1 = re.compile(r"#\s*ok:\s*[A-Z0-9, ]*STL1\d\d")
_LINE = re.compile(r"^(?P<path>.*):(?P<line>\d+):(?P<col>\d+): (?P<code>ASYNC\d+) ")


def _event_loop_fixtures():
    return [p for p in fixture_files() if p.name.startswith("stl10")]


def test_we_report_every_blocking_call_flake8_async_reports():
    files = _event_loop_fixtures()
    proc = run_flake8("--isolated", "--select", "ASYNC2,ASYNC3", *map(str, files), timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    by_name = {p.name: p for p in files}
    ours: dict[str, set[int]] = {}
    checked = 0
    problems = []
    for raw in proc.stdout.splitlines():
        m = _LINE.match(raw)
        if m is None or m.group("code") == "ASYNC240":  # os.path.*: excluded by RULES.md (cheap stat calls)
            continue
        path = by_name[m.group("path").replace("\\", "/").rsplit("/", 1)[-1]]
        line = int(m.group("line"))
        text = path.read_text(encoding="utf-8")
        if path.name not in ours:
            ours[path.name] = {f.line for f in check_source(text, str(path), fixture_config(text))
                               if f.code.startswith("STL1")}
        checked += 1
        if line in ours[path.name]:
            continue
        source = text.splitlines()[line - 1]
        if _OK_STL1.search(source):
            continue  # a documented, deliberate non-report
        problems.append(f"{path.name}:{line}: {raw.split(' ', 1)[1]}  |  {source.strip()}")
    assert checked >= 80, f"flake8-async reported too little ({checked} lines); is it installed?\n{proc.stdout}"
    assert not problems, "flake8-async reports that we miss:\n" + "\n".join(problems)
