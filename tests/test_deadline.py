"""The per-file deadline (``file-timeout``): a rule that never ends stops at the budget,
the file gets one STL000 that names it, and every other file of the run is checked.

The subject is ``looping_rule.LoopingRule`` (STL990), which spins in pure Python on
files that contain ``LOOP_FOREVER``. Subprocess tests register it in the real
command and in real flake8 (``-c`` wrappers), with a one-second budget.
"""

from __future__ import annotations

import json
import textwrap
import threading
import time
from pathlib import Path

import pytest

from helpers import TESTS, run_cli, run_flake8, run_python
from looping_rule import AFTER_FIX, CODE, MARK, LoopingRule, with_looping_rule
from starlette_lint.config import DEFAULT, ConfigError, from_mapping
from starlette_lint import deadline as deadline_module
from starlette_lint.deadline import DEFAULT_SECONDS, FileTimeout, check, expired, interruptible, within
from starlette_lint.engine import INTERNAL, analyze_source, check_source, timed_out
from starlette_lint.rules.base import REGISTRY

ENDPOINT = textwrap.dedent("""\
    import time
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/slow")
    async def slow():
        time.sleep(1)
        return {}
    """)
LOOPING = ENDPOINT + f"# {MARK}\n"

needs_async_exc = pytest.mark.skipif(not interruptible(), reason="needs CPython's PyThreadState_SetAsyncExc")


def test_default_budget_is_the_documented_one():
    assert DEFAULT.file_timeout == DEFAULT_SECONDS == 10.0


@pytest.mark.parametrize("value, seconds", [(20, 20.0), (0.5, 0.5), (0, 0.0), ("3", 3.0)])
def test_file_timeout_key(value, seconds):
    assert from_mapping({"file-timeout": value}).file_timeout == seconds


@pytest.mark.parametrize("value", [-1, "soon", True, [10], float("inf"), "nan"])
def test_file_timeout_key_rejects_what_is_not_seconds(value):
    with pytest.raises(ConfigError, match="file-timeout"):
        from_mapping({"file-timeout": value})


@needs_async_exc
def test_a_rule_that_never_ends_is_stopped_and_the_finished_rules_keep_their_findings():
    config = DEFAULT.merged(file_timeout=0.5)
    start = time.monotonic()
    findings = check_source(LOOPING, "app.py", config, rules=with_looping_rule())
    assert time.monotonic() - start < 30  # it ended (the budget is half a second)
    codes = [f.code for f in findings]
    assert codes.count(INTERNAL) == 1 and "STL101" in codes and CODE not in codes
    stop = next(f for f in findings if f.code == INTERNAL)
    assert (stop.line, stop.col) == (1, 0)
    assert "file-timeout of 0.5 s" in stop.message and "not fully checked" in stop.message
    assert timed_out(findings)
    # nothing is left running: the analysing thread itself was unwound
    assert [t for t in threading.enumerate() if t.name == "starlette-lint"] == []


@needs_async_exc
def test_the_next_file_is_checked_in_full_after_a_timeout():
    config = DEFAULT.merged(file_timeout=0.5)
    rules = with_looping_rule()
    check_source(LOOPING, "loop.py", config, rules=rules)
    after = check_source(ENDPOINT, "next.py", config, rules=rules)
    assert after == check_source(ENDPOINT, "next.py", config, rules=rules[:-1]) and "STL101" in [f.code for f in after]
    # LibCST's node validation, switched off while parsing, is back on
    import libcst as cst

    with pytest.raises(Exception):
        cst.Name("not a name")


def test_no_budget_means_no_watchdog():
    assert within(0, expired) is False
    assert within(None, expired) is False


@needs_async_exc
def test_the_outer_deadline_governs_and_none_leaks_out_of_its_block():
    def spin_forever():
        while True:
            pass

    with pytest.raises(FileTimeout):
        within(0.2, within, 60, spin_forever)  # the nested budget is a no-op

    def spin(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    # many budgets that run out just as their call ends: a late exception never escapes the call
    for _ in range(200):
        try:
            within(0.001, spin, 0.001)
        except FileTimeout:
            pass
    time.sleep(0.6)  # were one still pending, or the watchdog still raising, it would be raised by now


@needs_async_exc
def test_the_deadline_covers_analysis_on_the_large_stack_thread():
    deep = LOOPING + "x = " + "(" * 90 + "1" + ")" * 90 + "\n" + "y = 1\n" * 100  # too long for the shortcut
    analysis = analyze_source(deep, "deep.py", DEFAULT.merged(file_timeout=0.5), rules=with_looping_rule())
    assert timed_out(analysis.findings)


# ------------------------------------------------------------------ the front ends
# In subprocesses, the looping rule registered by a ``-c`` wrapper first: the process-pool path of the
# command, and flake8. The command's own reporting, caching and fixing around a stopped file run in this
# process (``looping_rule`` registered for the test only), where each run costs no interpreter start.
CLI_WITH_LOOP = ("import sys; sys.path.insert(0, {tests!r}); import looping_rule; looping_rule.register(); "
                 "from starlette_lint.cli import main; sys.exit(main(sys.argv[1:]))")
FLAKE8_WITH_LOOP = ("import sys; sys.path.insert(0, {tests!r}); import looping_rule; looping_rule.register(); "
                    "import flake8.plugins.finder as f; f.BANNED_PLUGINS['flake8-async'] = '0'; "
                    "from flake8.main.cli import main; sys.exit(main())")


@pytest.fixture
def looping_registered(monkeypatch):
    """:class:`looping_rule.LoopingRule` in this process's rule registry for one test (as register() does)."""
    monkeypatch.setitem(REGISTRY, CODE, LoopingRule())


def _cli_with_loop(*args: str, cwd: Path):
    """The command with the looping rule registered, in a subprocess."""
    return run_python("-c", CLI_WITH_LOOP.format(tests=str(TESTS)), *args, cwd=cwd, timeout=120)


def _flake8_with_loop(*args: str, cwd: Path):
    """flake8 with the looping rule registered, in a subprocess."""
    return run_python("-c", FLAKE8_WITH_LOOP.format(tests=str(TESTS)), *args, cwd=cwd, timeout=120)


def _tree(tmp_path: Path, count: int) -> Path:
    for i in range(count):
        (tmp_path / f"app{i:02}.py").write_text(ENDPOINT, encoding="utf-8")
    (tmp_path / "app05.py").write_text(LOOPING, encoding="utf-8")
    return tmp_path


# the serial paths are covered by the tests below too: their own runs are slow-only
BOTH_PATHS = pytest.mark.parametrize("jobs", [pytest.param("1", marks=pytest.mark.slow), "2"])


@needs_async_exc
@BOTH_PATHS
def test_cli_reports_stl000_and_checks_every_other_file(tmp_path, jobs):
    root = _tree(tmp_path, 10 if jobs == "2" else 3)  # more than 8 files: the process pool
    proc = _cli_with_loop("check", "--no-cache", "--isolated", "--file-timeout", "1", "--format", "json", "-j", jobs,
                          ".", cwd=root)
    assert proc.returncode == 1, proc.stderr
    rows = [(Path(r["path"]).name, r["code"]) for r in json.loads(proc.stdout)]
    files = sorted(p.name for p in root.glob("*.py"))
    assert sorted(name for name, code in rows if code == "STL101") == files  # every file, the stopped one too
    stops = [r for r in json.loads(proc.stdout) if r["code"] == INTERNAL]
    assert [Path(r["path"]).name for r in stops] == ["app05.py"]
    assert "file-timeout of 1 s" in stops[0]["message"]
    assert "1 file not fully checked" in proc.stderr and "app05.py" in proc.stderr


@needs_async_exc
def test_cli_exit_status_says_so_even_when_stl000_is_ignored(tmp_path, looping_registered):
    (tmp_path / "app.py").write_text(f"from fastapi import FastAPI\n# {MARK}\n", encoding="utf-8")
    proc = run_cli("check", "--no-cache", "--isolated", "--file-timeout", "0.5", "--ignore", "STL000", ".",
                   cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "not fully checked" in proc.stderr


@needs_async_exc
def test_a_timed_out_result_is_not_cached(tmp_path, looping_registered):
    (tmp_path / "app.py").write_text(LOOPING, encoding="utf-8")
    args = ["check", "--isolated", "--cache-dir", str(tmp_path / "cache"), "--file-timeout", "0.5", "-v", "."]
    for _ in range(2):
        proc = run_cli(*args, cwd=tmp_path)
        assert proc.returncode == 1 and "STL000" in proc.stdout
        assert "0 from cache, 1 analysed" in proc.stderr


@needs_async_exc
@BOTH_PATHS
def test_flake8_reports_stl000_and_checks_every_other_file(tmp_path, jobs):
    root = _tree(tmp_path, 4)
    proc = _flake8_with_loop("--isolated", "--select", "STL", "--starlette-file-timeout", "1", "-j", jobs, ".",
                             cwd=root)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert sorted(line.split(":")[0].lstrip("./") for line in lines if "STL101" in line) == \
        sorted(p.name for p in root.glob("*.py"))
    stops = [line for line in lines if f" {INTERNAL} " in line]
    assert len(stops) == 1 and "app05.py:1:1:" in stops[0] and "file-timeout of 1 s" in stops[0]


def test_flake8_rejects_a_bad_budget(tmp_path):
    (tmp_path / "app.py").write_text(ENDPOINT, encoding="utf-8")
    proc = run_flake8("--isolated", "--select", "STL", "--starlette-file-timeout", "soon", ".", cwd=tmp_path,
                      timeout=120, core=True)
    assert proc.returncode != 0 and "--starlette-file-timeout" in proc.stderr


def test_without_async_exceptions_the_clock_is_checked_between_steps(monkeypatch):
    """Where the interpreter cannot interrupt a thread, check() (called between rules) still stops."""
    monkeypatch.setattr(deadline_module, "_RAISE_IN", None)

    def late():
        check()  # in time: nothing
        time.sleep(0.1)
        check()

    with pytest.raises(FileTimeout):
        within(0.05, late)
    within(5, check)


@needs_async_exc
@pytest.mark.parametrize("mode", ["--fix", "--diff"])
def test_a_timeout_in_a_fix_round_writes_nothing_and_caches_nothing(tmp_path, mode, looping_registered):
    source = ENDPOINT + f"# {AFTER_FIX}\n"
    target = tmp_path / "app.py"
    target.write_text(source, encoding="utf-8")
    args = ["check", "--isolated", "-v", "--cache-dir", str(tmp_path / "cache"), "--file-timeout", "0.5", mode, "app.py"]
    for _ in range(2):
        proc = run_cli(*args, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert target.read_text(encoding="utf-8") == source  # the half-checked fix is not written
        assert "not fully checked" in proc.stderr and "0 from cache" in proc.stderr
        if mode == "--fix":  # what the file holds is reported: the sleep, and the stop
            assert "STL101" in proc.stdout and "STL000" in proc.stdout


@needs_async_exc
def test_a_timeout_outside_the_rules_names_the_configured_budget(monkeypatch):
    """Stopped while the model is built (no rule finished): one STL000 that names this file's budget."""
    from starlette_lint import engine

    def endless_model(*args, **kwargs):
        while True:
            pass

    monkeypatch.setattr(engine, "Model", endless_model)
    findings = check_source(LOOPING, "app.py", DEFAULT.merged(file_timeout=0.5))
    assert [f.code for f in findings] == [INTERNAL]
    assert "file-timeout of 0.5 s" in findings[0].message
