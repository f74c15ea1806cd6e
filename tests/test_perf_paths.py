"""The fast paths keep their promises: same results as the slow ones, and nothing imported that is not needed.

* ``starlette-lint check`` on cached or irrelevant files imports neither LibCST nor the rules;
* the command gives the engine decoded text (not bytes) when checking, with the same findings;
* the static code list equals the rule registry; the prefilter only skips files that cannot matter;
* ``walk``/``iter_children`` (type-cached) visit exactly what the plain isinstance version did.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import libcst as cst
import pytest

from starlette_lint import engine, runner
from starlette_lint.codes import RULE_CODES
from starlette_lint.config import DEFAULT, from_mapping
from starlette_lint.engine import check_source
from starlette_lint.model import _SKIP_FIELDS, iter_children, walk
from starlette_lint.prefilter import is_relevant
from starlette_lint.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
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
        "src/starlette_lint/codes.py must list every rule code (the command validates --select with it)")


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
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "STARLETTE_LINT_CACHE_DIR")}
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)
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
    ("x = 1  # served by uvicorn\n", True),  # loose on purpose: a comment passes
    ("from .fastapi import thing\n", True),
    ("import fastapi_users\nfrom starlette_admin import X\nimport uvicorn_worker\n", False),
    ("from myfastapi import X\nimport pystarlette\n", False),
    ("import os\n", False),
])
def test_prefilter_words(source: str, relevant: bool) -> None:
    assert is_relevant(source) is relevant
    assert is_relevant(source.encode()) is relevant


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
                analysis.model.release()
            del analysis
        gc.collect()
        left = [type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith("libcst")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    assert not left, f"{len(left)} LibCST nodes were only reachable through reference cycles: {sorted(set(left))[:10]}"
