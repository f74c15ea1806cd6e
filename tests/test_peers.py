"""Peers: every blocking call flake8-async reports in our STL1xx fixtures, we report too.

flake8-async (ASYNC2xx blocking calls, ASYNC300 dangling tasks) runs over the
event-loop fixtures in a subprocess. Each line it reports must carry one of our
STL1xx findings, or an ``# ok: STL1xx`` marker that documents why we
deliberately stay quiet there (a lifespan, not request-path code, a
non-blocking form, a local function that only shares the name...). ASYNC240
(``os.path``) is excluded by RULES.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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


# --------------------------------------------------------------------------- the peers' own suites
# benchmarks/peers.py: flake8-async's eval files (its pinned sdist, downloaded with pip into the
# ignored benchmarks/.corpus/peers/), and ruff's fixtures when STARLETTE_LINT_RUFF_CHECKOUT names a
# checkout of the ruff repository (its sdist leaves them out). Each rule of ours that has a peer
# finds 90% of the peer's cases; we report nothing where the peer reports nothing, except the
# cases benchmarks/peers.py lists with the reason we are right.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import peers  # noqa: E402


@pytest.fixture(scope="module")
def peer_results():
    ruff = os.environ.get("STARLETTE_LINT_RUFF_CHECKOUT")
    try:
        results = peers.run(Path(ruff) if ruff else None)
    except subprocess.CalledProcessError as exc:  # pragma: no cover - no package index
        pytest.skip(f"flake8-async's sdist could not be downloaded: {exc}")
    print("\n" + peers.table(results))
    return results, ruff is not None


@pytest.mark.slow
def test_each_rule_finds_90_percent_of_the_peers_cases(peer_results):
    results, _ = peer_results
    low = {rule: round(value, 3) for rule, value in peers.by_rule(results).items() if value < peers.TARGET}
    missed = [f"{r.fixture}:{k}: {src}" for r in results for k, src in r.missed.items()]
    assert low == {}, "\n".join(missed)


@pytest.mark.slow
def test_nothing_reported_where_the_peers_report_nothing(peer_results):
    results, _ = peer_results
    extra = [f"{r.fixture}:{k}: {msg}" for r in results for k, msg in r.extra.items()]
    errors = [f"{r.fixture}: {r.error}" for r in results if r.error]
    assert extra == [] and errors == []


@pytest.mark.slow
def test_every_recorded_disagreement_still_applies(peer_results):
    results, ruff_checked = peer_results
    assert peers.stale(results, ruff_checked) == []


def test_the_harness_maps_lines_back_after_the_decorators_it_inserts():
    source = '"""doc"""\nfrom __future__ import annotations\nimport time\n\n\n@other\nasync def f():\n    time.sleep(1)\n'
    text, origin = peers.prepare(source, decorate=True)
    lines = text.split("\n")
    assert lines[origin.index(8)] == "    time.sleep(1)"
    assert lines[origin.index(6) - 1].startswith("@_peer_app.get(")
    assert "from fastapi import FastAPI as _PeerFastAPI" in lines[:origin.index(3)]
    assert peers.flake8_async_expected("x()  # ASYNC210: 4, 'x'\ny()\nz()  # error: 2\n", "ASYNC210") == {1, 3}
