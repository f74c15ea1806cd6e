"""Autofixes for ``starlette-lint check --fix``: LibCST codemods keyed by rule code.

The rules only report; fixing lives here, one function per code (or per
group of codes that share one rewrite, like STL201/STL202 -> one lifespan per
app). A fixer receives the :class:`FixContext` (parsed module, model, file)
and one rule :class:`~starlette_lint.finding.Report` (with its node) and
returns a :class:`Plan` (edits to nodes of that same tree, plus imports it
needs) or ``None`` when the rewrite is not certainly safe; the finding then
stays reported.

Edits are functions of the *updated* node, keyed by the original node: every
plan of a file is applied in one bottom-up LibCST transform, so edits nested
in one another compose (an argument rewritten inside a call whose statement
gets a new function inserted before it). Imports are added once per file,
after the module's leading imports, reusing an existing
``from x import ...`` line where there is one.

:func:`fix_module` is the driver: plan, apply, check that the result still
compiles, and repeat (a fix can make another finding fixable) until nothing
changes; the caller re-checks the final code.
"""

from __future__ import annotations

import functools
import importlib
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Optional, Union

import libcst as cst

from ..finding import Report
from ..framework import Framework
from ..model import Model, Scope
from ..names import canonical

Change = Callable[[cst.CSTNode], Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel[cst.CSTNode]]]
Fixer = Callable[["FixContext", Report], Optional["Plan"]]

FIXERS: dict[str, Fixer] = {}
# the releases a fixer's rewrite needs: (package, first release), by code; a fix is applied only
# when every release the project targets has it (versions.Target.at_least)
NEEDS: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {}
_FAMILIES = ("eventloop", "lifespan", "middleware", "requests", "deployment", "migration")
_loaded = False


def fixer(*codes: str, needs: tuple[tuple[str, tuple[int, ...]], ...] = ()) -> Callable[[Fixer], Fixer]:
    """Register a fixer for one or more rule codes; ``needs``: the releases its rewrite relies on,
    e.g. ``(("starlette", (0, 48)),)`` for a name Starlette 0.48 added."""

    def register(fn: Fixer) -> Fixer:
        for code in codes:
            FIXERS[code] = fn
            NEEDS[code] = needs
        return fn

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in _FAMILIES:
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True


def fixable_codes() -> frozenset[str]:
    _load()
    return frozenset(FIXERS)


def fix_doc(code: str) -> Optional[str]:
    """What ``--fix`` does for a code (the fixer's docstring), for ``starlette-lint rule``."""
    _load()
    fn = FIXERS.get(code)
    if fn is None or not fn.__doc__:
        return None
    import inspect

    text = inspect.cleandoc(fn.__doc__).replace("``", "`")
    needs = NEEDS.get(code)
    if needs:
        from ..versions import show

        wanted = " and ".join(f"{'Starlette' if p == 'starlette' else 'FastAPI'} >= {show(v)}" for p, v in needs)
        text += (f"\n\nApplied only when every release the project targets is {wanted} (see "
                 f"`check --show-settings`); otherwise the finding stays, unfixed.")
    return text


@dataclass(frozen=True)
class ImportNeed:
    module: str
    name: Optional[str]  # None: ``import module``

    @property
    def binds(self) -> str:
        return self.name if self.name is not None else self.module.split(".")[0]


@dataclass(eq=False)
class Plan:
    """One safe rewrite: edits keyed by original node, plus the imports it needs."""

    description: str
    edits: list[tuple[cst.CSTNode, Change, int]] = field(default_factory=list)
    imports: list[ImportNeed] = field(default_factory=list)

    def edit(self, node: cst.CSTNode, change: Change, *, last: bool = False) -> "Plan":
        """Change ``node``; ``last`` edits (inserting statements, removing) run after the others on it."""
        self.edits.append((node, change, 1 if last else 0))
        return self


class FixContext:
    """Per-file state while fixes are planned: the tree, names and imports taken so far."""

    def __init__(self, module: cst.Module, model: Model, framework: Framework, filename: str,
                 reports: Iterable[Report] = ()) -> None:
        self.module = module
        self.model = model
        self.framework = framework
        self.filename = filename
        self.reports = list(reports)
        self.memo: dict[Hashable, Optional[Plan]] = {}
        self.imports: list[ImportNeed] = []  # of accepted plans
        self.reserved: set[str] = set()  # names bound by accepted plans' new code
        self._pending_imports: list[ImportNeed] = []
        self._pending_names: set[str] = set()

    # ---------------------------------------------------------------- text
    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def parse_statement(self, text: str) -> cst.BaseStatement:
        return cst.parse_statement(text, config=self.module.config_for_parsing)

    def parse_expression(self, text: str) -> cst.BaseExpression:
        return cst.parse_expression(text, config=self.module.config_for_parsing)

    # ---------------------------------------------------------------- names
    def resolves(self, text: str, scope: Scope, qualname: str) -> bool:
        try:
            expr = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return False
        return self.model.qualname(expr, scope) == canonical(qualname)

    def is_free(self, name: str, scope: Optional[Scope] = None) -> bool:
        """``name`` is bound neither where it would be used nor at module level, nor by a pending edit."""
        if name in self.reserved or name in self._pending_names:
            return False
        if any(n.binds == name for n in self.imports + self._pending_imports):
            return False
        if self.model.lookup(name, scope or self.model.scope)[0] is not None:
            return False
        if self.model.scope.bindings.get(name):
            return False
        import builtins

        return not hasattr(builtins, name)

    def reserve(self, name: str) -> None:
        self._pending_names.add(name)

    def fresh_name(self, candidates: Iterable[str], scope: Optional[Scope] = None) -> Optional[str]:
        for name in candidates:
            if name.isidentifier() and self.is_free(name, scope):
                self.reserve(name)
                return name
        return None

    @functools.cached_property
    def _type_checking_imports(self) -> frozenset[int]:
        """ids of the import statements (what import bindings name) under a module-level ``if
        TYPE_CHECKING:``: the names they bind do not exist when the code runs (nor for FastAPI
        resolving annotations)."""
        out: set[int] = set()
        for stmt in self.module.body:
            if isinstance(stmt, cst.If) and self.model.qualname(stmt.test, self.model.scope) in (
                    "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"):
                for inner in stmt.body.body:
                    if isinstance(inner, cst.SimpleStatementLine):
                        out.update(id(small) for small in inner.body if isinstance(small, (cst.Import, cst.ImportFrom)))
        return frozenset(out)

    def reference(self, qualname: str, scope: Optional[Scope] = None, *, style: str = "module") -> Optional[str]:
        """Code that names ``qualname`` from ``scope``, adding an import when the module has none.

        ``style="from"`` prefers ``from contextlib import asynccontextmanager`` over
        ``import contextlib`` when an import is needed.
        """
        scope = scope or self.model.scope
        mod, _, attr = qualname.rpartition(".")
        candidates: list[str] = []
        checking_only = self._type_checking_imports
        for name, bindings in self.model.scope.bindings.items():
            for b in bindings:
                if b.kind != "import" or id(b.node) in checking_only:
                    continue
                if b.qualname == canonical(qualname):
                    candidates.append(name)
                elif b.qualname == mod:
                    candidates.append(f"{name}.{attr}")
        for need in self.imports + self._pending_imports:
            if need.name is None and need.module == mod:
                return qualname
            if need.name == attr and need.module == mod:
                return attr
        for text in candidates:
            if self.resolves(text, scope, qualname):
                return text
        root = mod.split(".")[0]
        options = [("from", attr), ("module", root)] if style == "from" else [("module", root), ("from", attr)]
        for kind, bound in options:
            if self.is_free(bound, scope):
                if kind == "from":
                    self._pending_imports.append(ImportNeed(mod, attr))
                    return attr
                self._pending_imports.append(ImportNeed(mod, None))
                return qualname
        return None

    # ---------------------------------------------------------------- planning
    def _begin(self) -> None:
        self._pending_imports = []
        self._pending_names = set()

    def _commit(self, plan: Plan) -> None:
        plan.imports.extend(n for n in self._pending_imports if n not in plan.imports)
        self.imports.extend(n for n in plan.imports if n not in self.imports)
        self.reserved |= self._pending_names
        self._begin()


def plan_fixes(ctx: FixContext, reports: Iterable[Report]) -> list[tuple[Report, Plan]]:
    """Plans for the given reports (each plan once, even when it covers several reports)."""
    _load()
    out: list[tuple[Report, Plan]] = []
    for report in reports:
        fix = FIXERS.get(report.code)
        plan: Optional[Plan] = None
        ctx._begin()
        if not all(ctx.model.target.at_least(package, v) for package, v in NEEDS.get(report.code, ())):
            continue  # the rewrite would not run on every release the project targets
        if fix is not None:
            try:
                plan = fix(ctx, report)
            except Exception:  # noqa: BLE001 - a fixer bug leaves the finding reported, nothing more
                plan = None
        replacement = report.fix
        if plan is None and replacement is not None and _generic_fix_ok(report):
            plan = Plan(f"{report.code}: rule-supplied replacement")
            plan.edit(report.node, _replace_with(replacement))
        if plan is None:
            ctx._begin()
            continue
        if not any(p is plan for _, p in out):
            ctx._commit(plan)
        out.append((report, plan))
    return out


def _generic_fix_ok(report: Report) -> bool:
    """A rule may hand a replacement node of the reported node's own type as ``fix``."""
    new = report.fix
    return isinstance(new, cst.CSTNode) and type(new) is type(report.node)


def _replace_with(new: cst.CSTNode) -> Change:
    """A change that puts ``new`` in place of the node it is given."""

    def change(_node: cst.CSTNode) -> cst.CSTNode:
        return new

    return change


def memo(ctx: FixContext, key: Hashable, build: Callable[[], Optional[Plan]]) -> Optional[Plan]:
    """One plan per key (e.g. one lifespan per app) however many reports ask for it."""
    if key not in ctx.memo:
        ctx.memo[key] = build()
    return ctx.memo[key]


# ------------------------------------------------------------------ applying
class _Apply(cst.CSTTransformer):
    def __init__(self, changes: dict[int, list[tuple[int, Change]]]) -> None:
        super().__init__()
        self.changes = changes
        self.applied = 0

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        todo = self.changes.get(id(original_node))
        if not todo:
            return updated_node
        result: Any = updated_node
        for _, change in sorted(todo, key=lambda t: t[0]):
            if not isinstance(result, cst.CSTNode):
                break
            result = change(result)
            self.applied += 1
        return result


def apply_plans(module: cst.Module, plans: Iterable[Plan]) -> cst.Module:
    changes: dict[int, list[tuple[int, Change]]] = {}
    imports: list[ImportNeed] = []
    seen: set[int] = set()
    for plan in plans:
        if id(plan) in seen:
            continue
        seen.add(id(plan))
        for node, change, order in plan.edits:
            changes.setdefault(id(node), []).append((order, change))
        imports.extend(n for n in plan.imports if n not in imports)
    new = module.visit(_Apply(changes)) if changes else module
    assert isinstance(new, cst.Module)
    return add_imports(new, imports)


def add_imports(module: cst.Module, needs: Iterable[ImportNeed]) -> cst.Module:
    """Add imports to the module's leading import block, in its groups.

    A ``from m import n`` joins an existing single-line ``from m import ...``;
    otherwise a standard-library import goes after the last standard-library
    import (or first in the block), any other after the last import of the
    block. The import block starts after a docstring and ``__future__``.
    """
    needs = list(needs)
    if not needs:
        return module
    body = list(module.body)
    first = 0  # the first statement that may follow the new import
    end = 0  # just past the leading imports
    for i, stmt in enumerate(body):
        if i == 0 and _is_docstring(stmt):
            first = end = 1
            continue
        if _is_import_line(stmt):
            if _import_root(stmt) == "__future__":
                first = i + 1
            end = i + 1
            continue
        break
    for need in needs:
        if need.name is not None and _merge_from(body, end, need):
            continue
        text = f"from {need.module} import {need.name}\n" if need.name is not None else f"import {need.module}\n"
        new = cst.parse_statement(text, config=module.config_for_parsing)
        stdlib = need.module.split(".")[0] in _STDLIB
        at = end
        if stdlib:
            last_std = [i + 1 for i in range(first, end) if _import_root(body[i]) in _STDLIB]
            at = last_std[-1] if last_std else first
        if at < len(body) and (at == first and at < end):
            # first of the block: take over the next statement's leading lines, then a blank line
            following = body[at]
            new = new.with_changes(leading_lines=following.leading_lines)
            body[at] = following.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        elif at == end and at > 0 and not _is_import_line(body[at - 1]):
            new = new.with_changes(leading_lines=[cst.EmptyLine(indent=False)])  # after the docstring
        body.insert(at, new)
        end += 1
    return module.with_changes(body=body)


def _merge_from(body: list[Union[cst.SimpleStatementLine, cst.BaseCompoundStatement]], end: int, need: ImportNeed) -> bool:
    for i, stmt in enumerate(body[:end]):
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else None
        if (isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None
                and _dotted(small.module) == need.module and isinstance(small.names, (list, tuple))
                and small.lpar is None and need.module != "__future__"):
            names = list(small.names)
            names[-1] = names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            names.append(cst.ImportAlias(name=cst.Name(need.name or "")))
            body[i] = stmt.with_changes(body=[small.with_changes(names=names)])
            return True
    return False


def _import_root(stmt: cst.BaseStatement) -> str:
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
    if isinstance(small, cst.Import):
        return _dotted(small.names[0].name).split(".")[0]
    if isinstance(small, cst.ImportFrom):
        if small.relative:
            return "."
        return _dotted(small.module).split(".")[0] if small.module is not None else ""
    return ""


_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) or frozenset({"asyncio", "contextlib", "time"})


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _is_import_line(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _dotted(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr.value}"
    return ""


# ------------------------------------------------------------------ the loop
def compiles(code: str, filename: str) -> bool:
    try:
        compile(code, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def fix_once(module: cst.Module, model: Model, framework: Framework, filename: str,
             reports: list[Report]) -> Optional[tuple[cst.Module, list[tuple[Report, Plan]]]]:
    """One round: plan every fixable report, apply, and keep the result only if it compiles.

    Returns the new module and the (report, plan) pairs that were applied.
    """
    ctx = FixContext(module, model, framework, filename, reports)
    planned = plan_fixes(ctx, [r for r in reports if r.code in fixable_codes() or _generic_fix_ok(r)])
    plans: list[Plan] = []
    for _, plan in planned:
        if not any(p is plan for p in plans):
            plans.append(plan)
    if not plans:
        return None
    new = _try_apply(module, plans, filename)
    if new is None and len(plans) > 1:
        # one bad plan must not cost the others: keep those that work, one at a time
        kept: list[Plan] = []
        for plan in plans:
            if _try_apply(module, kept + [plan], filename) is not None:
                kept.append(plan)
        plans = kept
        new = _try_apply(module, plans, filename) if plans else None
        planned = [(r, p) for r, p in planned if any(p is k for k in kept)]
    if new is None:
        return None
    return new, planned


def _try_apply(module: cst.Module, plans: list[Plan], filename: str) -> Optional[cst.Module]:
    try:
        new = apply_plans(module, plans)
    except Exception:  # noqa: BLE001 - an edit that LibCST rejects
        return None
    if new.code == module.code or not compiles(new.code, filename):
        return None
    return new


def fixable_reports(module: cst.Module, model: Model, framework: Framework, filename: str,
                    reports: list[Report]) -> dict[int, str]:
    """The reports a fix would be applied to (without applying anything): id of the report ->
    what the fix writes (its plan's description, e.g. ``await asyncio.sleep()``)."""
    ctx = FixContext(module, model, framework, filename, reports)
    wanted = [r for r in reports if r.code in fixable_codes() or _generic_fix_ok(r)]
    if not wanted:
        return {}
    return {id(r): plan.description for r, plan in plan_fixes(ctx, wanted)}
