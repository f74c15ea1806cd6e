"""The checker survives whatever people commit: fuzzed programs, mutated files, odd bytes, deep nesting.

Three front ends are exercised: the engine (``check_source`` as the flake8
plugin calls it, ``analyze_source`` in the CLI's mode), real flake8 in a
subprocess, and the ``starlette-lint`` command in a subprocess. Inputs that
once killed the process (LibCST's native parser overflowing the C stack) run
in a child process, so a regression fails a test instead of pytest.

Fuzzing is bounded here (``STARLETTE_LINT_FUZZ`` examples per property,
default 40); ``pytest -m slow`` runs the large fuzz in ``test_corpus.py``.
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import libcst as cst
import pytest

import helpers
from helpers import CLI, FLAKE8_CORE_BOOT, by_file as reported, concurrently, environment, spawn_cli
from starlette_lint import engine, guard
from starlette_lint.cli import main as cli_main
from starlette_lint.engine import INTERNAL, analyze_source, call_with_big_stack, check_source
from starlette_lint.finding import Finding
from starlette_lint.rules import all_rules, get_rule

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
FIX_FIXTURES = TESTS / "fix_fixtures"
FUZZ = int(os.environ.get("STARLETTE_LINT_FUZZ", "40"))
FUZZ_SETTINGS = settings(max_examples=FUZZ, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))

# flake8 runs here with only its core, pycodestyle and our plugin (see helpers.FLAKE8_CORE_BOOT: flake8-async,
# pyflakes and mccabe die or recurse too deep by themselves on some of these inputs); the command with -I too.
CLI_FLAGS = ("-I",)
CHECK = (sys.executable, *CLI_FLAGS, *CLI[1:], "check", "--isolated")  # for tests that start it themselves


APP = (
    "from fastapi import FastAPI\n"
    "import time\n"
    "\n"
    "app = FastAPI()\n"
    "\n"
    "\n"
    "@app.get('/')\n"
    "async def index():\n"
    "    time.sleep(1)\n"
    "    return {}\n"
)
APP_LINE = 9  # the STL101 finding of APP


def spawn_check(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``starlette-lint check --isolated`` in a subprocess."""
    return spawn_cli("check", "--isolated", *args, cwd=cwd, timeout=timeout, python_flags=CLI_FLAGS)


def spawn_flake8(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``flake8 --isolated`` (core and our plugin) in a subprocess."""
    return helpers.run_flake8("--isolated", *args, cwd=cwd, timeout=timeout, core=True)


def codes(findings) -> set[str]:
    return {f[1] if isinstance(f, tuple) else f.code for f in findings}


def rule_crashes(findings: list[Finding]) -> list[str]:
    """STL000 findings that are not about parsing: a rule, the model or positions failed."""
    return [f.message for f in findings if f.code == INTERNAL
            and not f.message.startswith(("internal error in parser:", "file not checked:"))]


# ------------------------------------------------------------------ odd inputs
ODD: dict[str, tuple[bytes, set[str], set[str]]] = {
    # name: (content, codes from the CLI, codes from flake8); APP's STL101 is looked for where listed
    "empty.py": (b"", set(), set()),
    "bom.py": (b"\xef\xbb\xbf" + APP.encode(), {"STL101"}, {"STL101"}),
    "latin1_cookie.py": (b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + APP.encode(), {"STL101"}, {"STL101"}),
    # Python refuses to import it; flake8 reads it as latin-1 and checks it anyway
    "not_utf8.py": (b"x = 'caf\xe9'\n" + APP.encode(), {"E999"}, {"STL101"}),
    "crlf.py": (APP.replace("\n", "\r\n").encode(), {"STL101"}, {"STL101"}),
    "cr_only.py": (APP.replace("\n", "\r").encode(), {"STL101"}, {"STL101"}),
    "mixed_newlines.py": (APP.replace("\n", "\r\n", 3).encode(), {"STL101"}, {"STL101"}),
    "no_final_newline.py": (APP.rstrip("\n").encode(), {"STL101"}, {"STL101"}),
    "null_in_string.py": (APP.encode() + b"x = '\0'\n", {"E999"}, {"E999"}),
    "null_in_code.py": (APP.encode() + b"\0\n", {"E999"}, {"E999"}),
    "syntax_error.py": (APP.encode() + b"def (:\n", {"E999"}, {"E999"}),
    "tab_error.py": (APP.encode() + b"def g():\n\tif 1:\n        pass\n", {"E999"}, {"E999"}),
    "unterminated.py": (APP.encode() + b'x = """abc\n', {"E999"}, {"E999"}),
    "eof_in_bracket.py": (APP.encode() + b"x = (1,\n", {"E999"}, {"E999"}),
    "bad_cookie.py": (b"# -*- coding: no-such-codec -*-\n" + APP.encode(), {"E999"}, {"STL101"}),
    "formfeed.py": (APP.encode() + b"\f\nx = 1\n", {"STL101"}, {"STL101"}),
    # files that only mention a framework are not parsed by the CLI (nothing to report on);
    # flake8 itself still says E999
    "binary.py": (bytes(range(256)) + b"\nfastapi\n", set(), {"E999"}),
    "markdown.py": (b"# Using FastAPI\n\nRun `uvicorn app:app` and open the *docs*.\n", set(), {"E999"}),
    "json.py": (b'{"dependencies": {"fastapi": ">=0.100"}}\n', set(), set()),
    "shell.py": (b"#!/bin/sh\nexec uvicorn main:app --reload\n", set(), {"E999"}),
    # ... the same with an import of one: parsed, so the CLI gives Python's E999
    "binary_import.py": (bytes(range(256)) + b"\nimport fastapi\n", {"E999"}, {"E999"}),
    "markdown_import.py": (b"# Using FastAPI\n\nWrite `from fastapi import FastAPI` and run *uvicorn*.\n",
                           {"E999"}, {"E999"}),
    "shell_import.py": (b"#!/bin/sh\npython -c 'import uvicorn' && exec uvicorn main:app\n", {"E999"}, {"E999"}),
    "utf16.py": (APP.encode("utf-16"), set(), {"E999"}),  # no "fastapi" in its bytes: skipped by the CLI
    "deep_if.py": (APP.encode() + b"".join(b"    " * i + b"if a:\n" for i in range(99)) + b"    " * 99 + b"pass\n",
                   {"STL101"}, {"STL101"}),
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_input_engine(name):
    content, cli_codes, _ = ODD[name]
    # as the flake8 plugin calls it (text; flake8 reads files leniently)
    from starlette_lint.runner import decode

    text = decode(content)
    for source in (text, content):
        findings = check_source(source, name)
        assert rule_crashes(findings) == []
    # as the CLI calls it
    found = analyze_source(content, name, on_parse_error="syntax").findings
    assert rule_crashes(found) == []
    assert codes(found) & {"E999", "STL000", "STL101"} == cli_codes & {"E999", "STL000", "STL101"}


@pytest.fixture(scope="module")
def odd_trees(tmp_path_factory) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """The odd inputs, the newer syntax and the mutated files, each in a folder: one run of the command and
    one of flake8 over the three (each process costs more than the files; the tests read their own files)."""
    root = tmp_path_factory.mktemp("odd_trees")
    (root / "odd").mkdir()
    for name, (content, _, _) in ODD.items():
        (root / "odd" / name).write_bytes(content)
    (root / "new_syntax").mkdir()
    for name, snippet in NEW_SYNTAX.items():
        (root / "new_syntax" / f"{name}.py").write_text(APP + "\n\n" + snippet, encoding="utf-8")
    (root / "mutated").mkdir()
    rnd = random.Random(20240601)
    for i in range(60):
        source = mutate(FIXTURE_SOURCES[i % len(FIXTURE_SOURCES)], rnd, rnd.randint(1, 5))
        (root / "mutated" / f"m{i:02}.py").write_text(source, encoding="utf-8", errors="surrogatepass")
    names = [*ODD, *(f"{n}.py" for n in NEW_SYNTAX), *(f"m{i:02}.py" for i in range(60))]
    assert len(set(names)) == len(names)  # the outputs are read by file name
    cli, flake8 = concurrently(lambda: spawn_check("--no-cache", ".", cwd=root),
                               lambda: spawn_flake8("--select", "STL,E9", ".", cwd=root))
    return cli, flake8


def test_odd_inputs_cli_and_flake8(odd_trees):
    cli, flake8 = odd_trees
    assert cli.returncode == 1, cli.stderr
    assert "Traceback" not in cli.stderr
    assert flake8.returncode == 1, flake8.stderr
    assert "Traceback" not in flake8.stderr
    by_cli, by_flake8 = reported(cli.stdout), reported(flake8.stdout)
    relevant = {"E999", "E902", "STL000", "STL101"}
    for name, (_, cli_codes, flake8_codes) in ODD.items():
        assert codes(by_cli.get(name, [])) & relevant == cli_codes, (name, by_cli.get(name))
        assert codes(by_flake8.get(name, [])) & relevant == flake8_codes, (name, by_flake8.get(name))
        if "STL101" in cli_codes and name not in ("latin1_cookie.py",):
            assert (APP_LINE, "STL101") in {(ln, c) for ln, c, _ in by_cli[name]}, (name, by_cli[name])


def test_syntax_error_message_is_pythons():
    found = analyze_source(APP.encode() + b"def (:\n", "x.py", on_parse_error="syntax").findings
    assert [(f.line, f.col, f.code, f.message) for f in found] == [(11, 4, "E999", "SyntaxError: invalid syntax")]
    # the flake8 plugin stays quiet on what it cannot parse except for one STL000 (flake8 itself says E999)
    assert [f.code for f in check_source(APP + "def (:\n", "x.py")] == ["STL000"]
    assert check_source(APP + "def (:\n", "x.py", on_parse_error="ignore") == []


# ------------------------------------------------------------------ newer syntax
NEW_SYNTAX = {
    "type_params": "def first[T](items: list[T]) -> T:\n    return items[0]\n\n\ntype Pair = tuple[int, int]\n",
    "pep701_fstring": 'greeting = f"{"nested" + f"{1 + 1}"}"\n',
    "except_star": "try:\n    pass\nexcept* ValueError:\n    pass\n",
    "match": "match command:\n    case [\"go\", *rest] | {\"go\": rest}:\n        pass\n    case _:\n        pass\n",
    "pep758_except": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
    "template_string": "page = t\"<p>{name}</p>\"\n",
}


def _parses_with_libcst(source: str) -> bool:
    try:
        cst.parse_module(source)
        return True
    except Exception:  # noqa: BLE001
        return False


def _parses_with_python(source: str) -> bool:
    try:
        compile(source, "x.py", "exec", dont_inherit=True, flags=1024)
        return True
    except SyntaxError:
        return False


@pytest.mark.parametrize("name", sorted(NEW_SYNTAX))
def test_newer_syntax_engine(name):
    source = APP + "\n\n" + NEW_SYNTAX[name]
    libcst_ok, python_ok = _parses_with_libcst(source), _parses_with_python(source)
    plugin = check_source(source, "new.py")
    cli = analyze_source(source.encode(), "new.py", on_parse_error="syntax").findings
    if libcst_ok:
        # checked, whatever the running Python thinks of it: the project may target a newer Python
        assert "STL101" in codes(plugin) and INTERNAL not in codes(plugin)
        assert "STL101" in codes(cli) and not codes(cli) & {"E999", INTERNAL}
    else:
        assert [f.code for f in plugin] == [INTERNAL] and "could not parse" in plugin[0].message
        assert [f.code for f in cli] == ([INTERNAL] if python_ok else ["E999"])


def test_newer_syntax_flake8_and_cli(odd_trees):
    cli, flake8 = odd_trees
    assert "Traceback" not in flake8.stderr + cli.stderr
    by_flake8, by_cli = reported(flake8.stdout), reported(cli.stdout)
    for name, snippet in NEW_SYNTAX.items():
        source = APP + "\n\n" + snippet
        got = codes(by_flake8.get(f"{name}.py", [])) - {"E902"}  # the shared run selects E9, this test E999
        # flake8 parses with the running Python first; our plugin never sees what it rejects
        assert got == ({"STL101"} if _parses_with_python(source) else {"E999"}) | (got & {"STL402"}), (name, got)
        if _parses_with_libcst(source):
            assert "STL101" in codes(by_cli.get(f"{name}.py", [])), name


# ------------------------------------------------------------------ deep and huge inputs
DEEP = {
    # name: (source, what the engine must say)
    # valid Python that overflowed LibCST's C stack on the main thread (SIGSEGV)
    "and_8000": ("x = " + " and ".join(["a"] * 8000) + "\n", "STL101"),
    # invalid (Python allows 200 levels) but LibCST parses it: deep C recursion
    "parens_3000": ("x = " + "(" * 3000 + "1" + ")" * 3000 + "\n", "any"),
    "lists_1500": ("x = " + "[" * 1500 + "1" + "]" * 1500 + "\n", "any"),
    # valid and under 2 KiB: positions recursed past Python's limit on the caller's stack
    "plus_450": ("x = " + "+".join(["a"] * 450) + "\n", "STL101"),
    "unary_480": ("x = " + "-" * 480 + "1\n", "STL101"),
    "calls_240": ("x = a" + ".b()" * 240 + "\n", "STL101"),
    "subscripts_450": ("x = a" + "[0]" * 450 + "\n", "STL101"),
    # LibCST is super-linear on these: refused at once instead of taking minutes
    "plus_4000": ("x = " + "+".join(["a"] * 4000) + "\n", "too complex"),
    "fluent_800": ("q = (\n    session\n" + "    .filter(a == 1)\n" * 800 + ")\n", "too complex"),
    "calls_2000": ("x = a" + ".b()" * 2000 + "\n", "too complex"),
    # as deep as Python itself accepts: parsed on flake8's main thread (its 8 MiB stack is enough)
    "nots_1900": ("x = " + "not " * 1900 + "a\n", "STL101"),
    "lambdas_2400": ("x = " + "lambda: " * 2400 + "a\n", "STL101"),
    "and_3000": ("x = " + " and ".join(["a"] * 3000) + "\n", "STL101"),  # > 1,000 and/or words: a large stack
    # deep statements
    "elifs_3000": ("if a:\n    pass\n" + "elif a:\n    pass\n" * 3000, "STL101"),
    "decorators_2000": ("@a\n" * 2000 + "def q():\n    pass\n", "STL101"),
}

_ENGINE_CHILD = """
import json, sys, time
from starlette_lint.engine import check_source, analyze_source
cases = json.load(sys.stdin)
for name, source in cases.items():
    print("start", name, flush=True)
    t = time.perf_counter()
    plugin = check_source(source, name + ".py")
    cli = analyze_source(source.encode(), name + ".py", on_parse_error="syntax").findings
    print("done", json.dumps([name, round(time.perf_counter() - t, 2),
          [[f.line, f.code, f.message[:300]] for f in plugin], [[f.line, f.code, f.message[:300]] for f in cli]]), flush=True)
"""


def _python_builds_ast(source: str) -> bool:
    try:
        ast.parse(source)
    except RecursionError:
        return False
    except SyntaxError:
        pass
    return True


def _deep_source(name: str) -> str:
    return APP + "\n\n" + DEEP[name][0]


@pytest.mark.slow  # ~10 s; the flake8 main-thread path of deep inputs stays in the default run (test_perf_paths)
def test_deep_inputs_engine_in_child_process():
    cases = {name: _deep_source(name) for name in DEEP}
    proc = helpers.run_python("-I", "-c", _ENGINE_CHILD, stdin=json.dumps(cases), timeout=600)
    started = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("start ")]
    assert proc.returncode == 0, f"child died ({proc.returncode}) in {started[-1:]}: {proc.stderr[-2000:]}"
    results = {r[0]: r for r in (json.loads(line[5:]) for line in proc.stdout.splitlines() if line.startswith("done "))}
    assert set(results) == set(DEEP)
    for name, (_, expect) in DEEP.items():
        _, seconds, plugin, cli = results[name]
        assert seconds < 60, (name, seconds)
        for findings in (plugin, cli):
            assert not [m for _, c, m in findings if c == INTERNAL and "internal error in" in m and "parser" not in m]
        if expect == "STL101":
            assert [APP_LINE, "STL101"] in [f[:2] for f in plugin], (name, plugin)
            assert [APP_LINE, "STL101"] in [f[:2] for f in cli], (name, cli)
            assert INTERNAL not in {f[1] for f in plugin + cli}, (name, plugin, cli)
        elif expect == "too complex":
            line = APP.count("\n") + 3
            assert [f[:2] for f in plugin] == [[line, INTERNAL]] and "too complex" in plugin[0][2], (name, plugin)
            assert "E999" in {f[1] for f in cli} or [f[:2] for f in cli] == [[line, INTERNAL]], (name, cli)
            assert seconds < 10, (name, seconds)


@pytest.mark.slow  # ~10 s
def test_deep_inputs_cli_and_flake8(tmp_path):
    for name in DEEP:
        (tmp_path / f"{name}.py").write_text(_deep_source(name), encoding="utf-8")
    cli = spawn_check("--no-cache", ".", cwd=tmp_path, timeout=600)
    assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr[-2000:]
    by_cli = reported(cli.stdout)
    # flake8 itself dies on some of them before any plugin runs (its ast.parse: "maximum recursion depth
    # exceeded during ast construction"): those are left out of its run
    flake8_files = [f"{n}.py" for n in DEEP if _python_builds_ast(_deep_source(n))]
    assert len(flake8_files) >= 8
    flake8 = spawn_flake8("--select", "STL,E999", "-j", "1", *flake8_files, cwd=tmp_path, timeout=600)
    assert flake8.returncode == 1 and "Traceback" not in flake8.stderr, (flake8.returncode, flake8.stderr[-2000:])
    by_flake8 = reported(flake8.stdout)
    for name, (_, expect) in DEEP.items():
        file = f"{name}.py"
        if expect == "STL101":
            assert (APP_LINE, "STL101") in {(ln, c) for ln, c, _ in by_cli[file]}, (file, by_cli.get(file))
            assert INTERNAL not in codes(by_cli[file])
            if file in flake8_files:
                assert (APP_LINE, "STL101") in {(ln, c) for ln, c, _ in by_flake8[file]}, (file, by_flake8.get(file))
        elif expect == "too complex":
            assert codes(by_cli[file]) in ({INTERNAL}, {"E999"}), (file, by_cli[file])
            if file in flake8_files:
                assert codes(by_flake8[file]) == {INTERNAL}, (file, by_flake8[file])
        else:  # invalid Python: flake8 says E999 and our plugin never runs; the CLI gives Python's verdict
            assert codes(by_flake8[file]) == {"E999"}, (file, by_flake8[file])
            assert codes(by_cli[file]) == {"E999"}, (file, by_cli[file])


def test_fifty_thousand_lines(tmp_path):
    body = "".join("# filler\n" if i % 3 else "\n" for i in range(50_000))
    source = "from fastapi import FastAPI\nimport time\n\napp = FastAPI()\n" + body + \
        "@app.get('/')\nasync def index():\n    time.sleep(1)\n"
    line = source.count("\n")
    assert line > 50_000
    (tmp_path / "big.py").write_text(source, encoding="utf-8")
    start = time.perf_counter()
    cli, flake8 = concurrently(lambda: spawn_check("--no-cache", "big.py", cwd=tmp_path),
                               lambda: spawn_flake8("--select", "STL", "big.py", cwd=tmp_path))
    assert (line, "STL101") in {(ln, c) for ln, c, _ in reported(cli.stdout)["big.py"]}, cli.stdout
    assert (line, "STL101") in {(ln, c) for ln, c, _ in reported(flake8.stdout)["big.py"]}, flake8.stderr[-2000:]
    assert time.perf_counter() - start < 120


# ------------------------------------------------------------------ the complexity guard
@pytest.mark.parametrize("shape", ["plus", "calls", "fluent", "subscripts", "backslash", "commented"])
def test_guard_refuses_long_chains_and_accepts_shorter(shape):
    def build(n: int) -> str:
        return {
            "plus": "x = " + " + ".join(["a"] * (n + 1)),
            "calls": "x = a" + ".b()" * (n // 2),
            "fluent": "q = (\n    s\n" + "    .filter(\n        a,\n        b,\n    )\n" * (n // 2) + ")",
            "subscripts": "x = a" + "[0]" * n,
            "backslash": "x = a" + " \\\n    + a" * n,
            "commented": "x = (\n" + "    a +  # why\n" * n + "    a\n)",
        }[shape] + "\n"

    assert guard.check(build(guard.MAX_CHAIN - 20)) is None
    refused = guard.check("import os\n\n\n" + build(guard.MAX_CHAIN + 20))
    assert refused is not None and refused.line == 4 and refused.links > guard.MAX_CHAIN


def test_guard_passes_every_fixture():
    for path in sorted(FIXTURES.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert guard.chain_depth(source)[0] < 100, path.name
        assert guard.check(source) is None


def test_guard_stage_one_flags_what_stage_two_measures():
    # a big but flat literal passes stage 1 (too many links for a cheap "no") and stage 2 clears it
    table = "ROUTES = [\n" + "".join(f"    Route('/p{i}', endpoint=views.page_{i}),\n" for i in range(400)) + "]\n"
    assert guard._may_be_complex(table)
    assert guard.chain_depth(table)[0] < 10 and guard.check(table) is None
    # ordinary code of any size never reaches stage 2
    assert not guard._may_be_complex(APP * 2000)


_LINKS = st.sampled_from([".b", "()", "(x, y)", "[0]", "[i:j]", " + a", " - a", " * a", " @ a", " | a", " ** a",
                          " << a", "(\n    z,\n)", "\n    .c", " +\n    a", " + (a + b)", " + f'{x}'", ".d  # note\n"])


@FUZZ_SETTINGS
@given(links=st.lists(_LINKS, min_size=guard.MAX_CHAIN + 1, max_size=guard.MAX_CHAIN + 40),
       indent=st.sampled_from(["", "    "]))
def test_guard_sees_every_long_chain(links, indent):
    """Stage 1 is an upper bound: whatever the layout, a chain stage 2 measures above the limit is flagged."""
    expr = "(a" + "".join(links) + "\n)"
    source = ("def f():\n" if indent else "") + f"{indent}x = {expr}\n"
    links_measured, _ = guard.chain_depth(source)
    if links_measured > guard.MAX_CHAIN:
        assert guard._may_be_complex(source)
        assert guard.check(source) is not None


# ------------------------------------------------------------------ internal errors are isolated
class Boom(Exception):
    pass


def _explode(self, model, fw):
    raise Boom("kaboom")
    yield  # pragma: no cover


def test_failing_rule_gives_one_stl000_and_others_still_report(monkeypatch):
    source = APP + "app2 = FastAPI(on_startup=[])\n"
    before = check_source(source, "x.py")
    assert {"STL101", "STL201"} <= codes(before)
    monkeypatch.setattr(type(get_rule("STL201")), "check", _explode)
    after = check_source(source, "x.py")
    internal = [f for f in after if f.code == INTERNAL]
    assert len(internal) == 1
    assert internal[0].message == "internal error in STL201 (" + get_rule("STL201").name + "): Boom: kaboom"
    assert "Traceback" not in internal[0].message
    assert [f for f in after if f.code != INTERNAL] == [f for f in before if f.code != "STL201"]
    debug = [f for f in check_source(source, "x.py", debug=True) if f.code == INTERNAL]
    assert "Traceback (most recent call last)" in debug[0].message and "_explode" in debug[0].message


def test_rule_failing_midway_keeps_what_it_reported(monkeypatch):
    rule_type = type(get_rule("STL101"))
    original = rule_type.check

    def half(self, model, fw):
        yield from original(self, model, fw)
        raise RuntimeError("late")

    monkeypatch.setattr(rule_type, "check", half)
    found = check_source(APP, "x.py")
    assert [f.code for f in found if f.code in ("STL101", INTERNAL)] == ["STL101", INTERNAL]


@pytest.mark.parametrize("where", ["model", "framework", "positions"])
def test_model_or_positions_failure_is_one_stl000(monkeypatch, where):
    if where == "model":
        monkeypatch.setattr(engine, "Model", lambda *a, **k: (_ for _ in ()).throw(Boom("no model")))
    elif where == "framework":
        monkeypatch.setattr(engine, "Framework", lambda *a, **k: (_ for _ in ()).throw(Boom("no framework")))
    else:
        monkeypatch.setattr(engine, "model_positions", lambda *a, **k: (_ for _ in ()).throw(Boom("no positions")))
    found = check_source(APP, "x.py")
    assert [f.code for f in found] == [INTERNAL]
    assert found[0].message.startswith(f"internal error in {where}: Boom:")


def test_failing_rule_through_cli(monkeypatch, tmp_path, capsys):
    (tmp_path / "app.py").write_text(APP + "app2 = FastAPI(on_startup=[])\n", encoding="utf-8")
    monkeypatch.setattr(type(get_rule("STL201")), "check", _explode)
    monkeypatch.chdir(tmp_path)
    assert cli_main(["check", "--isolated", "--no-cache", "-j", "1", "app.py"]) == 1
    out, err = capsys.readouterr()
    assert "app.py:1:1: STL000 internal error in STL201" in out and "Boom: kaboom" in out
    assert f"app.py:{APP_LINE}:5: STL101" in out
    assert "Traceback" not in out + err
    assert cli_main(["check", "--isolated", "--no-cache", "-j", "1", "--debug", "app.py"]) == 1
    out, _ = capsys.readouterr()
    assert "Traceback (most recent call last)" in out and "_explode" in out


def test_cli_bug_is_one_line_without_debug(monkeypatch, tmp_path, capsys):
    import starlette_lint.cli as cli

    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "run", lambda *a, **k: (_ for _ in ()).throw(Boom("bad day")))
    assert cli_main(["check", "--isolated", "--no-cache", "app.py"]) == 2
    _, err = capsys.readouterr()
    assert err == "starlette-lint: internal error: Boom: bad day (--debug shows the traceback)\n"
    with pytest.raises(Boom):
        cli_main(["check", "--isolated", "--no-cache", "--debug", "app.py"])


_FLAKE8_WITH_BROKEN_RULE = FLAKE8_CORE_BOOT + """
from starlette_lint.rules import get_rule
def explode(self, model, fw):
    raise RuntimeError('kaboom')
    yield
type(get_rule('STL201')).check = explode
from flake8.main.cli import main
sys.exit(main())
"""


def test_failing_rule_through_flake8(tmp_path):
    (tmp_path / "app.py").write_text(APP + "app2 = FastAPI(on_startup=[])\n", encoding="utf-8")
    proc = helpers.run_python("-I", "-c", _FLAKE8_WITH_BROKEN_RULE, "--isolated", "-j", "1", "--select", "STL", "app.py",
                              cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "app.py:1:1: STL000 internal error in STL201" in proc.stdout
    assert f"app.py:{APP_LINE}:5: STL101" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_recursion_limit_is_restored():
    before = sys.getrecursionlimit()
    assert call_with_big_stack(sys.getrecursionlimit) > before
    with pytest.raises(Boom):
        call_with_big_stack(_explode(None, None, None).__next__)
    assert sys.getrecursionlimit() == before
    barrier = threading.Barrier(4)
    results = []

    def worker():
        results.append(call_with_big_stack(lambda: (barrier.wait(timeout=30), sys.getrecursionlimit())[1]))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and min(results) > before
    assert sys.getrecursionlimit() == before


# ------------------------------------------------------------------ fuzzing
def _relevant(source: str) -> str:
    return source + "\n# import fastapi\n"  # a trailing comment: every program passes the prefilter


def _check_all_ways(source: str) -> None:
    plugin = check_source(source, "fuzz.py")
    cli = analyze_source(source.encode("utf-8", "surrogatepass"), "fuzz.py", on_parse_error="syntax").findings
    assert rule_crashes(plugin) == [] and rule_crashes(cli) == [], source


try:
    import hypothesmith
except ImportError:  # pragma: no cover - an optional test dependency
    hypothesmith = None


QUIET = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")  # compile() on fuzz


@QUIET
@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith is not installed")
@FUZZ_SETTINGS
@given(source=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()) if hypothesmith else st.just(""))
def test_fuzz_valid_programs(source):
    source = _relevant(source)
    _check_all_ways(source)
    if _parses_with_libcst(source):
        assert INTERNAL not in codes(check_source(source, "fuzz.py")), source


FIXTURE_SOURCES = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.py"))] + \
    [p.read_text(encoding="utf-8") for p in sorted(FIX_FIXTURES.glob("*.before"))]
_ATOMS = ["None", "1", "'x'", 'f"{x}"', "*a", "**k", "lambda: 0", "(yield)", "await x", "...", "[]", "{}", "a.b",
          "a[0]", "a()", "app", "request", "Request", "FastAPI()", "Starlette()", "True", "b'x'", "(x := 1)", "-1",
          "self", "time.sleep", "Depends(x)", "Middleware", "Route('/', f)", "APIRouter()", "requests.get", "open"]
_NOISE = ["(", ")", ",", ":", "\\", "#", '"', "'''", "\t", "\0", "\r", "\ufeff", "\u00e9", "\x0c", "async ", "await "]
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|'[^'\n]*'|\"[^\"\n]*\"")


def mutate(source: str, rnd: random.Random, steps: int) -> str:
    """A real file damaged the ways editors, merges and generators damage files."""
    lines = source.splitlines(keepends=True)
    for _ in range(steps):
        if not lines:
            break
        op = rnd.randrange(12)
        i = rnd.randrange(len(lines))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rnd.randrange(len(lines))])
        elif op == 2:
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op in (3, 4):
            words = list(_WORD.finditer(lines[i]))
            if words:
                m = rnd.choice(words)
                new = rnd.choice(_ATOMS) if op == 3 else rnd.choice(_WORD.findall(source) or ["x"])
                lines[i] = lines[i][:m.start()] + new + lines[i][m.end():]
        elif op == 5:
            lines[i] = "    " + lines[i]
        elif op == 6:
            lines[i] = lines[i].lstrip()
        elif op == 7:
            k = rnd.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:k] + rnd.choice(_NOISE) + lines[i][k:]
        elif op == 8:
            other = rnd.choice(FIXTURE_SOURCES).splitlines(keepends=True)
            k = rnd.randrange(len(other))
            lines[i:i] = other[k:k + rnd.randint(1, 15)]
        elif op == 9:
            lines[i] = lines[i].replace("async def", "\0").replace("def ", "async def ").replace("\0", "def")
        elif op == 10:
            head = rnd.choice(["class X:\n", "def outer():\n", "async def outer():\n", "if x:\n", "with a:\n"])
            lines = [head] + ["    " + line for line in lines]
        else:
            del lines[i:]
    return "".join(lines)


@QUIET
@FUZZ_SETTINGS
@given(which=st.integers(0, len(FIXTURE_SOURCES) - 1), seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 5))
def test_fuzz_mutated_real_files(which, seed, steps):
    _check_all_ways(mutate(FIXTURE_SOURCES[which], random.Random(seed), steps))


def test_mutated_files_through_cli_and_flake8(odd_trees):
    for proc in odd_trees:
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        crashes = [m for found in reported(proc.stdout).values() for _, c, m in found
                   if c == INTERNAL and not m.startswith(("internal error in parser:", "file not checked:"))]
        assert crashes == []


# ------------------------------------------------------------------ files that cannot be read
def test_unreadable_entries_are_reported_and_others_checked(tmp_path):
    (tmp_path / "good.py").write_text(APP, encoding="utf-8")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    os.mkfifo(tmp_path / "pipe.py")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock.py"))
        (tmp_path / "dir.py").mkdir()
        (tmp_path / "dir.py" / "inner.py").write_text(APP, encoding="utf-8")
        walked = spawn_check("--no-cache", ".", cwd=tmp_path, timeout=120)
        assert walked.returncode == 1 and "Traceback" not in walked.stderr
        assert "dangling.py: skipped: broken symbolic link" in walked.stderr
        found = reported(walked.stdout)
        assert {"good.py", "inner.py"} <= set(found)
        assert found["pipe.py"] == [(1, "E902", "OSError: not a regular file")]
        assert codes(found["sock.py"]) == {"E902"}
        named = spawn_check("--no-cache", "dangling.py", "pipe.py", "good.py", cwd=tmp_path, timeout=120)
        found = reported(named.stdout)
        assert codes(found["dangling.py"]) == {"E902"} and codes(found["pipe.py"]) == {"E902"}
        assert "STL101" in codes(found["good.py"])
    finally:
        sock.close()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission(tmp_path):
    (tmp_path / "good.py").write_text(APP, encoding="utf-8")
    secret = tmp_path / "secret.py"
    secret.write_text(APP, encoding="utf-8")
    secret.chmod(0)
    try:
        proc = spawn_check("--no-cache", ".", cwd=tmp_path)
        found = reported(proc.stdout)
        assert codes(found["secret.py"]) == {"E902"} and "STL101" in codes(found["good.py"])
    finally:
        secret.chmod(0o644)


# ------------------------------------------------------------------ concurrency and interrupted fixes
def _tree(root: Path, copies: int) -> None:
    sources = sorted(FIXTURES.glob("*.py"))
    for i in range(copies):
        src = sources[i % len(sources)]
        (root / f"f{i:02}_{src.name}").write_bytes(src.read_bytes())


def test_concurrent_runs_share_the_cache(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    _tree(tree, 24)
    # the reference and the last run in this process; the two runs that share the cache in subprocesses
    baseline = helpers.run_cli("check", "--isolated", "--no-cache", "--format", "json", ".", cwd=tree)
    assert baseline.returncode == 1
    args = ["--cache-dir", str(tmp_path / "cache"), "--format", "json", "-j", "2", "."]
    procs = [subprocess.Popen([*CHECK, *args], cwd=tree, env=environment(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for (out, err), p in zip(outs, procs):
        assert p.returncode == 1 and "Traceback" not in err, err
        assert json.loads(out) == json.loads(baseline.stdout)
    # a third run answers from the cache, even with an entry damaged meanwhile
    entries = sorted((tmp_path / "cache" / "v1").rglob("*.json"))  # results (project-v1/ holds module summaries)
    assert entries and not list((tmp_path / "cache").rglob(".tmp-*"))
    entries[0].write_text("{not json", encoding="utf-8")
    third = helpers.run_cli("check", "--isolated", *args[:-1], "--verbose", ".", cwd=tree)
    assert json.loads(third.stdout) == json.loads(baseline.stdout)
    assert "23 from cache" in third.stderr, third.stderr


def _fixable_tree(root: Path, copies: int) -> bytes:
    before = (FIX_FIXTURES / "stl101_asyncio.py.before").read_bytes()
    for i in range(copies):
        (root / f"app{i:03}.py").write_bytes(before)
    return before


def test_fix_write_failure_leaves_file_intact(tmp_path, monkeypatch, capsys):
    from starlette_lint import runner

    before = _fixable_tree(tmp_path, 1)
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner.os, "fdopen", lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k)))
    monkeypatch.chdir(tmp_path)
    code = cli_main(["check", "--isolated", "--no-cache", "-j", "1", "--fix", "app000.py"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "app000.py: cannot write the fixes: No space left on device" in err
    assert (tmp_path / "app000.py").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app000.py"]  # no temporary file left behind

    def interrupted(fd, *a, **k):
        os.close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner.os, "fdopen", interrupted)
    assert cli_main(["check", "--isolated", "--no-cache", "-j", "1", "--fix", "app000.py"]) == 130
    assert (tmp_path / "app000.py").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app000.py"]


def test_killed_fix_never_leaves_a_half_written_file(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    before = _fixable_tree(reference, 1)
    assert spawn_check("--no-cache", "--fix", "app000.py", cwd=reference).returncode == 1
    after = (reference / "app000.py").read_bytes()
    assert after != before
    # three runs side by side, each killed at its own moment
    delays = (0.8, 1.6, 2.4)
    trees, procs = [], []
    for round_ in range(len(delays)):
        tree = tmp_path / f"tree{round_}"
        tree.mkdir()
        _fixable_tree(tree, 80)
        trees.append(tree)
    started = time.monotonic()
    for tree in trees:
        procs.append(subprocess.Popen([*CHECK, "--no-cache", "-j", "1", "--fix", "."], cwd=tree, env=environment(),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for proc, delay in zip(procs, delays):
        time.sleep(max(0.0, started + delay - time.monotonic()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    for tree in trees:
        for path in tree.iterdir():
            if path.suffix == ".py":
                assert path.read_bytes() in (before, after), path.name
            else:  # a kill between writing and renaming can leave the temporary file, never a broken .py
                assert re.fullmatch(r"\.app\d{3}\.py\..+\.tmp", path.name), path.name


@pytest.mark.parametrize("n", [440])
def test_fix_on_deep_expression(tmp_path, n):
    """Fixers generate code recursively: they run with the big stack too."""
    source = (FIX_FIXTURES / "stl101_asyncio.py.before").read_text(encoding="utf-8") + \
        "x = " + " + ".join(["a"] * n) + "\n"
    (tmp_path / "deep.py").write_text(source, encoding="utf-8")
    proc = spawn_check("--no-cache", "--fix", "deep.py", cwd=tmp_path)
    assert "fixed" in proc.stderr and "STL000" not in proc.stdout, proc.stdout + proc.stderr
    assert "await asyncio.sleep(0.5)" in (tmp_path / "deep.py").read_text(encoding="utf-8")


def test_every_rule_is_exercised_by_the_fuzz_inputs():
    """The mutated-file fuzz starts from files that trigger every rule (else it would fuzz nothing)."""
    from markers import fixture_config

    seen: set[str] = set()
    for source in FIXTURE_SOURCES:
        config = fixture_config(source)
        seen |= codes(check_source(source, "x.py", config.merged(
            extend_select=config.extend_select + tuple(r.code for r in all_rules() if r.opt_in))))
    missing = {r.code for r in all_rules()} - seen
    assert not missing, missing


def test_pythons_verdict_prints_no_warnings(tmp_path):
    # compile() warns about what it accepts; the CLI asks it only for its verdict
    (tmp_path / "w.py").write_text(APP + "x = 1()\ny = '\\.'\ndef (:\n", encoding="utf-8")
    proc = spawn_cli("check", "--isolated", "--no-cache", "w.py", cwd=tmp_path, timeout=120,
                     python_flags=("-W", "always", *CLI_FLAGS))
    assert codes(reported(proc.stdout)["w.py"]) == {"E999"}
    assert "Warning" not in proc.stderr, proc.stderr
