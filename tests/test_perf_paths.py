"""The fast paths keep their promises: same results as the slow ones, and nothing imported that is not needed.

* ``starlette-lint check`` on cached or irrelevant files imports neither LibCST nor the rules;
* the command gives the engine decoded text (not bytes) when checking, with the same findings;
* the static code list equals the rule registry; the prefilter only skips files that cannot matter;
* ``walk``/``iter_children`` (type-cached) visit exactly what the plain isinstance version did.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Iterator

import libcst as cst
import pytest

from helpers import FLAKE8_CORE_BOOT, run_python
from starlette_lint import engine, runner
from starlette_lint.codes import RULE_CODES
from starlette_lint.config import DEFAULT, from_mapping
from starlette_lint.engine import check_source
from starlette_lint.model import _SKIP_FIELDS, iter_children, walk
from starlette_lint.prefilter import is_relevant
from starlette_lint.rules import all_rules

FIXTURES = Path(__file__).parent / "fixtures"

APP = '''\
import time
from fastapi import FastAPI

app = FastAPI(on_startup=[])


@app.get("/")
async def index():
    time.sleep(1)
    return {"ok": True}
'''
PLAIN = "import os\n\n\ndef f():\n    return os.getcwd()\n"


def test_static_code_list_is_the_registry() -> None:
    assert RULE_CODES == {r.code for r in all_rules()}, (
        "src/starlette_lint/codes.py must list every rule code (the command validates --select with it): "
        "run `python -m starlette_lint.docs --codes`")


def test_internal_code_is_the_engines() -> None:
    assert runner.INTERNAL == engine.INTERNAL


# ------------------------------------------------------------------ what the command imports
_PROBE = """
import json, sys
from starlette_lint.cli import main
code = main(sys.argv[1:])
mods = sorted(m for m in sys.modules if m == "libcst" or m.startswith(("libcst.", "starlette_lint.")))
print(json.dumps({"code": code, "modules": mods}))
"""


def _probe(cwd: Path, *args: str) -> dict:
    proc = run_python("-c", _PROBE, *args, cwd=cwd, timeout=120)
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_warm_run_imports_no_libcst_and_no_rules(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "plain.py").write_text(PLAIN)
    args = ("check", "--isolated", "--jobs", "1", "--select", "STL1,STL2", "--cache-dir", str(tmp_path / "cache"), ".")
    cold = _probe(tmp_path, *args)
    assert cold["code"] == 1 and "libcst" in cold["modules"]
    warm = _probe(tmp_path, *args)
    assert warm["code"] == 1
    assert "libcst" not in warm["modules"]
    assert not [m for m in warm["modules"] if m.startswith(("starlette_lint.rules", "starlette_lint.fixes",
                                                           "starlette_lint.engine", "starlette_lint.model"))]


def test_a_check_never_imports_libcst_matchers(tmp_path: Path) -> None:
    # libcst.matchers alone takes ~0.2 s to import (as long as LibCST's nodes): every flake8
    # worker that parses a file would pay it. The rules and fixers use plain isinstance checks.
    (tmp_path / "app.py").write_text(APP)
    result = _probe(tmp_path, "check", "--isolated", "--jobs", "1", "--no-cache", "--diff", ".")
    assert "libcst" in result["modules"] and "starlette_lint.fixes.requests" in result["modules"]
    assert not [m for m in result["modules"] if m.startswith("libcst.matchers")]


def test_irrelevant_files_import_no_libcst(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN)
    (tmp_path / "users.py").write_text("import fastapi_users\nfrom starlette_admin import BaseAdmin\n")
    result = _probe(tmp_path, "check", "--isolated", "--jobs", "1", "--no-cache", ".")
    assert result["code"] == 0
    assert "libcst" not in result["modules"]


# ------------------------------------------------------------------ text instead of bytes
ENCODINGS = {
    "bom.py": b"\xef\xbb\xbf" + APP.encode(),
    "crlf.py": APP.replace("\n", "\r\n").encode(),
    "latin1.py": b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + APP.encode(),
    "utf8.py": ("# café ünïcode\n" + APP.replace('"ok"', '"ök"')).encode(),
    "broken.py": b"# caf\xe9 not utf-8\n" + APP.encode(),  # undecodable: the command falls back to bytes
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_command_findings_equal_engine_on_bytes(tmp_path: Path, name: str) -> None:
    content = ENCODINGS[name]
    path = tmp_path / name
    path.write_bytes(content)
    settings = runner.Settings(DEFAULT, "fp", None)
    rows = runner.process(runner.Job(str(path), 0), settings).rows
    expected = check_source(content, str(path), DEFAULT, on_parse_error="syntax")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(f.line, f.col, f.code, f.message) for f in expected]
    if name != "broken.py":
        assert any(r[2] == "STL101" for r in rows)


# ------------------------------------------------------------------ prefilter
@pytest.mark.parametrize("source, relevant", [
    ("from fastapi import FastAPI\n", True),
    ("import starlette.routing\n", True),
    ("import uvicorn\nuvicorn.run(app)\n", True),
    ("import os, sys as system, fastapi\n", True),  # after other names on the line
    ("from \\\n  starlette.responses import JSONResponse\n", True),  # backslash continuation
    ("def f():\n    from fastapi import Request\n", True),  # an import anywhere
    ("x = 1  # served by uvicorn\n", False),  # a mention is not an import
    ('HELP = "e.g. --decorators=fastapi.Depends"\n', False),
    ("from\nfastapi = 1\n", False),  # never across a plain newline
    ("from .fastapi import thing\n", False),  # a local module of that name
    ("from app.fastapi import thing\n", False),
    ("import fastapi_users\nfrom starlette_admin import X\nimport uvicorn_worker\n", False),
    ("from myfastapi import X\nimport pystarlette\n", False),
    ("import os\n", False),
])
def test_prefilter_words(source: str, relevant: bool) -> None:
    assert is_relevant(source) is relevant
    assert is_relevant(source.encode()) is relevant


def test_benchmark_mirrors_the_prefilter() -> None:
    """benchmarks/_common.py (standard library only) reports what the prefilter lets through: the same test."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import _common
    finally:
        sys.path.pop(0)
    samples = [p.read_bytes() for p in sorted(FIXTURES.glob("*.py"))] + [
        b"import os, fastapi\n", b"from \\\n starlette import x\n", b"x = 1  # uvicorn\n", b"from .fastapi import a\n",
        "from caf\u00e9 import fastapi\n".encode(), b"import fastapi_users\n", b"from\nfastapi = 1\n"]
    for source in samples:
        assert (_common.PREFILTER.search(source) is not None) is is_relevant(source, project=False), source[:80]


@pytest.mark.parametrize("source, relevant", [
    ("from app.deps import router\n\n@router.get('/x')\nasync def x(): ...\n", True),
    ("@api.v1.post(\n    '/x')\nasync def x(): ...\n", True),
    ("    @ router.websocket('/ws')\n", True),
    ("x = router.get('/x')\n", False),  # not a decorator
    ("@router.getter\ndef x(): ...\n", False),
    ("# @router.get('/x')\n", False),
])
def test_prefilter_route_decorators_in_project_mode(source: str, relevant: bool) -> None:
    """In project mode a module that imports no framework but decorates routes on an object (a
    router another module built) is parsed; read alone, it is not."""
    for text in (source, source.encode()):
        assert is_relevant(text) is relevant
        assert is_relevant(text, project=True) is relevant
        assert not is_relevant(text, project=False)
        assert not is_relevant(text, from_mapping({"project-mode": False}))


def test_prefilter_configured_decorator_package() -> None:
    config = from_mapping({"endpoint-decorators": ["myweb.route"]})
    assert is_relevant("from myweb import route\n", config)
    assert not is_relevant("from myweb_extra import route\n", config)


# ------------------------------------------------------------------ walk
def _reference_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """iter_children as first written: isinstance on every field value."""
    for f in dataclasses.fields(node):
        if f.name in _SKIP_FIELDS:
            continue
        value = getattr(node, f.name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            yield from (item for item in value if isinstance(item, cst.CSTNode))


def _reference_walk(node: cst.CSTNode, into_scopes: bool) -> Iterator[cst.CSTNode]:
    stack = list(_reference_children(node))
    stack.reverse()
    while stack:
        child = stack.pop()
        yield child
        if not into_scopes and isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        kids = list(_reference_children(child))
        kids.reverse()
        stack.extend(kids)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.name)
def test_walk_visits_what_the_reference_visits(path: Path) -> None:
    module = cst.parse_module(path.read_bytes())
    for into_scopes in (False, True):
        assert [id(n) for n in walk(module, into_scopes=into_scopes)] == \
            [id(n) for n in _reference_walk(module, into_scopes)]
    for node in walk(module, into_scopes=True):
        assert [id(n) for n in iter_children(node)] == [id(n) for n in _reference_children(node)]


# ------------------------------------------------------------------ memory
def test_released_model_leaves_no_tree_to_the_cyclic_gc() -> None:
    """After Model.release() reference counting frees every LibCST node: the cyclic GC never has to walk a tree."""
    import gc

    from starlette_lint.engine import analyze_source

    rules = all_rules()
    sources = [p.read_bytes() for p in sorted(FIXTURES.glob("*.py"))]
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for source in sources:
            analysis = analyze_source(source, "x.py", DEFAULT, rules=rules)
            if analysis.model is not None:
                analysis.release()
            del analysis
        gc.collect()
        left = [type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith("libcst")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    assert not left, f"{len(left)} LibCST nodes were only reachable through reference cycles: {sorted(set(left))[:10]}"


# ------------------------------------------------------------------ parse
ODD_SOURCES = [
    b"\xef\xbb\xbfimport fastapi\n",
    b"# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n",
    "x = f\"{'a' + f'{1!r:>{2}}'}\"\r\nasync def f[T](a: T, /, *b, c=1, **d) -> T:\r\n    return await a\r\n".encode(),
    b"match p:\n    case [1, *rest] | {'k': rest} if rest:\n        pass\n",
    b"try:\n    pass\nexcept* (ValueError, TypeError) as e:\n    raise\n",
]


@pytest.mark.parametrize("source", [p.read_bytes() for p in sorted(FIXTURES.glob("*.py"))] + ODD_SOURCES,
                         ids=[p.name for p in sorted(FIXTURES.glob("*.py"))] + [f"odd{i}" for i in range(len(ODD_SOURCES))])
def test_parse_without_revalidation_builds_the_same_tree(source: bytes) -> None:
    fast = engine.parse_module(source)
    assert fast.deep_equals(cst.parse_module(source))
    assert fast.bytes == source  # and it still round-trips


def test_parse_restores_node_validation() -> None:
    hook = cst.CSTNode.__dict__["__post_init__"]
    engine.parse_module("x = 1\n")
    with pytest.raises(cst.ParserSyntaxError):
        engine.parse_module("x = (\n")
    assert cst.CSTNode.__dict__["__post_init__"] is hook
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not an identifier")  # what the fixers rely on: hand-built nodes are still checked


# flake8 (its core and our plugin: helpers.FLAKE8_CORE_BOOT) in a child process, counting what the plugin does
# there; its last line says
# "<gc.freeze calls> <frozen objects> <engine imported> <large-stack threads started>".
_FLAKE8_PROBE = FLAKE8_CORE_BOOT + r"""
import gc, threading
sys.argv = ["flake8", "--isolated", "-j1", "--select", "STL", sys.argv[1]]
freezes, started = [], []
freeze, start = gc.freeze, threading.Thread.start
gc.freeze = lambda: (freezes.append(1), freeze())
threading.Thread.start = lambda self: (started.append(self.name), start(self))[1]
from flake8.main.cli import main
try:
    main()
except SystemExit:
    pass
print(len(freezes), gc.get_freeze_count(), "starlette_lint.engine" in sys.modules, started.count("starlette-lint"))
"""


def _probe_flake8(folder: Path) -> tuple[list[str], list[str]]:
    """(flake8's output lines, the probe's counters)."""
    proc = run_python("-c", _FLAKE8_PROBE, str(folder), cwd=folder)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    return lines[:-1], lines[-1].split()


@pytest.mark.parametrize("text, loads", [("from fastapi import FastAPI\napp = FastAPI()\n", True),
                                         ("import os\n# served by uvicorn\n", False)])
def test_plugin_freezes_its_import_once_and_only_when_it_parses(tmp_path: Path, text: str, loads: bool) -> None:
    for i in range(3):
        (tmp_path / f"m{i}.py").write_text(text)
    _, out = _probe_flake8(tmp_path)
    calls, frozen, imported = int(out[0]), int(out[1]), out[2] == "True"
    assert imported is loads
    assert calls == (1 if loads else 0)  # once per process, three files
    assert (frozen > 0) is loads


# ------------------------------------------------------------------ threads
_SLEEPY = "import time\nfrom fastapi import FastAPI\napp = FastAPI()\n\n\n@app.get('/')\nasync def home():\n    time.sleep(1)\n"


@pytest.mark.parametrize("extra, threads", [
    ("", 0),  # Python parsed it (flake8's tree): the calling thread is enough
    ("x = " + " and ".join(["a"] * 1200) + "\n", 1),  # a long and-chain: a large stack
    ("# " + " and ".join(["word"] * 1200) + "\n", 1),  # words are counted wherever they are (cheap, never short)
])
def test_plugin_parses_on_the_calling_thread_unless_deep(tmp_path: Path, extra: str, threads: int) -> None:
    for i in range(3):
        (tmp_path / f"m{i}.py").write_text(_SLEEPY + ("\n" + extra if i == 0 else ""))
    lines, out = _probe_flake8(tmp_path)
    assert int(out[3]) == threads
    assert sum(" STL101 " in line for line in lines) == 3


def test_fits_calling_thread() -> None:
    import ast
    import threading

    from starlette_lint import stack

    assert len(_SLEEPY) <= stack.SHORT and stack.fits_calling_thread(_SLEEPY, None)  # too short to nest deep
    source = _SLEEPY + "# one more line of this module\n" * 10
    tree = ast.parse(source)
    assert stack.fits_calling_thread(source, tree)
    assert stack.fits_calling_thread(source.encode(), tree)
    assert not stack.fits_calling_thread(source, None)  # no proof that Python accepted the nesting
    chain = _SLEEPY + "x = (a)" + "and(a)or(a)" * 501 + "\n"  # 1,002 words, no blanks around them
    assert not stack.fits_calling_thread(chain, ast.parse(chain))
    many = _SLEEPY + "# random order for: " * 600 + "\n"  # substrings, not words: no fallback
    assert stack.fits_calling_thread(many, ast.parse(many))
    assert stack.call_with_big_stack(stack.fits_calling_thread, chain, None)  # already on a large stack
    box: list[bool] = []
    worker = threading.Thread(target=lambda: box.append(stack.fits_calling_thread(source, tree)))
    worker.start()
    worker.join()
    assert box == [False]  # another thread's stack may be small


def test_recursion_on_the_calling_thread_is_retried_on_a_large_stack(monkeypatch) -> None:
    import ast

    from starlette_lint.stack import call_with_big_stack as stack_call

    # positions replay the code generation of the endpoint, which recurses past the default limit
    source = _SLEEPY.replace("    time.sleep(1)", "    x = " + "not " * 900 + "a\n    time.sleep(1)")
    calls: list[int] = []
    monkeypatch.setattr(engine, "call_with_big_stack", lambda *a, **k: (calls.append(1), stack_call(*a, **k))[1])
    found = check_source(source, "deep.py", tree=ast.parse(source))
    assert calls == [1]
    assert (9, "STL101") in [(f.line, f.code) for f in found]
    assert "STL000" not in [f.code for f in found]


@pytest.mark.parametrize("jobs", [1, 2])
def test_command_checks_files_on_one_large_stack_thread(tmp_path: Path, jobs: int, monkeypatch) -> None:
    import threading

    monkeypatch.setattr(runner, "POOL_THRESHOLD", 2)
    paths = []
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(_SLEEPY + ("x = " + "+".join(["a"] * 450) + "\n" if i == 3 else ""))
        paths.append(str(tmp_path / f"m{i}.py"))
    started: list[str] = []
    start = threading.Thread.start

    def counting(self: threading.Thread) -> None:
        started.append(self.name)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", counting)
    settings = [runner.Settings(DEFAULT, "fp", None)]
    results, _ = runner.run([runner.Job(p, 0) for p in paths], settings, jobs=jobs)
    assert [[row[:3] for row in r.rows if row[2] != "STL402"] for r in results] == [[(8, 4, "STL101")]] * 6
    if jobs == 1:  # in this process: one thread for the whole run (the pool's workers are other processes)
        assert started.count("starlette-lint") == 1
