"""One semantic model of a module, built in a single walk, queried by every rule.

The walk is iterative (deeply nested code cannot exhaust Python's recursion
limit) and does not descend into what no rule needs: whitespace, comments,
docstrings, annotations and type parameters. It records

* scopes and their name bindings (imports, defs, classes, assignments,
  parameters), so any expression can be resolved to a qualified name through
  imports and aliases (``from time import sleep as nap`` -> ``time.sleep``;
  a locally defined ``sleep`` is not);
* every call with its enclosing scope and whether it is awaited or discarded;
* every function (async or not, generator or not, decorators, returns,
  ``global`` statements) and class (resolved bases).

Framework facts (apps, routes, middleware, handlers, lifespans, the role of
each function) are the next step of the pipeline, :mod:`framework`, built
from these records; the model knows nothing of them.

Qualified names
---------------
``qualname(expr, scope)`` returns a dotted string or ``None``:

* ``requests.get`` for an imported function,
* ``requests.Session()`` for the *result* of calling it (``()`` marks a call),
  so a method on such an object is ``requests.Session().get``, and a variable
  bound to it resolves the same way (``s = requests.Session(); s.get``),
* ``<local>.helper`` for a function or class defined in this module,
* ``builtins.open`` for an unshadowed builtin,
* ``starlette.requests.Request()`` for a parameter annotated ``Request``.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
from typing import Any, Callable, Iterable, Iterator, Literal, Optional, Sequence, Union, cast

import libcst as cst

from .config import Config
from .names import canonical
from .versions import Target, releases_for

LOCAL = "<local>"
_BUILTIN_NAMES = frozenset(dir(builtins))


BindingKind = Literal["import", "def", "class", "assign", "with", "param", "annot", "unpack", "other"]
ScopeKind = Literal["module", "function", "class", "lambda"]


class Binding:
    """One way a name gets a value in a scope."""

    __slots__ = ("kind", "node", "value", "qualname", "target", "index")

    def __init__(
        self,
        kind: BindingKind,
        node: cst.CSTNode,
        value: Optional[cst.BaseExpression] = None,
        qualname: Optional[str] = None,
        target: Optional[Union["Function", "ClassInfo"]] = None,
        index: int = -1,
    ) -> None:
        self.kind = kind
        self.node = node  # the statement / parameter that binds
        # assigned expression (assign/with), annotation (param/annot); for "unpack" (``a, b = ...``)
        # the element of a literal tuple (index -1), or the call whose result's ``index`` it takes
        self.value = value
        self.qualname = qualname  # import target
        self.target = target  # Function or ClassInfo for def/class
        self.index = index


class Scope:
    __slots__ = ("kind", "node", "parent", "bindings", "function", "globals", "klass")

    def __init__(self, kind: ScopeKind, node: cst.CSTNode, parent: Optional["Scope"]) -> None:
        self.kind = kind
        self.node = node
        self.parent = parent
        self.bindings: dict[str, list[Binding]] = {}
        self.function: Optional[Function] = None  # for function / lambda scopes
        self.klass: Optional[ClassInfo] = None  # for class scopes
        self.globals: set[str] = set()

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def enclosing_function(self) -> Optional["Function"]:
        """The innermost function (not lambda) this scope is in, or None."""
        s: Optional[Scope] = self
        while s is not None:
            if s.kind == "function":
                return s.function
            s = s.parent
        return None


class Function:
    """A ``def`` / ``async def`` in the module."""

    __slots__ = (
        "node", "name", "qualname", "is_async", "scope", "outer", "klass",
        "calls", "is_generator", "returns", "globals", "awaits",
    )

    def __init__(self, node: cst.FunctionDef, qualname: str, outer: Scope, klass: Optional["ClassInfo"]) -> None:
        self.node = node
        self.name = node.name.value
        self.qualname = qualname
        self.is_async = node.asynchronous is not None
        self.outer = outer  # the scope the def statement sits in
        self.klass = klass  # the class when this is a method
        self.scope = Scope("function", node, outer)
        self.scope.function = self
        self.calls: list[CallSite] = []  # calls in this body, not in nested defs/lambdas
        self.is_generator = False
        self.returns: list[cst.Return] = []
        self.globals: list[cst.Global] = []
        self.awaits = 0

    @property
    def decorators(self) -> Sequence[cst.Decorator]:
        return self.node.decorators

    @property
    def params(self) -> cst.Parameters:
        return self.node.params

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Function {self.qualname}>"


class ClassInfo:
    __slots__ = ("node", "name", "qualname", "outer", "scope", "methods", "bases")

    def __init__(self, node: cst.ClassDef, qualname: str, outer: Scope) -> None:
        self.node = node
        self.name = node.name.value
        self.qualname = qualname
        self.outer = outer
        self.scope = Scope("class", node, outer)
        self.scope.klass = self
        self.methods: dict[str, Function] = {}
        self.bases: list[str] = []  # resolved qualnames of the bases (after the walk)

    def __repr__(self) -> str:  # pragma: no cover
        return f"<ClassInfo {self.qualname}>"


class CallSite:
    """A call expression and where it sits."""

    __slots__ = ("node", "scope", "parent", "awaited", "discarded", "decorates", "_qualname", "_resolved")

    def __init__(self, node: cst.Call, scope: Scope, parent: Optional[cst.CSTNode]) -> None:
        self.node = node
        self.scope = scope
        self.parent = parent  # the syntactic parent node (Await, Expr, Assign, Arg, ...)
        self.awaited = False
        self.discarded = False  # the value of an expression statement
        self.decorates: Optional[Function | ClassInfo] = None  # ``@x(...)`` on a def/class
        self._qualname: Optional[str] = None
        self._resolved = False  # _qualname holds the answer

    @property
    def function(self) -> Optional[Function]:
        """The function whose body holds the call (lambdas count as their enclosing def)."""
        return self.scope.enclosing_function

    @property
    def in_lambda(self) -> bool:
        s: Optional[Scope] = self.scope
        while s is not None and s.kind != "function":
            if s.kind == "lambda":
                return True
            s = s.parent
        return False


_SLOTS: dict[type, tuple[str, ...]] = {}


def _slot_names(cls: type) -> tuple[str, ...]:
    names = _SLOTS.get(cls)
    if names is None:
        found: list[str] = []
        for klass in cls.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            found += [slots] if isinstance(slots, str) else [n for n in slots if n not in ("__dict__", "__weakref__")]
        names = _SLOTS[cls] = tuple(found)
    return names


# Fields that never hold code a rule needs: whitespace, punctuation, comments.
_SKIP_FIELDS = frozenset(
    {
        "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer",
        "comma", "semicolon", "colon", "equal", "dot", "star", "whitespace_before",
        "whitespace_after", "whitespace_before_colon", "whitespace_after_colon",
        "whitespace_after_def", "whitespace_after_name", "whitespace_before_params",
        "whitespace_after_class", "whitespace_before_colon", "whitespace_after_star",
        "whitespace_after_param", "whitespace_before_indicator", "whitespace_after_indicator",
        "whitespace_after_await", "whitespace_after_async", "whitespace_after_lambda",
        "whitespace_before_args", "whitespace_after_arg", "whitespace_after_for",
        "whitespace_before_in", "whitespace_after_in", "whitespace_before_if",
        "whitespace_after_if", "whitespace_after_import", "whitespace_after_from",
        "whitespace_before_import", "whitespace_after_as", "whitespace_before_as",
        "whitespace_after_del", "whitespace_after_return", "whitespace_after_yield",
        "whitespace_after_global", "whitespace_after_nonlocal", "whitespace_after_raise",
        "whitespace_after_assert", "whitespace_after_with", "whitespace_after_while",
        "whitespace_after_elif", "whitespace_after_else", "whitespace_after_except",
        "whitespace_after_try", "whitespace_after_finally", "whitespace_before_expression",
        "whitespace_after_expression", "whitespace_after_case", "whitespace_after_match",
        "whitespace_after_at", "whitespace_after_type", "whitespace_after_from_",
        "whitespace_before_walrus", "whitespace_after_walrus", "indent",
        "operator", "asynchronous", "annotation", "returns", "type_parameters",
        "first_newline", "newline", "trailing_whitespace", "default_newline",
        "default_indent", "encoding", "has_trailing_newline",
    }
)
_FIELD_CACHE: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _FIELD_CACHE.get(cls)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(cls) if f.name not in _SKIP_FIELDS)
        _FIELD_CACHE[cls] = fields
    return fields


# What a field value is, by its type: 1 a node, 2 a sequence (tuple or list), 0
# anything else. ``isinstance(x, cst.CSTNode)`` goes through ABCMeta, several
# times slower than this lookup, and walks do it for every field of every node.
_KIND: dict[type, int] = {}


def _kind(t: type) -> int:
    kind = _KIND.get(t)
    if kind is None:
        kind = _KIND[t] = 1 if issubclass(t, cst.CSTNode) else 2 if issubclass(t, (tuple, list)) else 0
    return kind


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """:func:`iter_children` as a list."""
    fields = _FIELD_CACHE.get(type(node)) or _child_fields(type(node))
    out: list[cst.CSTNode] = []
    kinds = _KIND
    for name in fields:
        value = getattr(node, name)
        kind = kinds.get(type(value))
        if kind is None:
            kind = _kind(type(value))
        if kind == 1:
            out.append(value)
        elif kind == 2:
            for item in value:
                k = kinds.get(type(item))
                if (k if k is not None else _kind(type(item))) == 1:
                    out.append(item)
    return out


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct children of ``node`` that can hold code (no whitespace)."""
    return iter(_children(node))


_SCOPE_BOUNDARIES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_BOUNDARY: dict[type, bool] = {}


def walk(node: cst.CSTNode, *, into_scopes: bool = False) -> Iterator[cst.CSTNode]:
    """Pre-order iteration below ``node`` (not ``node`` itself), in source order.

    Nested functions, classes and lambdas are not entered unless
    ``into_scopes``: their bodies run at another time.
    """
    stack = _children(node)
    stack.reverse()
    pop, extend, boundary = stack.pop, stack.extend, _BOUNDARY
    while stack:
        child = pop()
        yield child
        if not into_scopes:
            t = type(child)
            stop = boundary.get(t)
            if stop is None:
                stop = boundary[t] = issubclass(t, _SCOPE_BOUNDARIES)
            if stop:
                continue
        kids = _children(child)
        if kids:
            kids.reverse()
            extend(kids)


def dotted_name(expr: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` as text, for a pure Name/Attribute chain."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
        parts.reverse()
        return ".".join(parts)
    return None


def _import_module_name(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    if node.module is None:
        return dots
    name = dotted_name(node.module) or ""
    return dots + name


def _target_names(target: cst.BaseExpression) -> Iterator[cst.Name]:
    """Names bound by an assignment target (tuples unpacked, attributes/subscripts skipped)."""
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from _target_names(el.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


class Model:
    """Everything rules know about one module."""

    def __init__(self, module: cst.Module, source: str, filename: str = "<unknown>",
                 config: Optional[Config] = None) -> None:
        self.module = module
        self.source = source
        self.filename = filename
        self.config = config
        self.scope = Scope("module", module, None)
        self.functions: list[Function] = []
        self.classes: list[ClassInfo] = []
        self.calls: list[CallSite] = []
        self.function_of: dict[int, Function] = {}  # id(FunctionDef) -> Function
        self.class_of: dict[int, ClassInfo] = {}  # id(ClassDef) -> ClassInfo
        self.call_of: dict[int, CallSite] = {}  # id(Call) -> CallSite
        self.imported: set[str] = set()  # every imported qualified name (canonical)
        self.file_class: str = "app"  # app | test | docs, set by the engine (classify.py)
        # the Starlette/FastAPI releases the project runs on (versions.py)
        self.target: Target = releases_for(config, filename)
        # Python's ast of the source: the caller's (flake8 hands its own over), else parsed on
        # first use by python_tree()
        self._python_tree: Optional[ast.Module] = None
        self._tree_known = False  # _python_tree holds the answer (a tree, or None: Python cannot parse it)
        # id(node) -> index of the top-level statement holding it, for every node the
        # walk visits (and call arguments, params, decorators, import aliases): lets
        # positions replay just that statement.
        self.top_of: dict[int, int] = {}
        # (id(scope), name, depth) -> qualname: a name bound many times to names bound
        # many times would otherwise be resolved once per path, exponentially in the depth
        self._name_memo: dict[tuple[int, str, int], Optional[str]] = {}
        # class lookups, filled on first use (after the walk, when every class and base is known)
        self._class_index: Optional[dict[str, ClassInfo]] = None
        self._method_memo: dict[tuple[int, str], Optional[Function]] = {}
        self._ancestors_memo: dict[int, list[str]] = {}
        self._cycle_memo: dict[int, bool] = {}
        self._bases_memo: dict[int, list[ClassInfo]] = {}
        # id(decorator call) -> the def or class it decorates (the walk meets the call later)
        self._decorator_targets: dict[int, Union[Function, ClassInfo]] = {}
        self._build()

    # ------------------------------------------------------------------ walk
    def _build(self) -> None:
        """The one walk: each node's handler records what it binds, calls or returns.

        Work items are ``(node, scope, parent, flags)``; flags: 1 the node is an awaited
        expression, 2 the value of an expression statement. A handler returns True when
        the node's children are walked the generic way (in the same scope), False when it
        pushed what needs walking itself (or nothing).
        """
        stack: list[_Item] = []
        self._push = push = stack.append
        body = [s for i, s in enumerate(self.module.body) if not (i == 0 and _is_docstring(s))]
        for stmt in reversed(body):
            push((stmt, self.scope, self.module, 0))
        module_node = self.module
        index_of = {id(stmt): i for i, stmt in enumerate(module_node.body)}
        top_of = self.top_of
        top = self._top = 0
        handlers = _HANDLERS
        leaves = _LEAVES
        pop = stack.pop
        while stack:
            node, scope, parent, flags = pop()
            if parent is module_node:
                top = self._top = index_of[id(node)]
            top_of[id(node)] = top
            t = type(node)
            if t in leaves:
                continue
            handle = handlers.get(t)
            if handle is not None and not handle(self, node, scope, parent, flags):
                continue
            for kid in reversed(_children(node)):
                push((kid, scope, node, 0))
        self._resolve_class_bases()

    # One handler per node type (see _HANDLERS): True walks the children generically.
    def _on_call(self, node: cst.Call, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        site = CallSite(node, scope, parent)
        if flags & 1:
            site.awaited = True
        if flags & 2:
            site.discarded = True
        self.calls.append(site)
        self.call_of[id(node)] = site
        fn = scope.enclosing_function
        if fn is not None:
            fn.calls.append(site)  # calls inside lambdas count for the def
        top, top_of, push = self._top, self.top_of, self._push
        for arg in node.args:
            top_of[id(arg)] = top
        for arg in reversed(node.args):
            push((arg.value, scope, node, 0))
        push((node.func, scope, node, 0))
        return False

    def _on_attribute(self, node: cst.Attribute, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        self._push((node.value, scope, node, 0))
        return False

    def _on_await(self, node: cst.Await, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        fn = scope.enclosing_function
        if fn is not None:
            fn.awaits += 1
        self._push((node.expression, scope, node, 1))
        return False

    def _on_expr(self, node: cst.Expr, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        value = node.value
        if not isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):  # else docstring-like
            self._push((value, scope, node, 2))
        return False

    def _on_function(self, node: cst.FunctionDef, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        self._enter_function(node, scope)
        return False

    def _on_class(self, node: cst.ClassDef, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        self._enter_class(node, scope)
        return False

    def _on_lambda(self, node: cst.Lambda, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        lam = Scope("lambda", node, scope)
        push = self._push
        for p in _all_params(node.params):
            lam.bind(p.name.value, Binding("param", p))
            if p.default is not None:
                push((p.default, scope, p, 0))
        push((node.body, lam, node, 0))
        return False

    def _import_positions(self, names: Sequence[cst.ImportAlias]) -> None:
        top, top_of = self._top, self.top_of
        for alias in names:
            top_of[id(alias)] = top
            top_of[id(alias.name)] = top

    def _on_import(self, node: cst.Import, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        self._import_positions(node.names)
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
                qual = canonical(full)
            else:
                local = full.split(".", 1)[0]
                qual = local
            self.imported.add(canonical(full))
            scope.bind(local, Binding("import", node, qualname=qual))
        return False

    def _on_import_from(self, node: cst.ImportFrom, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        mod = _import_module_name(node)
        names = node.names
        if isinstance(names, cst.ImportStar):
            self.imported.add(canonical(mod + ".*"))
            return False
        self._import_positions(names)
        for alias in names:
            name = dotted_name(alias.name) or ""
            full = canonical(f"{mod}.{name}" if not mod.endswith(".") else f"{mod}{name}")
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.imported.add(full)
            scope.bind(local, Binding("import", node, qualname=full))
        return False

    def _on_assign(self, node: cst.Assign, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        targets = node.targets
        value = node.value
        push = self._push
        first = targets[0].target
        if len(targets) == 1 and isinstance(first, cst.Name):
            scope.bind(first.value, Binding("assign", node, value=value))
        elif len(targets) == 1 and _unpacks(first, value):
            # ``p1, p2 = Path("a"), Path("b")`` / ``args, client = make_clients()``: each name's type
            # is known from its element (see _binding_qualname), its value is not tracked
            elements = cast(Union[cst.Tuple, cst.List], first).elements
            items = value.elements if isinstance(value, (cst.Tuple, cst.List)) else None
            for i, el in enumerate(elements):
                name = cast(cst.Name, el.value)
                if items is not None:
                    scope.bind(name.value, Binding("unpack", node, value=items[i].value))
                else:
                    scope.bind(name.value, Binding("unpack", node, value=value, index=i))
        else:
            for at in targets:
                tgt = at.target
                for n in _target_names(tgt):
                    scope.bind(n.value, Binding("other", node))
                if not isinstance(tgt, cst.Name):
                    push((tgt, scope, node, 0))
        push((value, scope, node, 0))
        return False

    def _on_ann_assign(self, node: cst.AnnAssign, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        tgt = node.target
        value = node.value
        if isinstance(tgt, cst.Name):
            if value is not None:
                scope.bind(tgt.value, Binding("assign", node, value=value))
            else:
                scope.bind(tgt.value, Binding("annot", node, value=node.annotation.annotation))
        else:
            self._push((tgt, scope, node, 0))
        if value is not None:
            self._push((value, scope, node, 0))
        return False

    def _on_aug_assign(self, node: cst.AugAssign, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        tgt = node.target
        if isinstance(tgt, cst.Name):
            scope.bind(tgt.value, Binding("other", node))
        else:
            self._push((tgt, scope, node, 0))
        self._push((node.value, scope, node, 0))
        return False

    def _on_with_item(self, node: cst.WithItem, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        asname = node.asname
        if asname is not None:
            tgt = asname.name
            if isinstance(tgt, cst.Name):
                scope.bind(tgt.value, Binding("with", node, value=node.item))
            else:
                for n in _target_names(tgt):
                    scope.bind(n.value, Binding("other", node))
        self._push((node.item, scope, node, 0))
        return False

    def _on_loop_target(self, node: Union[cst.For, cst.CompFor], scope: Scope, parent: Optional[cst.CSTNode],
                        flags: int) -> bool:
        for n in _target_names(node.target):
            scope.bind(n.value, Binding("other", node))
        return True

    def _on_named_expr(self, node: cst.NamedExpr, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        if isinstance(node.target, cst.Name):
            scope.bind(node.target.value, Binding("assign", node, value=node.value))
        return True

    def _on_except(self, node: Union[cst.ExceptHandler, cst.ExceptStarHandler], scope: Scope,
                   parent: Optional[cst.CSTNode], flags: int) -> bool:
        name = node.name
        if name is not None and isinstance(name.name, cst.Name):
            scope.bind(name.name.value, Binding("other", node))
        return True

    def _on_global(self, node: cst.Global, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        for item in node.names:
            scope.globals.add(item.name.value)
        if scope.kind == "function" and scope.function is not None:
            scope.function.globals.append(node)
        return False

    def _on_nonlocal(self, node: cst.Nonlocal, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        return False

    def _on_yield(self, node: cst.Yield, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        if scope.kind == "function" and scope.function is not None:
            scope.function.is_generator = True
        return True

    def _on_return(self, node: cst.Return, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        if scope.kind == "function" and scope.function is not None:
            scope.function.returns.append(node)
        return True

    def _on_match_capture(self, node: Union[cst.MatchAs, cst.MatchStar], scope: Scope, parent: Optional[cst.CSTNode],
                          flags: int) -> bool:
        if isinstance(node.name, cst.Name):
            scope.bind(node.name.value, Binding("other", node))
        return True

    def _on_match_mapping(self, node: cst.MatchMapping, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        if isinstance(node.rest, cst.Name):
            scope.bind(node.rest.value, Binding("other", node))
        return True

    def _on_type_alias(self, node: cst.TypeAlias, scope: Scope, parent: Optional[cst.CSTNode], flags: int) -> bool:
        scope.bind(node.name.value, Binding("other", node))
        return False

    def _enter_function(self, node: cst.FunctionDef, scope: Scope) -> None:
        klass = scope.klass if scope.kind == "class" else None
        prefix = ""
        if scope.kind == "class" and klass is not None:
            prefix = klass.qualname + "."
        elif scope.kind == "function" and scope.function is not None:
            prefix = scope.function.qualname + ".<locals>."
        fn = Function(node, prefix + node.name.value, scope, klass)
        self.functions.append(fn)
        self.function_of[id(node)] = fn
        scope.bind(node.name.value, Binding("def", node, target=fn))
        if klass is not None:
            klass.methods[node.name.value] = fn
        fscope = fn.scope
        top = self._top
        for dec in node.decorators:
            self.top_of[id(dec)] = top
        for p in _all_params(node.params):
            self.top_of[id(p)] = top
            ann = p.annotation.annotation if p.annotation is not None else None
            fscope.bind(p.name.value, Binding("param", p, value=ann))
        push = self._push
        # body first (popped last), then params defaults and decorators (outer scope)
        body = node.body
        stmts: Sequence[cst.CSTNode]
        if isinstance(body, cst.IndentedBlock):
            stmts = [s for i, s in enumerate(body.body) if not (i == 0 and _is_docstring(s))]
        else:
            stmts = list(body.body)
        for stmt in reversed(stmts):
            push((stmt, fscope, node, 0))
        for p in reversed(list(_all_params(node.params))):
            if p.default is not None:
                push((p.default, scope, p, 0))
            # ``db: Annotated[Session, Depends(get_db)]``: FastAPI evaluates the
            # metadata (the rest of the annotation is not walked).
            for meta in _annotated_metadata(p.annotation.annotation if p.annotation is not None else None):
                push((meta, scope, p, 0))
        for dec in reversed(node.decorators):
            push((dec.decorator, scope, dec, 0))
        self._pending_decorated(node.decorators, fn)

    def _enter_class(self, node: cst.ClassDef, scope: Scope) -> None:
        prefix = ""
        if scope.kind == "class" and scope.klass is not None:
            prefix = scope.klass.qualname + "."
        elif scope.kind == "function" and scope.function is not None:
            prefix = scope.function.qualname + ".<locals>."
        info = ClassInfo(node, prefix + node.name.value, scope)
        self.classes.append(info)
        self.class_of[id(node)] = info
        scope.bind(node.name.value, Binding("class", node, target=info))
        push = self._push
        body = node.body
        stmts: Sequence[cst.BaseStatement | cst.BaseSmallStatement] = body.body
        stmts = [s for i, s in enumerate(stmts) if not (i == 0 and _is_docstring(s))]
        for stmt in reversed(stmts):
            push((stmt, info.scope, node, 0))
        for arg in reversed(node.bases):
            push((arg.value, scope, node, 0))
        for arg in reversed(node.keywords):
            push((arg.value, scope, node, 0))
        for dec in reversed(node.decorators):
            push((dec.decorator, scope, dec, 0))
        self._pending_decorated(node.decorators, info)

    def _pending_decorated(self, decorators: Sequence[cst.Decorator], target: Union[Function, ClassInfo]) -> None:
        # Decorator calls are walked later (LIFO); remember which def they decorate.
        for dec in decorators:
            if isinstance(dec.decorator, cst.Call):
                self._decorator_targets[id(dec.decorator)] = target

    def _resolve_class_bases(self) -> None:
        targets = self._decorator_targets
        for site in self.calls:
            target = targets.get(id(site.node))
            if target is not None:
                site.decorates = target
        for info in self.classes:
            bases = []
            for arg in info.node.bases:
                q = self.qualname(arg.value, info.outer)
                if q is not None:
                    bases.append(q)
            info.bases = bases

    # ------------------------------------------------------------- resolution
    def lookup(self, name: str, scope: Scope) -> tuple[Optional[list[Binding]], Optional[Scope]]:
        """The bindings a name refers to from ``scope`` (Python's LEGB, classes skipped)."""
        s: Optional[Scope] = scope
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            if name in s.globals and s is not self.scope:
                # ``global x`` sends the lookup to the module, once: a ``global``
                # statement at module level (legal, a no-op) must not send it back there
                s = self.scope
                first = False
                b = s.bindings.get(name)
                return (b, s) if b else (None, None)
            b = s.bindings.get(name)
            if b:
                return b, s
            first = False
            s = s.parent
        return None, None

    def qualname(self, expr: Optional[cst.BaseExpression], scope: Scope, _depth: int = 0) -> Optional[str]:
        """Resolve an expression to a qualified name (see module docstring), or None."""
        if expr is None or _depth > 12:
            return None
        t = type(expr)  # ``type() is`` rather than isinstance: this runs for every name a rule asks about
        if t is cst.Name:
            name = cast(cst.Name, expr).value
            key = (id(scope), name, _depth)
            memo = self._name_memo
            if key in memo:
                return memo[key]
            # (depth grows with each step, so a cycle ends at the bound; nothing is stored
            # for a resolution that an exception interrupted)
            memo[key] = result = self._name_qualname(name, scope, _depth)
            return result
        if t is cst.Attribute:
            attribute = cast(cst.Attribute, expr)
            base = self.qualname(attribute.value, scope, _depth + 1)
            if base is None:
                return None
            return canonical(base + "." + attribute.attr.value)
        if t is cst.Call:
            base = self.qualname(cast(cst.Call, expr).func, scope, _depth + 1)
            return None if base is None else base + "()"
        if t is cst.Await:
            return self.qualname(cast(cst.Await, expr).expression, scope, _depth + 1)
        return None

    def _name_qualname(self, name: str, scope: Scope, depth: int) -> Optional[str]:
        bindings, where = self.lookup(name, scope)
        if bindings is None or where is None:
            return "builtins." + name if name in _BUILTIN_NAMES else None
        result: Optional[str] = None
        for b in bindings:
            q = self._binding_qualname(name, b, where, depth)
            if q is None or (result is not None and q != result):
                return None
            result = q
        return result

    def _binding_qualname(self, name: str, b: Binding, where: Scope, depth: int) -> Optional[str]:
        kind = b.kind
        if kind == "import":
            return b.qualname
        if kind == "def" or kind == "class":
            return None if b.target is None else f"{LOCAL}.{b.target.qualname}"
        if kind == "assign" or kind == "with":
            value = b.value
            # ``x = x.y()`` style self-reference: resolve in the outer scope.
            q = self.qualname(value, where, depth + 1)
            if not isinstance(b.node, cst.AnnAssign):
                return q
            if not isinstance(value, cst.Call):
                if q is not None or not isinstance(value, cst.Ellipsis):
                    return q
                # ``client: httpx.Client = ...`` (a stub, a placeholder): the annotation says
                return self._instance_of(b.node.annotation.annotation, where, depth)
            helper = self.resolve_function(value.func, where)
            if q is None or helper is not None:
                # ``client: httpx.Client = get_client()``: what a helper of this module returns is
                # not known, what the annotations say is (the helper's own first)
                returns = helper.node.returns if helper is not None else None
                typed = self._instance_of(returns.annotation if returns is not None else b.node.annotation.annotation,
                                          where, depth)
                return q if typed is None else typed
            return q
        if kind == "unpack":
            return self._unpacked_qualname(b, where, depth)
        if kind == "param" or kind == "annot":
            return self._instance_of(b.value, where.parent or where, depth)
        return None

    def _instance_of(self, annotation: Optional[cst.BaseExpression], scope: Scope, depth: int) -> Optional[str]:
        """What a value an annotation describes is: ``httpx.Client()`` for ``httpx.Client`` (also
        ``Optional[...]``, ``Annotated[...]``, ``X | None``), or None."""
        ann = plain_annotation(annotation)
        q = self.qualname(ann, scope, depth + 1) if ann is not None else None
        return None if q is None else q + "()"

    def _unpacked_qualname(self, b: Binding, where: Scope, depth: int) -> Optional[str]:
        """What a name unpacked from a tuple is: its literal element's value, or the element of
        the ``tuple[A, B]`` a same-module helper's return annotation declares (``A()``)."""
        value = b.value
        if b.index < 0 or value is None:
            return self.qualname(value, where, depth + 1)
        if not isinstance(value, cst.Call):
            return None
        helper = self.resolve_function(value.func, where)
        returns = helper.node.returns if helper is not None else None
        elements = _tuple_annotation(returns.annotation) if returns is not None else None
        if elements is None or b.index >= len(elements):
            return None
        return self._instance_of(elements[b.index], where, depth)

    def value_before(self, expr: cst.BaseExpression, node: cst.CSTNode) -> Optional[tuple[cst.BaseExpression, Scope]]:
        """For a module-level name bound several times, all by plain assignments at the module's
        top level (``app = FastAPI()`` ... ``app = SentryAsgiMiddleware(app)``), the value of the
        last one above the top-level statement holding ``node`` (a decorator, a call there)."""
        if not isinstance(expr, cst.Name):
            return None
        bindings = self.scope.bindings.get(expr.value)
        at = self.top_of.get(id(node))
        if not bindings or len(bindings) < 2 or at is None:
            return None
        body = self.module.body
        best: Optional[tuple[int, int, Binding]] = None
        for b in bindings:
            i = self.top_of.get(id(b.node))
            stmt = body[i] if i is not None else None
            if i is None or b.kind != "assign" or not isinstance(stmt, cst.SimpleStatementLine):
                return None  # bound in a block, by an import, a def...: not a plain sequence
            k = next((k for k, small in enumerate(stmt.body) if small is b.node), None)
            if k is None:
                return None
            if i < at and (best is None or (i, k) > best[:2]):
                best = (i, k, b)  # the last one above (``app = A(); app = B()`` on one line: B)
        if best is None or best[2].value is None:
            return None
        return best[2].value, self.scope

    def value_of(self, expr: cst.BaseExpression, scope: Scope) -> Optional[tuple[cst.BaseExpression, Scope]]:
        """For a Name bound exactly once by assignment, its value and scope."""
        if not isinstance(expr, cst.Name):
            return None
        bindings, where = self.lookup(expr.value, scope)
        if not bindings or len(bindings) != 1 or bindings[0].kind not in ("assign", "with"):
            return None
        value = bindings[0].value
        return None if value is None or where is None else (value, where)

    def constant(self, expr: cst.BaseExpression, scope: Optional[Scope] = None, _depth: int = 0) -> Optional[cst.BaseExpression]:
        """Follow a name to the literal it is bound to exactly once; literals pass through.

        Returns the literal node, or None when the value is not statically known
        (settings, environment, function calls...).
        """
        scope = scope or self.scope
        while isinstance(expr, cst.Name) and _depth < 8:
            if expr.value in ("True", "False", "None"):
                return expr
            found = self.value_of(expr, scope)
            if found is None:
                return None
            expr, scope = found
            _depth += 1
        if _is_literal(expr):
            return expr
        return None

    def resolve_function(self, expr: cst.BaseExpression, scope: Scope) -> Optional[Function]:
        """The same-module function an expression names (``f``, ``self.f``, ``Cls.f``)."""
        if isinstance(expr, cst.Name):
            bindings, _ = self.lookup(expr.value, scope)
            if bindings and len(bindings) == 1 and isinstance(bindings[0].target, Function):
                return bindings[0].target
            return None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = expr.value.value
            fn = scope.enclosing_function
            if owner in ("self", "cls") and fn is not None and fn.klass is not None:
                return self._method(fn.klass, expr.attr.value)
            bindings, _ = self.lookup(owner, scope)
            if bindings and len(bindings) == 1 and isinstance(bindings[0].target, ClassInfo):
                return self._method(bindings[0].target, expr.attr.value)
        return None

    def resolve_class(self, expr: cst.BaseExpression, scope: Scope) -> Optional[ClassInfo]:
        if isinstance(expr, cst.Name):
            bindings, _ = self.lookup(expr.value, scope)
            if bindings and len(bindings) == 1 and isinstance(bindings[0].target, ClassInfo):
                return bindings[0].target
        return None

    def _method(self, klass: ClassInfo, name: str) -> Optional[Function]:
        """The method ``name`` of a class or of its same-module bases (depth first, in base order).

        Memoised per class and name, each class's answer made from its bases' (linear in a
        chain of subclasses, however long); a class whose ancestry loops (``Base = Child``
        then ``class Child(Base)``) is searched on its own, each class once.
        """
        memo = self._method_memo
        key = (id(klass), name)
        if key in memo:
            return memo[key]
        if self.base_cycle(klass):
            memo[key] = found = self._search_method(klass, name)
            return found
        # no loop: the bases' answers first (post-order), then each class's from its bases'
        order: list[ClassInfo] = []
        expanded: set[int] = set()
        stack: list[tuple[ClassInfo, bool]] = [(klass, False)]
        while stack:
            cur, done = stack.pop()
            if done:
                order.append(cur)
                continue
            if (id(cur), name) in memo or id(cur) in expanded:
                continue
            expanded.add(id(cur))
            stack.append((cur, True))
            for base_info in self._local_bases(cur):
                stack.append((base_info, False))
        for cur in order:
            fn = cur.methods.get(name)
            if fn is None:
                for base_info in self._local_bases(cur):
                    fn = memo[(id(base_info), name)]
                    if fn is not None:
                        break
            memo[(id(cur), name)] = fn
        return memo[key]

    def _search_method(self, klass: ClassInfo, name: str) -> Optional[Function]:
        """:meth:`_method` by a depth-first search, each class once (loops end)."""
        seen: set[int] = set()
        todo = [klass]
        while todo:
            cur = todo.pop()
            if id(cur) in seen:
                continue
            seen.add(id(cur))
            fn = cur.methods.get(name)
            if fn is not None:
                return fn
            for base_info in reversed(self._local_bases(cur)):
                if id(base_info) not in seen:
                    todo.append(base_info)
        return None

    def _local_bases(self, info: ClassInfo) -> list[ClassInfo]:
        """The same-module classes among the bases of a class, in order (cached)."""
        found = self._bases_memo.get(id(info))
        if found is None:
            found = self._bases_memo[id(info)] = [
                local for local in (self.local_class(b) for b in info.bases if b.startswith(LOCAL + "."))
                if local is not None
            ]
        return found

    def local_class(self, qualname: str) -> Optional[ClassInfo]:
        """The class ``<local>.X`` names (the first one defined under that name)."""
        index = self._class_index
        if index is None:
            index = self._class_index = {}
            for info in self.classes:
                index.setdefault(info.qualname, info)
        return index.get(qualname[len(LOCAL) + 1:])

    def class_ancestors(self, info: ClassInfo) -> list[str]:
        """All resolved base qualnames, following same-module base classes (memoised: do not change the list).

        In the order of a depth-first walk that takes the last same-module base first. A
        class with one same-module base (and no loop) gets its own bases then its base's
        list, so a long chain of subclasses costs one copy per class, not a walk.
        """
        memo = self._ancestors_memo
        found = memo.get(id(info))
        if found is not None:
            return found
        if not self.base_cycle(info):
            chain: list[tuple[ClassInfo, ClassInfo]] = []
            cur = info
            while id(cur) not in memo:
                bases = self._local_bases(cur)
                if len(bases) != 1:
                    break
                chain.append((cur, bases[0]))
                cur = bases[0]
            if id(cur) not in memo:
                memo[id(cur)] = self._walk_ancestors(cur)
            for cls, base in reversed(chain):
                memo[id(cls)] = cls.bases + memo[id(base)]
            return memo[id(info)]
        memo[id(info)] = found = self._walk_ancestors(info)
        return found

    def _walk_ancestors(self, info: ClassInfo) -> list[str]:
        return [base for cur in self.lineage(info) for base in cur.bases]

    def lineage(self, info: ClassInfo) -> list[ClassInfo]:
        """The class, then every same-module class among its ancestors, each once (the one
        ancestor walk: depth first, the last base first; loops end)."""
        out: list[ClassInfo] = []
        seen: set[int] = set()
        todo = [info]
        while todo:
            cur = todo.pop()
            if id(cur) in seen:
                continue
            seen.add(id(cur))
            out.append(cur)
            todo.extend(self._local_bases(cur))
        return out

    def base_cycle(self, info: ClassInfo) -> bool:
        """Whether the same-module ancestry of a class loops (``Base = Child`` then ``class
        Child(Base)``, or two classes that are each other's base through aliases).

        Python never builds such a class (NameError or TypeError at import), so what it is
        (an exception? a middleware?) is unknown. Diamonds are not loops. Memoised for
        every class the search meets (linear in a chain of subclasses).
        """
        memo = self._cycle_memo
        found = memo.get(id(info))
        if found is not None:
            return found
        on_path: list[ClassInfo] = []
        on_path_ids: set[int] = set()
        done: dict[int, ClassInfo] = {}
        stack: list[tuple[ClassInfo, bool]] = [(info, False)]
        while stack:
            cur, leaving = stack.pop()
            if leaving:
                on_path.pop()
                on_path_ids.discard(id(cur))
                done[id(cur)] = cur
                continue
            if id(cur) in done:
                continue
            if id(cur) in memo:
                if memo[id(cur)]:
                    break  # a known loop below
                continue
            if id(cur) in on_path_ids:
                memo[id(cur)] = True  # a loop
                break
            on_path.append(cur)
            on_path_ids.add(id(cur))
            stack.append((cur, True))
            for base_info in self._local_bases(cur):
                stack.append((base_info, False))
        else:
            for cls in done.values():
                memo[id(cls)] = False  # every class the search finished has no loop below it
            return False
        for cls in on_path:
            memo[id(cls)] = True  # each class on the path reaches the loop
        return True

    def scope_inside(self, node: cst.CSTNode, scope: Scope) -> Scope:
        """The scope a node's children are evaluated in: a def's or class's own, else ``scope``."""
        if isinstance(node, cst.FunctionDef):
            fn = self.function_of.get(id(node))
            return fn.scope if fn is not None else scope
        if isinstance(node, cst.ClassDef):
            info = self.class_of.get(id(node))
            return info.scope if info is not None else scope
        return scope

    def snippet(self, node: cst.CSTNode, limit: int = 40) -> str:
        """The node's code on one line, cut to ``limit`` characters (for messages)."""
        text = " ".join(self.module.code_for_node(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def python_tree(self) -> Optional[ast.Module]:
        """Python's own tree of the source (parsed once; None when Python cannot parse it)."""
        if not self._tree_known:
            try:
                self._python_tree = ast.parse(self.source.lstrip("\ufeff"))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                self._python_tree = None
            self._tree_known = True
        return self._python_tree

    def use_python_tree(self, tree: ast.Module) -> None:
        """Python's tree of this same source, parsed by the caller (flake8's): never parsed again."""
        self._python_tree, self._tree_known = tree, True

    def given_python_tree(self) -> Optional[ast.Module]:
        """The tree the caller handed over, or one already parsed: free to use, never parsed here."""
        return self._python_tree

    def call_qualname(self, site: CallSite) -> Optional[str]:
        """Qualified name of what a call calls (cached)."""
        if not site._resolved:
            site._qualname = self.qualname(site.node.func, site.scope)
            site._resolved = True
        return site._qualname

    def calls_to(self, *qualnames: str) -> Iterator[CallSite]:
        wanted = set(qualnames)
        for site in self.calls:
            if self.call_qualname(site) in wanted:
                yield site

    def imports_any(self, *prefixes: str) -> bool:
        for q in self.imported:
            for p in prefixes:
                if q == p or q.startswith(p + "."):
                    return True
        return False

    def release(self, derived: Iterable[object] = ()) -> None:
        """Break the reference cycles of this model's records; the model is empty afterwards.

        Scopes, functions, classes, bindings and the framework records refer to
        one another (a function's scope names the function, an app lists its
        calls and each call names its app...), and they point into the LibCST
        tree. Left alone, the tree of every checked file (~20 objects per line)
        survives until Python's cyclic collector finds it, after walking it
        again on each collection: in a flake8 run that costs about a fifth of
        the parse. Clearing the records lets reference counting free the tree
        at once. Front ends call this when they are done with a file; nothing
        may use the model (or the framework and the facts built from it) afterwards.
        """
        if not self.__dict__:
            return  # released already
        records: list[Any] = [self, self.scope]
        for fn in self.functions:
            records += (fn, fn.scope)
        for info in self.classes:
            records += (info, info.scope)
        records += derived  # what later steps built from the model (Framework.records)
        for obj in records:
            for name in _slot_names(type(obj)):
                setattr(obj, name, None)
            state = getattr(obj, "__dict__", None)
            if state is not None:
                state.clear()


_Item = tuple[cst.CSTNode, Scope, Optional[cst.CSTNode], int]
_Handler = Callable[[Model, Any, Scope, Optional[cst.CSTNode], int], bool]
# Nodes with nothing below that a rule needs (names resolve through their parents).
_LEAVES: frozenset[type] = frozenset({cst.Name, cst.SimpleString, cst.Integer, cst.Float})
_HANDLERS: dict[type, _Handler] = {
    cst.Call: Model._on_call,
    cst.Attribute: Model._on_attribute,
    cst.Await: Model._on_await,
    cst.Expr: Model._on_expr,
    cst.FunctionDef: Model._on_function,
    cst.ClassDef: Model._on_class,
    cst.Lambda: Model._on_lambda,
    cst.Import: Model._on_import,
    cst.ImportFrom: Model._on_import_from,
    cst.Assign: Model._on_assign,
    cst.AnnAssign: Model._on_ann_assign,
    cst.AugAssign: Model._on_aug_assign,
    cst.WithItem: Model._on_with_item,
    cst.For: Model._on_loop_target,
    cst.CompFor: Model._on_loop_target,
    cst.NamedExpr: Model._on_named_expr,
    cst.ExceptHandler: Model._on_except,
    cst.ExceptStarHandler: Model._on_except,
    cst.Global: Model._on_global,
    cst.Nonlocal: Model._on_nonlocal,
    cst.Yield: Model._on_yield,
    cst.Return: Model._on_return,
    cst.MatchAs: Model._on_match_capture,
    cst.MatchStar: Model._on_match_capture,
    cst.MatchMapping: Model._on_match_mapping,
    cst.TypeAlias: Model._on_type_alias,
}


def _all_params(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg


def all_params(params: cst.Parameters) -> list[cst.Param]:
    return list(_all_params(params))


def arity_problem(params: cst.Parameters, count: int) -> Optional[str]:
    """Why a function cannot be called with exactly ``count`` positional arguments, or None.

    (Starlette calls endpoints with one, exception handlers with two.)
    """
    positional = list(params.posonly_params) + list(params.params)
    required = [p for p in positional if p.default is None]
    if len(required) > count:
        names = ", ".join(p.name.value for p in required)
        return f"it requires {len(required)} positional arguments ({names})"
    if len(positional) < count and not isinstance(params.star_arg, cst.Param):
        n = len(positional)
        return f"it takes {n or 'no'} positional argument{'' if n == 1 else 's'}"
    kwonly = [p.name.value for p in params.kwonly_params if p.default is None]
    if kwonly:
        return f"it requires the keyword-only argument{'s' if len(kwonly) > 1 else ''} {', '.join(kwonly)}"
    return None


def _annotated_metadata(ann: Optional[cst.BaseExpression]) -> list[cst.BaseExpression]:
    """The metadata of ``Annotated[T, meta, ...]`` (``Depends(...)``, ``Query(...)``), else nothing."""
    if not isinstance(ann, cst.Subscript) or len(ann.slice) < 2:
        return []
    head = dotted_name(ann.value)
    if head is None or head.rsplit(".", 1)[-1] != "Annotated":
        return []
    return [el.slice.value for el in ann.slice[1:] if isinstance(el.slice, cst.Index)]


def plain_annotation(ann: Optional[cst.BaseExpression]) -> Optional[cst.BaseExpression]:
    """``Request``, ``starlette.requests.Request``, ``Annotated[Request, ...]``, ``Optional[X]``."""
    if ann is None:
        return None
    if isinstance(ann, (cst.Name, cst.Attribute)):
        return ann
    if isinstance(ann, cst.Subscript) and ann.slice:
        head = dotted_name(ann.value)
        if head and head.rsplit(".", 1)[-1] in ("Annotated", "Optional"):
            first = ann.slice[0].slice
            if isinstance(first, cst.Index):
                return plain_annotation(first.value)
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
        # X | None
        if isinstance(ann.right, cst.Name) and ann.right.value == "None":
            return plain_annotation(ann.left)
        if isinstance(ann.left, cst.Name) and ann.left.value == "None":
            return plain_annotation(ann.right)
    return None


def _unpacks(target: cst.BaseExpression, value: cst.BaseExpression) -> bool:
    """``a, b = x, y`` (as many plain names as literal elements, none starred) or ``a, b = f()``."""
    if not isinstance(target, (cst.Tuple, cst.List)) or not target.elements:
        return False
    if not all(isinstance(el, cst.Element) and isinstance(el.value, cst.Name) for el in target.elements):
        return False
    if isinstance(value, (cst.Tuple, cst.List)):
        return len(value.elements) == len(target.elements) and all(isinstance(el, cst.Element) for el in value.elements)
    return isinstance(value, cst.Call)


def _tuple_annotation(ann: cst.BaseExpression) -> Optional[list[cst.BaseExpression]]:
    """The element annotations of ``tuple[A, B]`` / ``Tuple[A, B]`` (not ``tuple[A, ...]``)."""
    if not isinstance(ann, cst.Subscript) or (dotted_name(ann.value) or "").rsplit(".", 1)[-1] not in ("tuple", "Tuple"):
        return None
    out: list[cst.BaseExpression] = []
    for el in ann.slice:
        if not isinstance(el.slice, cst.Index) or isinstance(el.slice.value, cst.Ellipsis):
            return None
        out.append(el.slice.value)
    return out


def _is_literal(expr: cst.BaseExpression) -> bool:
    while isinstance(expr, cst.UnaryOperation):
        expr = expr.expression
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Imaginary)):
        return True
    if isinstance(expr, cst.Name):
        return expr.value in ("True", "False", "None")
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return True
    if isinstance(expr, cst.Dict):
        return True
    return False


# ---------------------------------------------------------------- literal helpers
def string_value(expr: Optional[cst.BaseExpression]) -> Optional[str]:
    """The value of a plain string literal (no f-strings), else None."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            value = expr.evaluated_value
        except Exception:  # pragma: no cover - malformed escapes
            return None
        return value if isinstance(value, str) else None
    return None


def int_value(expr: Optional[cst.BaseExpression]) -> Optional[int]:
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value.replace("_", ""), 0)
        except ValueError:
            return None
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        if isinstance(expr.expression, cst.Integer):
            inner = int_value(expr.expression)
            return None if inner is None else -inner
    return None


def bool_value(expr: Optional[cst.BaseExpression]) -> Optional[bool]:
    if isinstance(expr, cst.Name):
        if expr.value == "True":
            return True
        if expr.value == "False":
            return False
    return None


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(call: cst.Call, index: int) -> Optional[cst.Arg]:
    i = 0
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            if i == index:
                return arg
            i += 1
        elif arg.star:
            return None  # *args: positions unknown from here on
    return None


def argument(call: cst.Call, index: int, name: str) -> Optional[cst.Arg]:
    """The argument bound to parameter ``name`` at position ``index``."""
    return keyword(call, name) or positional(call, index)


def elements(expr: Optional[cst.BaseExpression]) -> Optional[list[cst.BaseExpression]]:
    """Element values of a list/tuple/set literal (None when not such a literal or starred)."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        out = []
        for el in expr.elements:
            if isinstance(el, cst.StarredElement):
                return None
            out.append(el.value)
        return out
    return None
