"""The shape of the package: the pipeline's layers and no import cycle.

parse -> ``model`` -> ``framework`` -> ``analysis`` (shared analyses) -> ``rules``. Each step
imports only the steps before it, so a module never needs a lazy import to reach back, and
rule modules share nothing but through ``analysis`` (or ``rules.base``). Imports are read from
the source: module level and inside functions alike (a function-level import is still a cycle
at run time); ``if TYPE_CHECKING:`` blocks are annotations only and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

import pytest

from starlette_lint.engine import analyze_source
from starlette_lint.framework import AppKind

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "starlette_lint"


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The package modules ``name`` imports at run time."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    annotations_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            annotations_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in annotations_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _cycle() -> list[str]:
    """One import cycle, as the list of modules around it, or [] (depth-first, three colours)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        path.append(name)
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[name] = 2
        return []

    for name in sorted(GRAPH):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return []


def test_no_import_cycle() -> None:
    assert _cycle() == []


def test_the_checker_finds_a_cycle() -> None:
    """The cycle search itself works: the model reaching back to the framework would be one."""
    GRAPH["starlette_lint.model"].add("starlette_lint.framework")
    try:
        assert set(_cycle()) >= {"starlette_lint.model", "starlette_lint.framework"}
    finally:
        GRAPH["starlette_lint.model"].discard("starlette_lint.framework")


LATER = {
    "starlette_lint.model": ("starlette_lint.framework", "starlette_lint.analysis", "starlette_lint.rules",
                             "starlette_lint.fixes", "starlette_lint.engine"),
    "starlette_lint.framework": ("starlette_lint.analysis", "starlette_lint.rules", "starlette_lint.fixes",
                                 "starlette_lint.engine"),
}


@pytest.mark.parametrize("step", sorted(LATER))
def test_a_step_never_imports_a_later_one(step: str) -> None:
    later = [m for m in GRAPH[step] if m.startswith(LATER[step])]
    assert later == []


def test_shared_analyses_never_import_rules() -> None:
    for name, targets in GRAPH.items():
        if name.startswith("starlette_lint.analysis"):
            assert not [t for t in targets if t.startswith("starlette_lint.rules")], name


def test_rule_modules_share_only_through_analysis() -> None:
    """A rule family module imports no other family module: what two families share is an
    analysis of its own (``starlette_lint.analysis``), so each family module reads as a list of rules."""
    families = {name for name in MODULES if name.startswith("starlette_lint.rules.") and name != "starlette_lint.rules.base"}
    for name in families:
        assert not GRAPH[name] & families, name


# ------------------------------------------------------------------ the seam for other modules
_CUSTOM_APP = """\
from fastapi import HTTPException

from app.factory import AuditedFastAPI

app = AuditedFastAPI(debug=True)
"""


class _Project:
    """What a project index would say: ``app.factory.AuditedFastAPI`` subclasses ``FastAPI``."""

    def app_kind(self, qualname: str) -> Optional[AppKind]:
        return "fastapi" if qualname == "app.factory.AuditedFastAPI" else None


def test_facts_from_other_modules_reach_the_framework_step() -> None:
    """An app class from another module is unknown to one file: nothing is reported. Told
    through the seam that it is a FastAPI subclass, the file's app is judged like any other."""
    alone = analyze_source(_CUSTOM_APP, "app/main.py")
    assert [f.code for f in alone.findings] == []
    told = analyze_source(_CUSTOM_APP, "app/main.py", elsewhere=_Project())
    assert [(f.line, f.code) for f in told.findings] == [(5, "STL504")]
    assert "debug=True on app = FastAPI()" in told.findings[0].message
