"""On demand (``pytest -m slow``): every file of a whole virtualenv, plus the benchmark corpora.

Run over the running interpreter's site-packages (thousands of
files of every style, old and new syntax, generated tables, vendored code,
deliberately broken test data) and ``benchmarks/.corpus`` when it has been
built (``python benchmarks/build_corpus.py``):

* the engine, with the prefilter bypassed so that every file is parsed and
  every rule runs, in the CLI's mode (``E999`` with Python's verdict):
  nothing raises, no ``STL000`` at all;
* the standalone command over the same trees (prefilter on, as users run
  it): exit code 0 or 1, no traceback, no ``STL000``;
* flake8 with the plugin over the benchmark corpora: no ``STL000``;
* the fuzz properties of ``test_robustness.py`` with many more examples
  (``STARLETTE_LINT_LARGE_FUZZ``, default 2,000: a quarter of them
  hypothesmith programs, four times as many damaged real files).

The summary (files, lines, time, slowest file) is printed; ``-s`` shows it.
"""

from __future__ import annotations

import json
import os
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from helpers import ROOT, run_python, spawn_cli
from starlette_lint.config import DEFAULT
from starlette_lint.engine import INTERNAL, analyze_source

pytestmark = pytest.mark.slow

BENCH = ROOT / "benchmarks" / ".corpus"
# flake8-async (a test dependency, for the peer comparison) crashes flake8 on some inputs by itself
FLAKE8_WITHOUT_ASYNC = (
    "import sys, flake8.plugins.finder as f; f.BANNED_PLUGINS['flake8-async'] = '0'; "
    "from flake8.main.cli import main; sys.exit(main())"
)


def site_packages() -> list[Path]:
    paths = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    return sorted(p for p in paths if p.is_dir())


def trees() -> list[Path]:
    out = site_packages()
    out += [BENCH / c for c in ("a", "b", "c", "p") if (BENCH / c).is_dir()]  # p: --corpus p, when built
    return out


def python_files(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*.py") if p.is_file())


def check_one(path: str) -> tuple[str, int, float, list[str], str]:
    """(path, lines, seconds, STL000 messages, crash) for one file, every rule on."""
    data = Path(path).read_bytes()
    start = time.perf_counter()
    crash = ""
    internal: list[str] = []
    try:
        # the trailing comment makes every file pass the prefilter
        analysis = analyze_source(data + b"\n# import fastapi\n", path, DEFAULT, on_parse_error="syntax")
        internal = [f"{f.line}: {f.message}" for f in analysis.findings if f.code == INTERNAL]
    except Exception as exc:  # noqa: BLE001 - what this test looks for
        crash = f"{type(exc).__name__}: {exc}"
    return path, data.count(b"\n"), time.perf_counter() - start, internal, crash


def test_engine_over_virtualenv_and_corpora():
    files = [str(p) for tree in trees() for p in python_files(tree)]
    assert len(files) > 1000, "site-packages looks empty"
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(check_one, files, chunksize=16))
    wall = time.perf_counter() - start
    lines = sum(r[1] for r in results)
    crashes = [(r[0], r[4]) for r in results if r[4]]
    internal = [(r[0], m) for r in results for m in r[3]]
    slowest = max(results, key=lambda r: r[2])
    summary = (f"corpus: {len(files)} files, {lines} lines, {wall:.0f} s wall, crashes {len(crashes)}, "
               f"STL000 {len(internal)}; slowest {slowest[0]} {slowest[2]:.1f} s")
    print(summary)
    assert crashes == [], summary
    assert internal == [], summary
    assert slowest[2] < 120, summary


PER_FILE_LIMIT = 2.0  # seconds: the slowest real file must stay far inside the 10 s file-timeout


@pytest.mark.parametrize("tree", trees(), ids=lambda p: p.name)
def test_cli_over_tree(tree: Path, tmp_path: Path):
    """The command as users run it; every file's analysis time is recorded (``--timings``)."""
    timings = tmp_path / "timings.json"
    proc = spawn_cli(
        "check", "--isolated", "--no-cache", "--exit-zero", "--format", "json", "-o", str(tmp_path / "out.json"),
        "--timings", str(timings),
        "-j", "1", str(tree),  # one process: each file's time is its own, not shared with a second worker
        cwd=tmp_path, timeout=3600, python_flags=("-I",),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    report = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert '"STL000"' not in report, [line for line in report.splitlines() if "STL000" in line][:20]
    times = json.loads(timings.read_text(encoding="utf-8"))
    slowest = [f"{t['seconds']:.2f}s {t['path']}" for t in times[:5]]
    print(f"{tree.name}: {len(times)} files analysed; slowest: " + "; ".join(slowest))
    assert [t for t in times if t["timed_out"]] == []
    assert [t for t in times if t["seconds"] > PER_FILE_LIMIT] == [], slowest


@pytest.mark.skipif(not BENCH.is_dir(), reason="benchmark corpus not built (python benchmarks/build_corpus.py)")
def test_flake8_over_benchmark_corpus():
    corpora = [str(BENCH / c) for c in "abc" if (BENCH / c).is_dir()]
    proc = run_python("-I", "-c", FLAKE8_WITHOUT_ASYNC, "--isolated", "--select", "STL", *corpora, timeout=3600)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "STL000" not in proc.stdout, [line for line in proc.stdout.splitlines() if "STL000" in line][:20]


# ------------------------------------------------------------------ the large fuzz
LARGE = int(os.environ.get("STARLETTE_LINT_LARGE_FUZZ", "2000"))


@pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")
def test_large_fuzz_valid_programs():
    hypothesmith = pytest.importorskip("hypothesmith")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from test_robustness import _check_all_ways, _relevant

    @settings(max_examples=LARGE // 4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(source=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()))
    def run(source):
        _check_all_ways(_relevant(source))

    run()


@pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")
def test_large_fuzz_mutated_real_files():
    import random

    from test_robustness import FIXTURE_SOURCES, _check_all_ways, mutate

    rnd = random.Random(int(os.environ.get("STARLETTE_LINT_FUZZ_SEED", "1")))
    for _ in range(LARGE * 4):
        _check_all_ways(mutate(FIXTURE_SOURCES[rnd.randrange(len(FIXTURE_SOURCES))], rnd, rnd.randint(1, 6)))
