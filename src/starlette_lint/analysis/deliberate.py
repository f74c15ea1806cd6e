"""Where code exercises a deprecated or removed API on purpose, and when code runs.

Shared by the lifespan (STL2xx) and migration (STL8xx) rules: a finding of a breakage or
migration rule is left out where a test exercises the API deliberately
(:class:`Deliberate`); messages say when the code runs (:func:`when_runs`).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterable, Iterator, Optional, Sequence

import libcst as cst

from ..framework import App, Framework
from ..model import LOCAL, Function, Model, Scope, argument, dotted_name, iter_children, string_value, walk


def when_runs(scope: Optional[Scope]) -> str:
    """When code in ``scope`` runs: ``at import`` at module level (class bodies too), else
    ``when create_app() runs`` naming the innermost function, ``when the lambda is called``."""
    s = scope
    while s is not None:
        if s.kind == "function" and s.function is not None:
            return f"when {s.function.qualname.replace('.<locals>', '')}() runs"
        if s.kind == "lambda":
            return "when the lambda is called"
        s = s.parent
    return "at import"


def file_class(model: Model) -> str:
    """``app``, ``test`` or ``docs`` (see classify.py)."""
    return getattr(model, "file_class", "app")


_EXPECTING = frozenset({"pytest.warns", "pytest.deprecated_call"})
_CATCH_WARNINGS = "warnings.catch_warnings"
_FILTER_CALLS = frozenset({"warnings.simplefilter", "warnings.filterwarnings"})
_FILTER_MARK = "pytest.mark.filterwarnings()"
# categories whose filters say nothing about a deprecation
_OTHER_WARNINGS = frozenset({"ResourceWarning", "RuntimeWarning", "SyntaxWarning", "ImportWarning",
                             "BytesWarning", "UnicodeWarning", "EncodingWarning"})


class Deliberate:
    """Where code exercises a deprecated or removed API on purpose (a test about it).

    A finding of a breakage or migration rule is left out when its node sits in

    * the body of ``with pytest.warns(...)`` / ``with pytest.deprecated_call()``;
    * a function or class decorated with ``@pytest.mark.filterwarnings("ignore...")``,
      directly or through a module-level name bound to that mark
      (``deprecated_lifespan = pytest.mark.filterwarnings(...)`` then
      ``@deprecated_lifespan``), or a module or class whose ``pytestmark`` holds one;
    * in test code (a test file, or a function named ``test*``): the body of ``with
      warnings.catch_warnings()``, or a function that calls
      ``warnings.simplefilter("ignore"...)`` / ``warnings.filterwarnings("ignore"...)``;
    * in a test file: a test function named after the API (``test_run_until_first_complete``),
      or anywhere in a test module named after it (``test_wsgi.py`` for
      ``starlette.middleware.wsgi``), when the rule names the API's subject words.

    Marks and calls are resolved through imports (``model.qualname``), never by text;
    a filter for another category (``ignore::ResourceWarning``) does not count.
    """

    def __init__(self, fw: Framework) -> None:
        self.model = model = fw.model
        self.test_file = file_class(model) == "test"
        self.ids: set[int] = set()
        self.test_names: dict[int, list[str]] = {}
        self._build()

    @classmethod
    def of(cls, fw: Framework) -> "Deliberate":
        """The module's deliberate uses (found once per module)."""
        return fw.derived(cls)

    def covers(self, node: cst.CSTNode, subjects: Iterable[str] = ()) -> bool:
        if id(node) in self.ids:
            return True
        if not self.test_file:
            return False
        words = [s.lower() for s in subjects]
        if not words:
            return False
        stem = PurePath(self.model.filename).stem.lower()
        names = [n.lower() for n in self.test_names.get(id(node), ())]
        return any(w in stem or any(w in n for n in names) for w in words)

    # ------------------------------------------------------------------ build
    def _add(self, node: cst.CSTNode) -> None:
        ids = self.ids
        ids.add(id(node))
        ids.update(id(n) for n in walk(node, into_scopes=True))

    def _build(self) -> None:
        model = self.model
        if self._pytestmark(model.scope):
            self._add(model.module)
            return
        for info in model.classes:
            if self._marked(info.node.decorators, info.outer) or self._pytestmark(info.scope):
                self._add(info.node)
        for fn in model.functions:
            if self._marked(fn.decorators, fn.outer):
                self._add(fn.node)
            if fn.name.startswith("test"):
                for n in walk(fn.node, into_scopes=True):
                    self.test_names.setdefault(id(n), []).append(fn.name)
        for site in model.calls:
            q = model.call_qualname(site)
            if q not in _FILTER_CALLS or not _ignores(site.node, 0, "action", 1 if q == "warnings.simplefilter" else 2):
                continue
            owner = site.function
            if owner is not None and self._in_test(owner):
                self._add(owner.node)
            elif owner is None and self.test_file:
                self._add(model.module)
                return
        if "with" not in model.source:
            return
        for node, scope in scoped_nodes(model):
            if not isinstance(node, cst.With):
                continue
            for i, item in enumerate(node.items):
                call = item.item
                q = model.qualname(call.func, scope) if isinstance(call, cst.Call) else None
                if q in _EXPECTING or (q == _CATCH_WARNINGS and self._test_scope(scope)):
                    self._add(node.body)
                    for later in node.items[i + 1:]:
                        self._add(later)
                    break

    def _in_test(self, fn: Function) -> bool:
        return self._test_scope(fn.scope)

    def _test_scope(self, scope: Scope) -> bool:
        """Test code: a test file, or inside a ``test*`` function or ``Test*`` class."""
        return self.test_file or any(f.lower().startswith("test") for f in _enclosing_names(scope))

    def _marked(self, decorators: Sequence[cst.Decorator], scope: Scope) -> bool:
        return any(self._is_filter_mark(d.decorator, scope) for d in decorators)

    def _is_filter_mark(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        model = self.model
        if model.qualname(expr, scope) != _FILTER_MARK:
            return False
        for _ in range(8):  # a name bound to the mark (bounded: alias chains are short, cycles end)
            if not isinstance(expr, cst.Name):
                break
            found = model.value_of(expr, scope)
            if found is None:
                return False
            expr, scope = found
        return isinstance(expr, cst.Call) and _ignores(expr, 0, "arg")

    def _pytestmark(self, scope: Scope) -> bool:
        bindings = scope.bindings.get("pytestmark")
        if not bindings or len(bindings) != 1 or bindings[0].kind != "assign":
            return False
        value = bindings[0].value
        if value is None:
            return False
        items = [el.value for el in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
        return any(self._is_filter_mark(v, scope) for v in items)


def _enclosing_names(scope: Optional[Scope]) -> Iterator[str]:
    s = scope
    while s is not None:
        if s.kind == "function" and s.function is not None:
            yield s.function.name
        elif s.kind == "class" and s.klass is not None:
            yield s.klass.name
        s = s.parent


def _ignores(call: cst.Call, index: int, name: str, category_index: int = 1) -> bool:
    """The filter call/mark's action is ``ignore`` and its category may be a deprecation."""
    arg = argument(call, index, name)
    text = string_value(arg.value) if arg is not None else None
    if text is None:
        return False
    if name == "action":  # warnings.simplefilter("ignore", category), filterwarnings("ignore", message, category)
        if text != "ignore":
            return False
        category = argument(call, category_index, "category")
        shown = dotted_name(category.value) if category is not None else None
        return shown is None or shown.rsplit(".", 1)[-1] not in _OTHER_WARNINGS
    parts = text.split(":")  # pytest's "action:message:category:module:line"
    if parts[0].strip() != "ignore":
        return False
    named = parts[2].strip() if len(parts) > 2 else ""
    return named.rsplit(".", 1)[-1] not in _OTHER_WARNINGS


def scoped_nodes(model: Model) -> Iterator[tuple[cst.CSTNode, Scope]]:
    """Every node of the module with the scope it is evaluated in (function bodies in theirs)."""
    stack: list[tuple[cst.CSTNode, Scope]] = [(n, model.scope) for n in iter_children(model.module)]
    stack.reverse()
    while stack:
        node, scope = stack.pop()
        yield node, scope
        inner = model.scope_inside(node, scope)
        kids = list(iter_children(node))
        kids.reverse()
        stack.extend((k, inner) for k in kids)


def object_class(app: App) -> str:
    """The class name an AttributeError on the app names (a same-module subclass by its own name)."""
    if app.cls.startswith(LOCAL + "."):
        return app.cls.rsplit(".", 1)[-1]
    return app.class_label
