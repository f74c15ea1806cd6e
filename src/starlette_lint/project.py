"""The modules of a project, summarised for analysis across module boundaries (project mode).

A file's own analysis (``Model``, ``Framework``) runs on LibCST; what another module of the
same project contributes is read from Python's ``ast`` (C speed: no fix is ever applied
there) into a :class:`ModuleSummary`:

* its imports, resolved to absolute names (``from .db import get_session`` in ``app.api``
  is ``app.db.get_session``);
* its functions and methods, sync or async, with the calls each makes directly, resolved
  through the imports (``time.sleep``, ``app.services.tts.speak``);
* its classes and their bases, resolved the same way;
* what its module-level names are bound to when that is a call (``router = APIRouter()``,
  ``engine = create_engine(...)``).

:class:`ProjectIndex` finds the project of a file from its package root (the nearest folder
up the tree that is not a package), summarises modules on first use, follows re-exports
(``from .routing import AuditedRouter`` in ``__init__.py``), and answers what the framework
step asks through its seam (:class:`.framework.Elsewhere`): which app or router kind a class
from another module builds.

Every walk here is bounded (visited sets, depth limits): circular imports, classes that are
their own ancestors and re-export loops end.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import json
import os
import re
import tokenize
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, TypeVar, Union, cast

from . import names as N
from .cache import Cache, package_fingerprint, replace_file
from .layout import MAX_FILES, TreeTooLarge, beside_src, module_name, package_root, walk_modules
from .model import LOCAL
from .catalog import SESSION_FACTORIES, SYNC_SESSION_CLASSES
from .framework import AppSetup, CallJudge, Elsewhere, ForeignHandler, ForeignMiddleware, RemoteChain

_MAX_DEPTH = 20  # re-exports and base classes followed at most this far
_MAX_HOPS = 8  # helpers followed at most this deep from a request-path call
_MAX_BYTES = 1_000_000  # a larger module is not summarised (generated code: parsing it would cost seconds)
_TRY: tuple[type[ast.AST], ...] = (ast.Try, getattr(ast, "TryStar", ast.Try))  # ``except*`` from Python 3.11
_NODES = Union[ast.FunctionDef, ast.AsyncFunctionDef]
T = TypeVar("T")


@dataclass(frozen=True)
class CallRef:
    """A call a function makes directly: the qualified name of what it calls, where, and how."""

    target: str  # absolute dotted name, "()" marking a call's result (``requests.Session().get``)
    line: int
    awaited: bool
    conditional: bool = False  # may not run: see _children
    quiet: frozenset[str] = frozenset()  # arguments given literally False/0: "@1" by position, "secs@" by keyword
    given: frozenset[str] = frozenset()  # arguments given and not empty strings, spelled the same way


@dataclass
class FunctionSummary:
    qualname: str  # ``app.services.tts.speak``, ``app.api.Items.get`` for a method
    is_async: bool
    line: int
    calls: list[CallRef] = field(default_factory=list)
    decorated: bool = False  # a decorator may run it elsewhere (``@lru_cache``, ``@sync_to_async``);
    # ``@staticmethod``, ``@classmethod`` and ``@property`` do not count
    # what calling it gives, absolute (``sqlalchemy.orm.sessionmaker()()``): what every ``return``
    # gives, what a generator yields (``with get_db() as db`` under ``@contextmanager``, a
    # ``Depends`` generator), else the return annotation's class; None when unknown or several
    returns: Optional[str] = None
    module: str = field(default="", compare=False)  # the module it is defined in
    end: int = field(default=0, compare=False)  # its last line
    indented: bool = field(default=False, compare=False)  # a method, or defined under an if/try
    unread: bool = field(default=False, compare=False)  # its body is not read yet (see read_body)
    is_generator: bool = False  # its body runs when iterated (often in a thread)


@dataclass
class ClassSummary:
    qualname: str
    bases: list[str]  # absolute names of the bases the module can name (others are left out)
    line: int
    unresolved_bases: bool = False  # a base that is not a plain (dotted) name
    # what its attributes are bound to when that is a call (``self.http = requests.Session()`` in a
    # method, ``http = requests.Session()`` in the class body); None when bound to several things
    attrs: dict[str, Optional[str]] = field(default_factory=dict)
    decorated: bool = False  # a class decorator (``@dataclass`` writes its own ``__init__``)


@dataclass
class ModuleSummary:
    name: str  # ``app.api``
    path: str
    is_package: bool  # an ``__init__.py``
    imports: dict[str, str] = field(default_factory=dict)  # local name -> absolute name
    functions: dict[str, FunctionSummary] = field(default_factory=dict)  # local dotted name -> summary
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    assigned: dict[str, str] = field(default_factory=dict)  # module-level name -> what called, + "()"
    parse_error: Optional[str] = None
    package: str = ""  # what relative imports start from
    defined: set[str] = field(default_factory=set)  # module-level definitions, known before they are read
    prefixes: dict[str, str] = field(default_factory=dict)  # ``router = APIRouter(prefix="/items")``: router -> prefix
    # ``SessionDep = Annotated[Session, Depends(get_session)]``: name -> whether its metadata may take
    # request values by name (a dependency, an ``alias=``, a call we do not know)
    annotated: dict[str, bool] = field(default_factory=dict)
    # bodies=False: the source, split on line ends, for bodies read one function at a time on demand
    lines: Optional[list[str]] = field(default=None, repr=False)

    def local(self, name: str) -> Optional[str]:
        """The absolute name a module-level name of this module stands for (its own definition,
        or what it imports), or None."""
        if name in self.defined or name in self.functions or name in self.classes or name in self.assigned:
            return f"{self.name}.{name}"
        return self.imports.get(name)


# ------------------------------------------------------------------ one module
def summarize(source: Union[str, bytes], name: str, path: str = "<unknown>", is_package: bool = False,
              bodies: bool = True) -> ModuleSummary:
    """The summary of one module's source (a module Python cannot parse has an empty one).

    ``bodies=False``: what a function calls is read when asked, one function at a time
    (:func:`read_body`; the source is kept): most modules a project index reads are asked only
    for names and their classes' bases, and few of their functions lie on a request path, while
    walking every function body is most of the cost of a summary."""
    summary = ModuleSummary(name, path, is_package)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        summary.parse_error = f"{type(exc).__name__}: {exc}"
        return summary
    package = name if is_package else name.rpartition(".")[0]
    summary.package = package
    for node in _module_level(tree.body):
        _bind_import(summary.imports, node, package)
    for node in _module_level(tree.body):  # a function may call one defined further down
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            summary.defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            summary.defined.update(t.id for t in targets if isinstance(t, ast.Name))
    bases: dict[str, list[Optional[str]]] = {}
    for stmt in tree.body:
        _top_level(summary, stmt, bases, bodies)
    for name in _ambiguous(tree.body):  # which definition runs depends on the branch taken: unknown
        summary.classes.pop(name, None)
        summary.assigned.pop(name, None)
        summary.prefixes.pop(name, None)
        for local in [k for k in summary.functions if k == name or k.startswith(name + ".")]:
            del summary.functions[local]
        bases.pop(name, None)
    if not bodies:
        summary.lines = _lines(source)
        for fn in summary.functions.values():
            fn.unread = True
    for local, written in bases.items():  # once every module-level name is known
        resolved = [_resolve_local(summary, b) or _builtin_class(b) for b in written if b is not None]
        cls = summary.classes[local]
        cls.bases = [r for r in resolved if r is not None]
        cls.unresolved_bases = len(cls.bases) != len(written)
    return summary


def _builtin_class(name: str) -> Optional[str]:
    """``builtins.Exception`` for a base written ``Exception`` that the module does not bind."""
    return f"builtins.{name}" if "." not in name and isinstance(getattr(builtins, name, None), type) else None


def _ambiguous(body: list[ast.stmt]) -> set[str]:
    """Module-level names bound more than once, at least once under an ``if`` or ``try``
    (``if USE_ASYNC: SessionLocal = async_sessionmaker(...) else: SessionLocal = sessionmaker()``):
    which binding holds depends on the branch taken."""
    counts: dict[str, int] = {}
    conditional: set[str] = set()
    for stmt, under in _module_level_blocks(body):
        names: list[str] = []
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [stmt.name]
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = [a.asname or a.name.split(".", 1)[0] for a in stmt.names if a.name != "*"]
        for name in names:
            counts[name] = counts.get(name, 0) + 1
            if under:
                conditional.add(name)
    return {name for name in conditional if counts[name] > 1}


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The module's own statements, with those of its top-level if/try blocks (not function bodies)."""
    return (stmt for stmt, _ in _module_level_blocks(body))


def _module_level_blocks(body: list[ast.stmt]) -> Iterator[tuple[ast.stmt, bool]]:
    """:func:`_module_level`, each statement with whether it sits in an if/try block."""
    stack = [(stmt, False) for stmt in reversed(body)]
    while stack:
        stmt, under = stack.pop()
        yield stmt, under
        if isinstance(stmt, (ast.If, *_TRY)):
            block = cast(ast.Try, stmt)  # an if, try or try/except*: the fields read here, when present
            inner = [*block.body, *getattr(block, "orelse", ()), *getattr(block, "finalbody", ())]
            for handler in getattr(block, "handlers", ()):
                inner.extend(handler.body)
            stack.extend((s, True) for s in reversed(inner))


def _bind_import(into: dict[str, str], node: ast.AST, package: str) -> None:
    """The names an import statement binds, made absolute (the first binding of a name wins)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                into.setdefault(alias.asname, alias.name)
            else:
                top = alias.name.split(".", 1)[0]
                into.setdefault(top, top)
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(node.module, node.level, package)
        if base is not None:
            for alias in node.names:
                if alias.name != "*":
                    into.setdefault(alias.asname or alias.name, f"{base}.{alias.name}")


def _absolute(module: Optional[str], level: int, package: str) -> Optional[str]:
    """The absolute module of ``from <level dots><module> import ...`` in ``package``."""
    if not level:
        return module
    parts = package.split(".") if package else []
    if level - 1 >= len(parts):
        return None  # beyond the top-level package (ImportError when run)
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) or None


def _top_level(summary: ModuleSummary, stmt: ast.stmt, bases: dict[str, list[Optional[str]]], bodies: bool) -> None:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        _function(summary, stmt, stmt.name, None, bodies)
    elif isinstance(stmt, ast.ClassDef):
        cls = summary.classes[stmt.name] = ClassSummary(f"{summary.name}.{stmt.name}", [], stmt.lineno,
                                                        decorated=bool(stmt.decorator_list))
        bases[stmt.name] = [_dotted(b) for b in stmt.bases]  # resolved after the whole module
        for item in stmt.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                _function(summary, item, f"{stmt.name}.{item.name}", cls, bodies)
            elif isinstance(item, (ast.Assign, ast.AnnAssign)) and isinstance(item.value, ast.Call):
                value = _resolve_local(summary, _dotted(item.value))
                for t in item.targets if isinstance(item, ast.Assign) else [item.target]:
                    if isinstance(t, ast.Name):
                        _bind_attr(cls, t.id, value)
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Subscript) \
            and (_dotted(stmt.value.value) or "").rpartition(".")[2] == "Annotated":
        for t in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
            if isinstance(t, ast.Name):
                summary.annotated[t.id] = _may_take_values(stmt.value)
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        called = _dotted(stmt.value.func)
        target = _resolve_local(summary, called) if called is not None else None
        if target in SESSION_FACTORIES and _async_session_class(summary, stmt.value):
            target = _ASYNC_SESSION_FACTORY  # ``sessionmaker(engine, class_=AsyncSession)``
        prefix = next((k.value for k in stmt.value.keywords if k.arg == "prefix"), None)
        for t in targets:
            if isinstance(t, ast.Name) and t.id in summary.functions:
                summary.functions[t.id].decorated = True  # ``speak = lru_cache(speak)``: wrapped
            elif isinstance(t, ast.Name) and target is not None:
                summary.assigned[t.id] = target + "()"
                if isinstance(prefix, ast.Constant) and isinstance(prefix.value, str):
                    summary.prefixes[t.id] = prefix.value
    elif isinstance(stmt, (ast.If, ast.Try)):
        # ``if TYPE_CHECKING:`` / ``try: ... except ImportError:`` blocks at module level
        for inner in [*stmt.body, *getattr(stmt, "orelse", ()), *getattr(stmt, "finalbody", ())]:
            _top_level(summary, inner, bases, bodies)


# the metadata calls of an ``Annotated[...]`` alias that take no request value by a name of their own
_PLAIN_METADATA = frozenset({"Path", "Query", "Body", "Header", "Cookie", "Form", "File", "Field",
                             "StringConstraints", "Strict", "Gt", "Ge", "Lt", "Le", "MinLen", "MaxLen"})


def _may_take_values(value: ast.Subscript) -> bool:
    """An ``Annotated[...]`` alias whose metadata may take request values by name: a dependency
    (``Depends``, ``Security``), an ``alias=``, or a call that is not plain metadata."""
    parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
    if any(not isinstance(part, ast.Call) for part in parts[1:]):
        return True  # ``Annotated[str, tenant_marker]``: a name that may be ``Depends(...)``
    for node in ast.walk(value):
        if isinstance(node, ast.Call):
            name = (_dotted(node.func) or "").rpartition(".")[2]
            if name not in _PLAIN_METADATA or any(k.arg in ("alias", "validation_alias") for k in node.keywords):
                return True
    return False


def read_body(summary: ModuleSummary, fn: FunctionSummary) -> None:
    """Read the body of a function :func:`summarize` left unread (``bodies=False``): only its own
    lines are parsed (a method's inside a stand-in class, for the indentation)."""
    if not fn.unread or summary.lines is None:
        return
    parsed = _function_node(summary, fn)
    if parsed is None:
        return
    node, offset = parsed
    if node is None:
        fn.unread = False
        return
    local = fn.qualname[len(summary.name) + 1:]
    owner = summary.classes.get(local.partition(".")[0]) if "." in local else None
    # read into a scratch copy, committed at the end: a file's time budget running out half way
    # must not leave a half-read function in the process's index for the next files
    scratch = FunctionSummary(fn.qualname, fn.is_async, fn.line, decorated=fn.decorated)
    scratch_owner = ClassSummary(owner.qualname, owner.bases, owner.line) if owner is not None else None
    _body(summary, node, scratch, scratch_owner, offset)
    fn.calls, fn.is_generator, fn.returns = scratch.calls, scratch.is_generator, scratch.returns
    if owner is not None and scratch_owner is not None:
        for name, value in scratch_owner.attrs.items():
            _bind_attr(owner, name, value)
    fn.unread = False


def _function_node(summary: ModuleSummary, fn: FunctionSummary) -> Optional[tuple[Optional[_NODES], int]]:
    """A function's definition parsed alone from the module's lines (a method's inside a stand-in
    class, for the indentation), with what to add to its line numbers; None when its lines do not
    parse, a None node when they are not a function (the module changed)."""
    if summary.lines is None:
        return None
    segment = "\n".join(summary.lines[fn.line - 1:fn.end])
    offset = fn.line - 1
    if fn.indented:
        segment, offset = "class _:\n" + segment, offset - 1
    try:
        tree = ast.parse(segment)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    node = tree.body[0] if tree.body else None
    if fn.indented and isinstance(node, ast.ClassDef):
        node = node.body[0] if node.body else None
    return (node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None), offset


def _decoded(source: bytes) -> str:
    """Module source as text, in the encoding it declares (PEP 263), else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        return source.decode(encoding, errors="replace")
    except LookupError:
        return source.decode("utf-8", errors="replace")


_ASYNC_SESSION_FACTORY = "sqlalchemy.ext.asyncio.async_sessionmaker"
# Decorators that leave a method's body running where it is called.
_IN_PLACE = frozenset({"staticmethod", "classmethod", "property", "builtins.staticmethod", "builtins.classmethod",
                       "builtins.property", "typing.override", "typing_extensions.override", "abc.abstractmethod"})
# Awaiting these awaits the coroutines passed to them: ``await asyncio.wait_for(fetch(), 5)``.
_AWAITS_ARGUMENTS = frozenset({"asyncio.gather", "asyncio.wait_for", "asyncio.shield", "asyncio.tasks.gather",
                               "asyncio.tasks.wait_for", "asyncio.tasks.shield"})


def _async_session_class(summary: ModuleSummary, call: ast.Call) -> bool:
    """``sessionmaker(..., class_=X)`` with an X that is not a sync Session."""
    given = next((k.value for k in call.keywords if k.arg == "class_"), call.args[1] if len(call.args) > 1 else None)
    return given is not None and _resolve_local(summary, _dotted(given)) not in SYNC_SESSION_CLASSES


def _bind_attr(cls: ClassSummary, name: str, value: Optional[str]) -> None:
    """An attribute bound to ``value``; bound to two different things, it is unknown (None)."""
    if name not in cls.attrs:
        cls.attrs[name] = value
    elif cls.attrs[name] != value:
        cls.attrs[name] = None


def _annotated(summary: ModuleSummary, ann: ast.expr, depth: int = 0) -> Optional[str]:
    """The class an annotation names (``Session``, ``Optional[Session]``, ``Session | None``,
    ``Annotated[Session, Depends(...)]``, ``"Session"``), absolute; None when it names no single class."""
    if depth > 5:
        return None
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            inner = ast.parse(ann.value, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return _annotated(summary, inner, depth + 1)
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        sides = [x for x in (ann.left, ann.right) if not (isinstance(x, ast.Constant) and x.value is None)]
        return _annotated(summary, sides[0], depth + 1) if len(sides) == 1 else None
    if isinstance(ann, ast.Subscript):
        outer = _resolve_local(summary, _dotted(ann.value))
        args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        if outer in ("typing.Optional", "typing_extensions.Optional") and len(args) == 1:
            return _annotated(summary, args[0], depth + 1)
        if outer in ("typing.Annotated", "typing_extensions.Annotated") and args:
            return _annotated(summary, args[0], depth + 1)
        if outer in ("typing.Union", "typing_extensions.Union"):
            kept = [x for x in args if not (isinstance(x, ast.Constant) and x.value is None)]
            return _annotated(summary, kept[0], depth + 1) if len(kept) == 1 else None
        return None
    written = _dotted(ann)
    return _resolve_local(summary, written) if written is not None and "(" not in written else None


def _function(summary: ModuleSummary, node: _NODES, local: str, owner: Optional[ClassSummary], bodies: bool) -> None:
    written = [_dotted(d) for d in node.decorator_list]
    decorated = any(w is None or (w not in _IN_PLACE and _resolve_local(summary, w) not in _IN_PLACE
                                  and not w.endswith((".setter", ".getter", ".deleter")))
                    for w in written)
    fn = FunctionSummary(f"{summary.name}.{local}", isinstance(node, ast.AsyncFunctionDef), node.lineno,
                         decorated=decorated, module=summary.name, end=node.end_lineno or node.lineno,
                         indented=node.col_offset > 0)
    summary.functions[local] = fn
    if bodies:
        _body(summary, node, fn, owner)


def _body(summary: ModuleSummary, node: _NODES, fn: FunctionSummary, owner: Optional[ClassSummary],
          offset: int = 0) -> None:
    """What a function's body calls, gives and binds on ``self`` (``offset``: added to line numbers)."""
    written = [_dotted(d) for d in node.decorator_list]
    args = node.args
    params = _params(args)
    positional = [*args.posonlyargs, *args.args]
    receiver = positional[0].arg if owner is not None and positional and "staticmethod" not in written else None
    nodes = _own_nodes(node, frozenset(a.arg for a in params if a.arg != receiver))
    awaited: set[int] = set()
    for n, _ in nodes:
        if isinstance(n, ast.Await):
            awaited.add(id(n.value))
        elif isinstance(n, ast.AsyncWith):  # ``async with x() as y``: an async context manager
            awaited.update(id(item.context_expr) for item in n.items)
        elif isinstance(n, ast.AsyncFor):
            awaited.add(id(n.iter))
    # names the function binds itself shadow the module's (a parameter named like a module is not
    # it); a parameter's annotation, ``self``/``cls`` of a method, and a local bound once say what it is
    shadowed = {a.arg for a in params}
    known: dict[str, str] = {}  # name -> what it is, absolute (``app.svc.Service()``: an instance)
    if owner is not None and receiver is not None:
        known[receiver] = owner.qualname + ("" if "classmethod" in written else "()")
    for a in params:
        typed = _annotated(summary, a.annotation) if a.annotation is not None and a.arg not in known else None
        if typed is not None:
            known[a.arg] = typed + "()"
    imports: dict[str, str] = {}
    stores: dict[str, int] = {}
    values: dict[str, Union[ast.expr, str]] = {}  # a local's value: an expression, or a class (annotated)
    for n, _ in nodes:
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            shadowed.add(n.id)
            stores[n.id] = stores.get(n.id, 0) + 1
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            _bind_import(imports, n, summary.package)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            shadowed.difference_update(n.names)
            stores.update((name, 2) for name in n.names)  # bound elsewhere too
        elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            values[n.targets[0].id] = n.value
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            typed = _annotated(summary, n.annotation)
            if typed is not None:
                values[n.target.id] = typed + "()"
            elif n.value is not None:
                values[n.target.id] = n.value
        elif isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                if isinstance(item.optional_vars, ast.Name):
                    values[item.optional_vars.id] = item.context_expr

    def resolve(dotted: str, depth: int = 0) -> Optional[str]:
        head = dotted.split(".", 1)[0].split("(", 1)[0]
        rest = dotted[len(head):]
        if head in known and head not in stores:
            return N.canonical(known[head] + rest)
        if head in values and stores.get(head) == 1 and depth < 8:
            value = values[head]
            inner = value if isinstance(value, str) else _dotted(value)
            base = (inner if isinstance(value, str) else resolve(inner, depth + 1)) if inner else None
            return N.canonical(base + rest) if base is not None else None
        if head in imports:
            return N.canonical(imports[head] + rest)
        if head in shadowed:
            return None
        return _resolve_local(summary, dotted)

    self_name = receiver
    gives: list[Optional[ast.expr]] = []  # what it yields
    returned: list[Optional[ast.expr]] = []
    for n, conditional in nodes:
        if isinstance(n, ast.Call):
            called = _dotted(n.func)
            target = resolve(called) if called else None
            if target is None:
                continue
            fn.calls.append(CallRef(target, n.lineno + offset, id(n) in awaited, conditional, _quiet(n), _given(n)))
            if id(n) in awaited and target in _AWAITS_ARGUMENTS:
                awaited.update(id(a) for a in n.args)
        elif isinstance(n, (ast.Yield, ast.YieldFrom)):
            fn.is_generator = True
            gives.append(n.value if isinstance(n, ast.Yield) else None)
        elif isinstance(n, ast.Return) and n.value is not None:
            returned.append(n.value)
        elif self_name is not None and owner is not None and isinstance(n, (ast.Assign, ast.AnnAssign)):
            # ``self.http = requests.Session()``: what the instance's attribute is
            value = n.value
            for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == self_name:
                    inner = _dotted(value) if isinstance(value, ast.Call) else None
                    _bind_attr(owner, t.attr, resolve(inner) if inner is not None else None)
    fn.returns = _gives(gives if fn.is_generator else returned, resolve)
    if fn.returns is None and node.returns is not None:
        typed = _annotated(summary, _unwrapped(summary, node.returns))
        fn.returns = typed + "()" if typed is not None else None


def _gives(values: list[Optional[ast.expr]], resolve: Callable[[str], Optional[str]]) -> Optional[str]:
    """The one thing all of ``values`` are (resolved), or None."""
    found: set[Optional[str]] = set()
    for value in values:
        written = _dotted(value) if isinstance(value, (ast.Call, ast.Name, ast.Attribute)) else None
        found.add(resolve(written) if written is not None else None)
        if len(found) > 1:
            return None
    return found.pop() if found else None


_WRAPPERS = frozenset({"typing.Iterator", "typing.Generator", "typing.AsyncIterator", "typing.AsyncGenerator",
                       "typing.Iterable", "collections.abc.Iterator", "collections.abc.Generator",
                       "collections.abc.AsyncIterator", "collections.abc.AsyncGenerator",
                       "contextlib.AbstractContextManager", "typing.ContextManager"})


def _unwrapped(summary: ModuleSummary, ann: ast.expr) -> ast.expr:
    """``Iterator[Session]``, ``Generator[Session, None, None]`` -> ``Session`` (what a
    generator yields); other annotations as they are."""
    if isinstance(ann, ast.Subscript) and _resolve_local(summary, _dotted(ann.value)) in _WRAPPERS:
        return ann.slice.elts[0] if isinstance(ann.slice, ast.Tuple) and ann.slice.elts else ann.slice
    return ann


def _params(args: ast.arguments) -> list[ast.arg]:
    """Every parameter of a function, ``*args`` and ``**kwargs`` included."""
    return [a for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a]


def _given(call: ast.Call) -> frozenset[str]:
    """The arguments given and not literally empty strings: ``@i`` by position, ``name@`` by keyword
    (nothing after a ``*args``: their positions are unknown)."""
    out: set[str] = set()
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Starred):
            break
        if not (isinstance(a, ast.Constant) and a.value == ""):
            out.add(f"@{i}")
    out |= {f"{k.arg}@" for k in call.keywords
            if k.arg and not (isinstance(k.value, ast.Constant) and k.value.value == "")}
    return frozenset(out)


def _quiet(call: ast.Call) -> frozenset[str]:
    """The arguments given literally as False or 0: ``@i`` by position, ``name@`` by keyword."""
    out = {f"@{i}" for i, a in enumerate(call.args) if _false_or_zero(a)}
    out |= {f"{k.arg}@" for k in call.keywords if k.arg and _false_or_zero(k.value)}
    return frozenset(out)


def _false_or_zero(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and not isinstance(expr.value, str) and expr.value in (False, 0)


def _own_nodes(fn: _NODES, params: frozenset[str] = frozenset(),
               scopes: bool = False) -> list[tuple[ast.AST, bool]]:
    """The nodes of a function's body in source order, each with whether it runs only on a
    condition; not those of nested functions, classes or lambdas (they run at another time,
    often in a thread), which ``scopes`` lists without their insides. ``params``: the function's
    parameters, for early returns (see :func:`_block`).
    The hottest loop of an index: no generators, one dict lookup per node."""
    out: list[tuple[ast.AST, bool]] = []
    stack: list[tuple[ast.AST, bool]] = [(s, c) for s, c in reversed(_block(fn.body, False, params))
                                         if scopes or type(s) not in _SCOPES]
    pop, push, emit = stack.pop, stack.append, out.append
    while stack:
        node, conditional = pop()
        emit((node, conditional))
        kind = type(node)
        if scopes and kind in _SCOPES:
            continue
        branch = _BRANCHES.get(kind)
        if branch is not None:
            children = branch(node, conditional, params)
        else:
            children = []
            for name in _FIELDS.get(kind) or _fields(kind):
                value = getattr(node, name, None)
                if type(value) is list:
                    if value and isinstance(value[0], ast.stmt):
                        children.extend(_block(value, conditional, params))
                    else:
                        children.extend((child, conditional) for child in value if isinstance(child, ast.AST))
                elif isinstance(value, ast.AST):
                    children.append((value, conditional))
        for child in reversed(children):
            if scopes or type(child[0]) not in _SCOPES:
                push(child)
    return out


_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})
_LOOPS = frozenset({ast.For, ast.AsyncFor, ast.While})
_COMPOUND = frozenset({ast.If, ast.Try, _TRY[-1], ast.With, ast.AsyncWith, ast.Match, *_LOOPS})
_FIELDS: dict[type, tuple[str, ...]] = {}  # per node type: the fields that may hold nodes


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS[kind] = tuple(n for n in getattr(kind, "_fields", ()) if n != "ctx")
    return names


def _block(statements: list[ast.stmt], conditional: bool, params: frozenset[str]) -> _Children:
    """A block's statements; those after one that may leave the block early, on a condition that
    depends on the call, are conditional: ``if not resolve_dns: return False`` (a parameter) or
    ``if not path.is_file(): return None`` (the file may not be there) make the rest of the
    function run only sometimes. A guard on the configuration or the function's own data
    (``if not settings.SMTP_ENABLE: return``, ``if not items: return``) does not: the rest is
    what the function is for. A ``raise`` does not count either: it is the error path."""
    out: _Children = []
    for stmt in statements:
        out.append((stmt, conditional))
        if not conditional and _may_leave(stmt, params):
            conditional = True
    return out


def _may_leave(stmt: ast.stmt, params: frozenset[str]) -> bool:
    """A statement after which the rest of its block may not run: a return, break or continue,
    unguarded or under a test of a parameter or of a file's existence (:func:`_depends_on_call`),
    not in an except handler (a loop's own break and continue stay inside it)."""
    kind = type(stmt)
    if kind in (ast.Return, ast.Break, ast.Continue):
        return True
    if kind not in _COMPOUND:
        return False
    # (node, inside a loop of its own, under a test: None no test yet, else whether one depends on the call)
    stack: list[tuple[ast.AST, bool, Optional[bool]]] = [(stmt, kind in _LOOPS, None)]
    while stack:
        node, in_loop, guard = stack.pop()
        if isinstance(node, (ast.If, ast.While)):
            guard = bool(guard) or _depends_on_call(node.test, params)
        elif isinstance(node, ast.Match):
            guard = bool(guard) or _depends_on_call(node.subject, params)
        for child in ast.iter_child_nodes(node):
            child_kind = type(child)
            if child_kind is ast.Return or (child_kind in (ast.Break, ast.Continue) and not in_loop):
                if guard is None or guard:
                    return True
            elif child_kind not in _SCOPES and isinstance(child, (ast.stmt, ast.match_case)):
                stack.append((child, in_loop or child_kind in _LOOPS, guard))
    return False


_EVERY_TEST: frozenset[str] = frozenset({"*"})  # any early return makes the rest conditional
_EXISTENCE = frozenset({"exists", "is_file", "is_dir", "isfile", "isdir", "lexists", "is_symlink", "islink"})


def _depends_on_call(test: ast.expr, params: frozenset[str]) -> bool:
    """A test whose outcome the call decides: it reads a parameter (``self`` and ``cls`` aside)
    or asks whether a file exists; every test when ``params`` is :data:`_EVERY_TEST`."""
    if params is _EVERY_TEST:
        return True
    for node in ast.walk(test):
        if isinstance(node, ast.Name) and node.id in params:
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in _EXISTENCE:
                return True
    return False


_Children = list[tuple[ast.AST, bool]]


def _if(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """An if's or a conditional expression's branches may not run."""
    branch = cast(ast.IfExp, node)  # ast.If has the same fields, holding statement lists
    body: list[ast.AST] = branch.body if isinstance(branch.body, list) else [branch.body]
    orelse: list[ast.AST] = branch.orelse if isinstance(branch.orelse, list) else [branch.orelse]
    return [(branch.test, conditional), *((child, True) for child in [*body, *orelse])]


def _match(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    match = cast(ast.Match, node)
    return [(match.subject, conditional), *((case, True) for case in match.cases)]


def _try(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """Except handlers may not run; the rest does (``ast.TryStar`` has the same fields)."""
    parts = cast(ast.Try, node)
    body = _block(parts.body, conditional, params)
    after = conditional or any(_may_leave(stmt, params) for stmt in parts.body)  # a return in the body
    return [*body, *((h, True) for h in parts.handlers), *_block(parts.orelse, after, params),
            *_block(parts.finalbody, conditional, params)]


def _bool_op(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """The right operands of and/or may not run."""
    values = cast(ast.BoolOp, node).values
    return [(values[0], conditional), *((child, True) for child in values[1:])]


def _while(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """A while loop's body may run no time."""
    loop = cast(ast.While, node)
    return [(loop.test, conditional), *((child, True) for child in [*loop.body, *loop.orelse])]


def _generator(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """A generator expression runs only when consumed."""
    return [(child, True) for child in ast.iter_child_nodes(node)]


def _comprehension(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """A comprehension's filters run for each element, like a loop's body."""
    part = cast(ast.comprehension, node)
    return [(part.iter, conditional), (part.target, conditional), *((child, conditional) for child in part.ifs)]


def _filtered(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """A list, set or dict comprehension: its element runs only for the elements its filters let
    through (``[requests.get(u) for u in urls if os.path.exists(u)]``)."""
    comp = cast(ast.DictComp, node)  # ast.ListComp/SetComp: ``elt`` instead of ``key``/``value``
    filtered = conditional or any(part.ifs for part in comp.generators)
    elements: list[ast.AST] = [comp.key, comp.value] if isinstance(node, ast.DictComp) else [cast(ast.ListComp, node).elt]
    return [*((part, conditional) for part in comp.generators), *((e, filtered) for e in elements)]


def _assert(node: ast.AST, conditional: bool, params: frozenset[str]) -> _Children:
    """An assert's message runs only when it fails."""
    check = cast(ast.Assert, node)
    out: _Children = [(check.test, conditional)]
    if check.msg is not None:
        out.append((check.msg, True))
    return out


_BRANCHES: dict[type, Callable[[ast.AST, bool, frozenset[str]], _Children]] = {
    ast.If: _if, ast.IfExp: _if, ast.Match: _match, ast.Try: _try, _TRY[-1]: _try, ast.BoolOp: _bool_op,
    ast.While: _while, ast.GeneratorExp: _generator, ast.comprehension: _comprehension, ast.Assert: _assert,
    ast.ListComp: _filtered, ast.SetComp: _filtered, ast.DictComp: _filtered,
}


def _dotted(expr: ast.expr) -> Optional[str]:
    """``a.b.c`` for a plain name or attribute chain; ``a.b()`` keeps a call's result as ``()``."""
    parts: list[str] = []
    while True:
        if isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        elif isinstance(expr, ast.Call) and not parts[-1:] == ["()"]:
            parts.append("()")
            expr = expr.func
        elif isinstance(expr, ast.Name):
            parts.append(expr.id)
            break
        else:
            return None
    text = ""
    for part in reversed(parts):
        text += part if part == "()" or not text else "." + part
    return text


def _resolve_local(summary: ModuleSummary, dotted: Optional[str]) -> Optional[str]:
    """A dotted name as written in the module, made absolute through its imports and definitions."""
    if not dotted:
        return None
    head, dot, rest = dotted.partition(".")
    head, call, _ = head.partition("(")
    absolute = summary.local(head)
    if absolute is None:
        return N.canonical(f"builtins.{head}") if head in _BUILTINS else None
    return N.canonical(absolute + ("()" if call else "") + (dot + rest if dot else ""))


_BUILTINS = frozenset({"open", "input", "print", "exec", "eval", "compile", "__import__"})


# ------------------------------------------------------------------ app wiring
# What a function may do with the app handed to it. Handlers and middleware it registers are read;
# these attributes change them out of sight; any other attribute (routes, state, openapi) is harmless.
_HIDDEN = frozenset({"exception_handlers", "user_middleware", "middleware_stack", "build_middleware_stack"})
_HARMLESS_USES = (ast.Return, ast.Compare, ast.Expr, ast.If, ast.While, ast.FormattedValue, ast.Assert)
# harmless builtins the app may be handed to (not ``getattr``: ``getattr(app, "add_middleware")``)
_HARMLESS_BUILTINS = frozenset({"isinstance", "hasattr", "id", "type", "print", "repr", "str", "len"})
_MAX_SETUP_DEPTH = 4  # setup functions handing the app on, followed at most this deep


class _Names:
    """Names as one function of a module sees them: its own imports, then the module's; names it
    binds itself are unknown, its nested functions are known by their definitions."""

    def __init__(self, summary: ModuleSummary, node: _NODES) -> None:
        self.summary = summary
        self.imports: dict[str, str] = {}
        self.bound = {a.arg for a in _params(node.args)}
        self.defs: dict[str, _NODES] = {}
        for n in ast.walk(node):
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                _bind_import(self.imports, n, summary.package)
            elif isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                self.bound.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not node:
                self.defs.setdefault(n.name, n)

    def resolve(self, expr: Optional[ast.expr]) -> Optional[str]:
        dotted = _dotted(expr) if expr is not None else None
        if dotted is None:
            return None
        head, dot, rest = dotted.partition(".")
        if head in self.imports:
            return N.canonical(self.imports[head] + dot + rest)
        if head in self.bound or head in self.defs:
            return None
        found = _resolve_local(self.summary, dotted)
        return found if found is not None else _builtin_class(dotted)


def _arg(call: ast.Call, position: int, keyword: str) -> Optional[ast.expr]:
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _returned(node: Union[_NODES, ast.Lambda], names: _Names) -> tuple[tuple[Optional[str], Optional[tuple[str, ...]]], ...]:
    """Per value a function (or lambda) may return: the name of the call it is, and the keys of the
    dict literal that call gets first (``JSONResponse({"error": ...})``)."""
    if isinstance(node, ast.Lambda):
        values: list[ast.expr] = [node.body]
    else:
        values = [n.value for n, _ in _own_nodes(node) if isinstance(n, ast.Return) and n.value is not None]
    out: list[tuple[Optional[str], Optional[tuple[str, ...]]]] = []
    while values:
        value = values.pop(0)
        if isinstance(value, ast.Await):
            values.insert(0, value.value)
        elif isinstance(value, ast.BoolOp):
            values[:0] = value.values
        elif isinstance(value, ast.IfExp):
            values[:0] = [value.body, value.orelse]
        elif isinstance(value, ast.Call):
            body = _arg(value, 0, "content")
            keys: Optional[tuple[str, ...]] = None
            if isinstance(body, ast.Dict) and body.keys and all(
                    isinstance(k, ast.Constant) and isinstance(k.value, str) for k in body.keys):
                keys = tuple(str(cast(ast.Constant, k).value) for k in body.keys)
            out.append((names.resolve(value.func), keys))
        else:
            out.append((None, None))
    return tuple(out)


class _SetupReader:
    """What one project function does to the app handed to it as ``param``: the exception handlers
    and middleware it registers, in order, and whether it may do more out of sight (hands the app
    to something unknown, touches ``exception_handlers``, registers later, in a nested function)."""

    def __init__(self, index: "ProjectIndex", summary: ModuleSummary, node: _NODES, param: str,
                 path: frozenset[str]) -> None:
        self.index = index
        self.summary = summary
        self.node = node
        self.param = param
        self.path = path
        self.names = _Names(summary, node)
        self.handlers: list[ForeignHandler] = []
        self.middleware: list[ForeignMiddleware] = []
        self.opaque = False
        self.parents: dict[int, ast.AST] = {}
        for parent in ast.walk(node):
            for child in ast.iter_child_nodes(parent):
                self.parents[id(child)] = parent

    def read(self) -> None:
        # a registration after any early return may not happen (``if settings.PRODUCTION: return``),
        # nor one in a loop's body (it may run no time) or in a try's else
        sometimes: set[int] = set()
        for n in ast.walk(self.node):
            if isinstance(n, (ast.For, ast.AsyncFor, *_TRY)):
                block = cast(ast.For, n)  # a try (its else only) has the same fields
                parts = [*block.orelse] if isinstance(n, _TRY) else [*block.body, *block.orelse]
                sometimes.update(id(d) for part in parts for d in ast.walk(part))
        for n, conditional in _own_nodes(self.node, _EVERY_TEST, scopes=True):
            conditional = conditional or id(n) in sometimes
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._nested(n, conditional)
            elif isinstance(n, (ast.ClassDef, ast.Lambda)):
                self._later(n)
            elif isinstance(n, ast.Name) and n.id == self.param:
                if isinstance(n.ctx, ast.Load):
                    self._use(n, conditional)
                else:
                    self.opaque = True  # rebound: later uses are something else

    def _nested(self, fn: _NODES, conditional: bool) -> None:
        """A function defined inside: its decorators run now (``@app.exception_handler(...)``,
        ``@app.middleware("http")``), its body later."""
        for d in fn.decorator_list:
            func = d.func if isinstance(d, ast.Call) else None
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == self.param:
                assert isinstance(d, ast.Call)
                if func.attr == "exception_handler":
                    self._handler(_arg(d, 0, "exc_class_or_status_code"), fn, conditional)
                elif func.attr == "middleware":
                    self.middleware.append(ForeignMiddleware(None, fn.name, True, self._responds(fn), _catches_all(fn),
                                                             conditional))
                elif func.attr in _HIDDEN:
                    self.opaque = True
                if any(self._mentions(a) for a in [*d.args, *(k.value for k in d.keywords)]):
                    self.opaque = True
            elif self._mentions(d):
                self.opaque = True
        self._later(fn)

    def _later(self, node: Union[_NODES, ast.ClassDef, ast.Lambda]) -> None:
        """A nested body runs at another time: registering there, or handing the app on, is out of sight."""
        if not isinstance(node, ast.ClassDef) and self.param in {a.arg for a in _params(node.args)}:
            return  # its own parameter of that name
        body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else [*node.body]
        for part in body:
            for n in ast.walk(part):
                if isinstance(n, ast.Name) and n.id == self.param:
                    parent = self.parents.get(id(n))
                    if not (isinstance(parent, ast.Attribute) and parent.attr not in _HIDDEN | _REGISTERS):
                        self.opaque = True
                        return

    def _tested(self, name: ast.Name) -> bool:
        """The app only tested for truth (``if not app:``, ``a if app else b``): its value goes nowhere."""
        node: ast.AST = name
        parent = self.parents.get(id(node))
        while isinstance(parent, (ast.BoolOp, ast.UnaryOp)):
            node, parent = parent, self.parents.get(id(parent))
        return isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and getattr(parent, "test", None) is node

    def _mentions(self, expr: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and n.id == self.param for n in ast.walk(expr))

    def _use(self, name: ast.Name, conditional: bool) -> None:
        parent = self.parents.get(id(name))
        if isinstance(parent, ast.Attribute):
            call = self.parents.get(id(parent))
            called = isinstance(call, ast.Call) and call.func is parent
            attr = parent.attr
            if attr in _HIDDEN:
                self.opaque = True
            elif attr == "add_exception_handler" and called:
                assert isinstance(call, ast.Call)
                self._handler(_arg(call, 0, "exc_class_or_status_code"), _arg(call, 1, "handler"), conditional)
            elif attr == "add_middleware" and called:
                assert isinstance(call, ast.Call)
                first = _arg(call, 0, "middleware_class")
                written = _dotted(first) if first is not None else None
                cls = self.names.resolve(first)
                self.middleware.append(ForeignMiddleware(cls and (self.index.origin(cls) or cls),
                                                         (written or "a middleware").rpartition(".")[2],
                                                         conditional=conditional))
            elif attr == "exception_handler" and called:
                outer = self.parents.get(id(call))  # ``app.exception_handler(Error)(handle)``
                if isinstance(outer, ast.Call) and outer.func is call and len(outer.args) == 1:
                    assert isinstance(call, ast.Call)
                    self._handler(_arg(call, 0, "exc_class_or_status_code"), outer.args[0], conditional)
                else:
                    self.opaque = True
            elif attr in _REGISTERS or attr.startswith("__"):
                self.opaque = True  # aliased (``add = app.add_middleware``), or not as a decorator here
            return
        if isinstance(parent, ast.keyword):
            call = self.parents.get(id(parent))
            argument = f"{parent.arg}@" if parent.arg else None
        elif isinstance(parent, ast.Call) and name in parent.args:
            call, position = parent, parent.args.index(name)
            starred = any(isinstance(a, ast.Starred) for a in parent.args[:position])
            argument = None if starred else f"@{position}"
        else:
            if not (isinstance(parent, _HARMLESS_USES) or self._tested(name)):
                self.opaque = True  # stored, put in a container, returned inside something...
            return
        if not isinstance(call, ast.Call) or argument is None:
            self.opaque = True
            return
        self._handed(call, argument, conditional)

    def _handed(self, call: ast.Call, argument: str, conditional: bool) -> None:
        """The app handed to another call: one that serves or wraps it, or a project function read in turn."""
        func = call.func
        if isinstance(func, ast.Name) and func.id in _HARMLESS_BUILTINS and func.id not in self.names.bound \
                and self.summary.local(func.id) is None and func.id not in self.names.imports:
            return
        q = self.names.resolve(func)
        if q is None:
            self.opaque = True
            return
        if q in N.SERVE_OR_WRAP:
            return
        inner = self.index.app_setup(q, argument, self.path)
        if inner is None or inner.opaque:
            self.opaque = True
            return
        self.handlers.extend(replace(h, conditional=True) if conditional else h for h in inner.handlers)
        self.middleware.extend(replace(m, conditional=True) if conditional else m for m in inner.middleware)

    def _handler(self, key: Optional[ast.expr], handler: Optional[Union[ast.expr, _NODES]], conditional: bool) -> None:
        status = key.value if isinstance(key, ast.Constant) and type(key.value) is int else None
        name = self.names.resolve(key) if isinstance(key, (ast.Name, ast.Attribute)) else None
        bases: tuple[str, ...] = ()
        if name is not None:
            name = self.index.origin(name) or name
            if self.index.project_class(name):  # its ancestors from outside the project say what it is
                bases = tuple(N.canonical(self.index.origin(b) or b) for b in self.index.mro(name)[1:]
                              if not self.index.project_class(b))
        try:
            label = ast.unparse(key) if key is not None else "?"
        except (RecursionError, ValueError):
            label = "?"
        self.handlers.append(ForeignHandler(name, status, label if len(label) <= 30 else label[:29] + "...",
                                            bases, self._answers(handler), conditional))

    def _answers(self, handler: Optional[Union[ast.expr, _NODES]]) -> tuple[tuple[Optional[str], Optional[tuple[str, ...]]], ...]:
        if handler is None:
            return ()
        if isinstance(handler, ast.Name) and handler.id in self.names.defs:
            handler = self.names.defs[handler.id]
        if isinstance(handler, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return _returned(handler, self.names)
        q = self.names.resolve(handler)
        if q is None:
            return ()
        fn, cls = self.index._function(q)
        summary = self.index.module(fn.module) if fn is not None and cls is None else None
        parsed = _function_node(summary, fn) if summary is not None and fn is not None else None
        if parsed is not None and parsed[0] is not None and summary is not None:
            return _returned(parsed[0], _Names(summary, parsed[0]))
        return ((q, None),)  # a library's handler (``fastapi.exception_handlers.http_exception_handler``)

    def _responds(self, fn: _NODES) -> bool:
        """A middleware function that builds a response of its own (a 403, a redirect)."""
        for n, _ in _own_nodes(fn):
            if isinstance(n, ast.Call):
                q = self.names.resolve(n.func) or _dotted(n.func) or ""
                if q.rpartition(".")[2].lower().endswith("response"):  # JSONResponse, error_response()
                    return True
        return False


_REGISTERS = frozenset({"add_exception_handler", "exception_handler", "add_middleware", "middleware"})


def _catches_all(fn: _NODES) -> bool:
    """``except:``, ``except Exception`` or ``except BaseException`` in the function."""
    for n in ast.walk(fn):
        if isinstance(n, ast.ExceptHandler):
            types = n.type.elts if isinstance(n.type, ast.Tuple) else [n.type]
            if any(t is None or (isinstance(t, ast.Name) and t.id in ("Exception", "BaseException")) for t in types):
                return True
    return False


def _parameter(args: ast.arguments, argument: str) -> Optional[str]:
    """The parameter an argument given as ``@i`` (by position) or ``name@`` (by keyword) binds."""
    if argument.startswith("@"):
        positional = [*args.posonlyargs, *args.args]
        i = int(argument[1:])
        return positional[i].arg if i < len(positional) else None
    name = argument[:-1]
    return name if name in {a.arg for a in [*args.args, *args.kwonlyargs]} else None


# ------------------------------------------------------------------ the project
class ProjectIndex:
    """The summaries of a project's modules, read on first use from the package root."""

    def __init__(self, root: Union[str, Path], store: Optional["SummaryStore"] = None) -> None:
        self.root = Path(root).resolve()
        self.store = store  # summaries on disk, shared by processes and runs
        self._modules: dict[str, Optional[ModuleSummary]] = {}
        self._chains: dict[tuple[str, CallJudge, bool], Optional[RemoteChain]] = {}
        self._located: dict[str, tuple[Union[FunctionSummary, str], Optional[str]]] = {}
        self._mros: dict[str, list[str]] = {}
        self._kinds: dict[str, Optional[N.AppKind]] = {}
        self._setups: dict[tuple[str, str], Optional[AppSetup]] = {}
        self._includes: Optional[dict[str, list[tuple[Optional[str], Optional[str]]]]] = None
        self._mounts_add: Optional[bool] = None  # see mounts_add_parameters
        self._served: dict[str, bool] = {}  # see served_plainly
        self._file_lists: dict[str, Optional[list[str]]] = {}  # see _files

    @classmethod
    def of(cls, path: Union[str, Path]) -> "ProjectIndex":
        """The index of the project a file belongs to (its package root)."""
        return cls(package_root(path))

    def module(self, name: str) -> Optional[ModuleSummary]:
        """The summary of module ``name`` of this project, or None when the project has no such module."""
        if name in self._modules:
            return self._modules[name]
        found: Optional[ModuleSummary] = None
        parts = name.split(".")
        if all(part.isidentifier() for part in parts):
            bases = [self.root.joinpath(*parts)]
            if parts[0] == self.root.name:
                # ``app.services.tts`` seen from inside a folder ``app`` without ``__init__.py``: a
                # namespace package (``uvicorn app.main:app``), found from the folder above
                bases.append(self.root.parent.joinpath(*parts))
            found = next((m for m in (self._read(base, name) for base in bases) if m is not None), None)
        self._modules[name] = found
        return found

    def _read(self, base: Path, name: str) -> Optional[ModuleSummary]:
        """Module ``name`` as ``base/__init__.py`` or ``base.py``, summarised (or read from the
        store, by its content); None when neither exists."""
        for path, is_package in ((base / "__init__.py", True), (base.with_suffix(".py"), False)):
            if path.is_file():
                try:
                    too_large = path.stat().st_size > _MAX_BYTES
                    source = b"" if too_large else path.read_bytes()
                except OSError:
                    return None
                if too_large:
                    found = ModuleSummary(name, str(path), is_package)
                    found.parse_error = f"larger than {_MAX_BYTES:,} bytes: not summarised"
                    return found
                key = self.store.key(name, is_package, source) if self.store is not None else ""
                stored = self.store.get(key, str(path), source) if self.store is not None else None
                if stored is not None:
                    return stored
                found = summarize(source, name, str(path), is_package, bodies=False)
                if self.store is not None:
                    self.store.put(key, found)
                return found
        return None

    def modules(self) -> Iterator[ModuleSummary]:
        """Every module below the root (hidden folders and virtualenvs skipped), summarised."""
        try:
            paths = list(walk_modules(self.root))
        except TreeTooLarge:
            return
        for path in paths:
            name = module_name(path, self.root)
            summary = self.module(name) if name else None
            if summary is not None:
                yield summary

    def resolve(self, qualname: str) -> Optional[str]:
        """The project definition an absolute name stands for, following re-exports
        (``app.routing.AuditedRouter`` for ``app.AuditedRouter`` when ``app/__init__.py`` imports
        it); None when it is not a definition of this project."""
        found, inside = self._lead(qualname)
        return found if inside else None

    def origin(self, qualname: str) -> Optional[str]:
        """Where a name leads through the project's imports: a project definition, or the name
        outside the project it re-exports (``fastapi.HTTPException`` for ``app.compat.HTTPException``
        when ``app/compat.py`` imports it); None when a project module has no such name."""
        return self._lead(qualname)[0]

    def _lead(self, qualname: str) -> tuple[Optional[str], bool]:
        """:meth:`origin`, and whether that is a definition of this project. Loops end unknown."""
        seen: set[str] = set()
        current = qualname
        for _ in range(_MAX_DEPTH):
            if current in seen or "(" in current:
                return None, False
            seen.add(current)
            module, _, name = current.rpartition(".")
            summary = self.module(module) if module else None
            if summary is None:
                return current, False  # outside the project
            if name in summary.functions or name in summary.classes or name in summary.assigned \
                    or name in summary.annotated:
                return current, True
            target = summary.imports.get(name)
            if target is None:
                return None, False
            current = target
        return None, False

    def function(self, qualname: str) -> Optional[FunctionSummary]:
        """The project function an absolute name calls: a function; a method named through its
        class (``app.api.Items.get``), an instance (``app.api.Items().get``) or a module-level
        instance (``app.services.tts.engine.speak`` where ``engine = Speaker()``), inherited
        methods included; a class's constructor for a class (see :meth:`constructor`)."""
        return self._function(qualname)[0]

    def _function(self, qualname: str) -> tuple[Optional[FunctionSummary], Optional[str]]:
        """:meth:`function`, with the class of the object a method is called on (None for a
        plain function): inside that method, ``self`` is an instance of it."""
        if "(" not in qualname:
            found = self.resolve(qualname)
            if found is not None:
                module, _, name = found.rpartition(".")
                summary = self.module(module)
                if summary is not None and name in summary.functions:
                    return summary.functions[name], None
                if summary is not None and name in summary.classes:
                    return self.constructor(found), found
        owner, _, method = qualname.rpartition(".")
        if not owner or "(" in method:
            return None, None
        if owner.endswith("()") and "(" not in owner[:-2]:
            cls = self.resolve(owner[:-2])
        elif "(" not in owner:
            cls = self.resolve(owner)
            bound = self.binding(cls) if cls is not None else None
            if bound is not None:  # ``engine = Speaker()``: the instance's class
                cls = self.resolve(bound[:-2]) if bound.endswith("()") and "(" not in bound[:-2] else None
        else:
            return None, None
        return (self.method(cls, method), cls) if cls is not None else (None, None)

    def method(self, cls: str, name: str) -> Optional[FunctionSummary]:
        """Method ``name`` of project class ``cls``, defined there or inherited from a project base
        (in Python's method resolution order); None when a base from outside the project comes
        first (it may define it)."""
        for owner in self.mro(cls):
            module, _, local = owner.rpartition(".")
            summary = self.module(module) if module else None
            if summary is None or local not in summary.classes:
                return None  # a class from outside the project: its methods are unknown
            fn = summary.functions.get(f"{local}.{name}")
            if fn is not None:
                return fn
        return None

    def constructor(self, cls: str) -> Optional[FunctionSummary]:
        """The ``__init__`` calling project class ``cls`` runs, or None: none in the project, or one
        a class decorator may replace (``@dataclass`` writes its own ``__init__``, which never
        calls its base's)."""
        for owner in self.mro(cls):
            module, _, local = owner.rpartition(".")
            summary = self.module(module) if module else None
            info = summary.classes.get(local) if summary is not None else None
            if summary is None or info is None:
                return None
            fn = summary.functions.get(f"{local}.__init__")
            if info.decorated:
                return None
            if fn is not None:
                return fn
        return None

    def mro(self, cls: str) -> list[str]:
        """A project class and its bases in Python's method resolution order (C3), each resolved
        to its definition (a base from outside the project as written, without its own bases);
        loops and inconsistent hierarchies end. Memoised."""
        found = self._mros.get(cls)
        if found is None:
            found = self._mros[cls] = self._linearize(cls, frozenset())
        return found

    def _linearize(self, cls: str, path: frozenset[str]) -> list[str]:
        name = self.resolve(cls) or cls
        module, _, local = name.rpartition(".")
        summary = self.module(module) if module else None
        info = summary.classes.get(local) if summary is not None else None
        if info is None or name in path or len(path) > _MAX_DEPTH:
            return [name]
        bases = [self.resolve(b) or b for b in info.bases]
        sequences = [self._linearize(b, path | {name}) for b in bases] + [bases]
        out = [name]
        for _ in range(200):
            sequences = [seq for seq in sequences if seq]
            if not sequences:
                return out
            head = next((seq[0] for seq in sequences if not any(seq[0] in other[1:] for other in sequences)), None)
            if head is None:  # no consistent order (Python would refuse the class): the rest, as met
                return list(dict.fromkeys(out + [c for seq in sequences for c in seq]))
            out.append(head)
            sequences = [seq[1:] if seq[0] == head else seq for seq in sequences]
        return out

    def read(self, fn: FunctionSummary) -> FunctionSummary:
        """``fn`` with its body read (what it calls, gives, whether it is a generator)."""
        summary = self.module(fn.module)
        if summary is not None:
            read_body(summary, fn)
        return fn

    def binding(self, definition: str) -> Optional[str]:
        """What a project's module-level name is bound to by a call (``sqlalchemy.orm.sessionmaker()``
        for ``app.db.SessionLocal``), or None."""
        module, _, local = definition.rpartition(".")
        summary = self.module(module) if module else None
        return summary.assigned.get(local) if summary is not None else None

    def _returns(self, definition: str) -> Optional[str]:
        """What calling a project function gives (:attr:`FunctionSummary.returns`), or None."""
        module, _, local = definition.rpartition(".")
        summary = self.module(module) if module else None
        if summary is None or local not in summary.functions:
            return None
        fn = summary.functions[local]
        read_body(summary, fn)
        return fn.returns

    def attribute(self, cls: str, name: str) -> Optional[str]:
        """What attribute ``name`` of a project class's instances is bound to (``requests.Session()``
        for ``self.http = requests.Session()`` in a method), looked up in its bases too."""
        for owner in self.mro(cls):
            module, _, local = owner.rpartition(".")
            summary = self.module(module) if module else None
            if summary is not None and local in summary.classes:
                for method, fn in summary.functions.items():  # ``self.http = ...`` in any of its methods
                    if method.startswith(local + "."):
                        read_body(summary, fn)
                info = summary.classes[local]
                if name in info.attrs:
                    return info.attrs[name]
        return None

    def locate(self, qualname: str) -> Union[FunctionSummary, str]:
        """What a call of ``qualname`` runs: a project function to follow, or else the name of what
        it calls outside the project, the project's bindings substituted (``app.db.SessionLocal().query``
        is ``sqlalchemy.orm.sessionmaker()().query``; ``app.api.Client().http.get`` is
        ``requests.Session().get`` when ``self.http = requests.Session()``). Memoised."""
        return self._locate(qualname)[0]

    def _locate(self, qualname: str) -> tuple[Union[FunctionSummary, str], Optional[str]]:
        """:meth:`locate`, with the class of the object a method is called on (see
        :meth:`_function`). Memoised."""
        found = self._located.get(qualname)
        if found is not None:
            return found
        current = qualname
        result: tuple[Union[FunctionSummary, str], Optional[str]] = (qualname, None)
        for _ in range(_MAX_DEPTH):
            fn, cls = self._function(current)
            if fn is not None:
                result = (fn, cls)
                break
            result = (current, None)
            expanded = self._expand(current)
            if expanded is None or expanded == current:
                break
            current = expanded
        self._located[qualname] = result
        return result

    def _expand(self, qualname: str) -> Optional[str]:
        """``qualname`` with its first project binding substituted, or None when it has none."""
        segments = qualname.split(".")
        prefix = ""
        for i, segment in enumerate(segments):
            name = segment.split("(", 1)[0]
            calls = segment[len(name):]
            prefix = f"{prefix}.{name}" if prefix else name
            found = self.resolve(prefix) if i else None
            if found is None:
                if calls:
                    return None  # a call of something outside the project
                continue
            rest = segments[i + 1:]
            bound = self.binding(found)
            if bound is not None:
                return ".".join([bound + calls, *rest])
            gives = self._returns(found) if calls else None
            if gives is not None:  # ``get_db().query`` where get_db gives a Session
                return ".".join([gives + calls[2:], *rest])
            if calls == "()" and rest:
                attr = rest[0].split("(", 1)[0]
                value = self.attribute(found, attr)
                if value is not None:
                    return ".".join([value + rest[0][len(attr):], *rest[1:]])
            return None
        return None

    def ancestors(self, qualname: str) -> list[str]:
        """The absolute names of a project class's bases and theirs, across modules, in method
        resolution order (each once; loops end); empty for a name that is not a project class."""
        return list(dict.fromkeys(self.mro(qualname)[1:]))

    def app_setup(self, qualname: str, argument: str, path: frozenset[str] = frozenset()) -> Optional[AppSetup]:
        """What the project function ``qualname`` does to the app handed to it (``argument``: ``@0``
        by position, ``app@`` by keyword): the handlers and middleware it registers, following the
        project functions it hands the app on to; None when it is not a plain project function
        (a method, a class, a decorated function) or cannot be read. Memoised for the questions
        asked first-hand (``path`` empty): an answer never depends on what was asked before."""
        key = (qualname, argument)
        if not path and key in self._setups:  # read deeper, the same function has less depth left
            return self._setups[key]
        fn, cls = self._function(qualname)
        if fn is None or cls is not None or fn.decorated or fn.is_async or fn.qualname in path \
                or len(path) >= _MAX_SETUP_DEPTH:
            return None  # (a loop, or too deep: not memoised, another way in may read it)
        summary = self.module(fn.module)
        parsed = _function_node(summary, fn) if summary is not None else None
        node = parsed[0] if parsed is not None else None
        param = _parameter(node.args, argument) if node is not None else None
        found: Optional[AppSetup] = None
        if node is not None and any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n, _ in _own_nodes(node)):
            param = None  # a generator: calling it runs nothing
        if summary is not None and parsed is not None and parsed[0] is not None and param is not None:
            reader = _SetupReader(self, summary, parsed[0], param, path | {fn.qualname})
            reader.read()
            found = AppSetup(fn.qualname, tuple(reader.handlers), tuple(reader.middleware), reader.opaque)
        if not path:
            self._setups[key] = found
        return found

    def annotation(self, qualname: str) -> Optional[str]:
        """What a name used in a parameter's annotation is: ``"type"`` (a project class, or an
        ``Annotated[...]`` alias with plain metadata), ``"depends"`` (an alias whose metadata may
        take request values by name), ``"outside"`` (not a definition of this project); None
        when it is some other project name."""
        found, inside = self._lead(qualname)
        if not inside or found is None:
            return "outside" if found is not None else None
        module, _, local = found.rpartition(".")
        summary = self.module(module) if module else None
        if summary is None:
            return None
        if local in summary.classes:
            return "type"
        if local in summary.annotated:
            return "depends" if summary.annotated[local] else "type"
        return None

    def project_class(self, qualname: str) -> bool:
        """``qualname`` names a class defined in the project."""
        found = self.resolve(qualname)
        module, _, local = (found or "").rpartition(".")
        summary = self.module(module) if module else None
        return summary is not None and local in summary.classes

    def blocking_chain(self, start: str, calls: CallJudge, awaited: bool = False) -> Optional[RemoteChain]:
        """:meth:`ProjectView.blocking_chain` from an absolute name (memoised per judge). Inside a
        method reached through an object, ``self.other()`` is looked up on that object's class
        (a subclass may override what the defining class has)."""
        key = (start, calls, awaited)
        if key in self._chains:
            return self._chains[key]
        found: Optional[RemoteChain] = None
        first, first_cls = self._locate(start)
        if isinstance(first, FunctionSummary) and _runs(self.read(first), awaited):
            # (helper, its chain so far, the class of the object it was called on, which helpers are async)
            queue: list[tuple[FunctionSummary, tuple[str, ...], Optional[str], tuple[bool, ...]]] = [
                (first, (first.qualname,), first_cls, (first.is_async,))]
            seen = {first.qualname}
            i = 0
            while i < len(queue) and found is None:
                fn, path, receiver, asyncs = queue[i]
                i += 1
                defining = fn.qualname.rpartition(".")[0]  # a method's class (a function's module)
                follow: list[tuple[FunctionSummary, Optional[str]]] = []
                hits: list[tuple[CallRef, str]] = []
                for call in fn.calls:
                    target = call.target
                    if receiver is not None and receiver != defining:
                        for prefix in (defining + "().", defining + "."):  # self.m() / cls.m()
                            if target.startswith(prefix):
                                target = receiver + prefix[len(defining):] + target[len(prefix):]
                                break
                    if call.conditional or calls.safe(target):
                        continue
                    where, cls = self._locate(target)
                    if isinstance(where, FunctionSummary):
                        if not hits and where.qualname not in seen and _runs(self.read(where), call.awaited):
                            follow.append((where, cls))
                    elif not call.awaited and not calls.safe(where) and calls.blocks(where, call.quiet, call.given):
                        hits.append((call, where))
                if hits:
                    call, where = hits[0]
                    found = RemoteChain(path, where, fn.qualname, call.line, fn.is_async, len(hits) - 1, asyncs)
                if found is None and len(path) < _MAX_HOPS:
                    for callee, cls in follow:
                        if callee.qualname not in seen:
                            seen.add(callee.qualname)
                            queue.append((callee, path + (callee.qualname,), cls, asyncs + (callee.is_async,)))
        self._chains[key] = found
        return found

    def instance_kind(self, qualname: str) -> Optional[N.AppKind]:
        """The app kind of a project's module-level object (``router = APIRouter()``), or None."""
        definition = self.resolve(qualname)
        bound = self.binding(definition) if definition is not None else None
        if bound is None or not bound.endswith("()") or "(" in bound[:-2]:
            return None
        cls = bound[:-2]
        return N.APP_CLASSES.get(N.canonical(cls)) or self.app_kind(cls)

    def route_prefixes(self, router: str) -> list[str]:
        """The full prefixes a router's routes get from ``include_router`` calls anywhere in the
        project (``api_router.include_router(items.router, prefix="/items")`` in ``app/api.py``,
        ``app.include_router(api_router, prefix="/api")`` in ``app/main.py``), its own
        ``prefix=`` included; empty when no module includes it with a literal prefix."""
        target = self.resolve(router)
        includes = self.includes()
        if target is None or target not in includes:
            return []

        def full(definition: str, seen: frozenset[str]) -> list[str]:
            module, _, local = definition.rpartition(".")
            summary = self.module(module)
            own = summary.prefixes.get(local, "") if summary is not None else ""
            outer: list[str] = []
            for parent, prefix in includes.get(definition, ()):
                if prefix is None:
                    raise _UnknownPath(definition)
                if parent is not None and parent in seen:
                    continue
                above = full(parent, seen | {parent}) if parent is not None else [""]
                outer.extend(a + prefix for a in above)
            return list(dict.fromkeys(o + own for o in (outer or [""])))[:20]

        try:
            return full(target, frozenset({target}))
        except _UnknownPath:
            return []  # one include with a prefix that is not a literal: the full paths are unknown

    def _files(self, tests: bool) -> Optional[list[str]]:
        """The project's modules (test files too, or not), with the project's folder above a
        ``src`` root (an entry point beside a src layout, :func:`.layout.beside_src`); None for a
        tree too large to walk. Read once."""
        key = "all" if tests else "application"
        if key in self._file_lists:
            return self._file_lists[key]
        above = beside_src(self.root)
        roots = [self.root] + ([above] if above is not None else [])
        seen: set[str] = set()
        out: Optional[list[str]] = []
        try:
            for root in roots:
                for p in walk_modules(root):
                    if p not in seen and (tests or not _TEST_PATH.search(os.path.relpath(p, root).replace(os.sep, "/"))):
                        seen.add(p)
                        out.append(p)  # type: ignore[union-attr]
        except TreeTooLarge:
            out = None
        if out is not None and len(out) > MAX_FILES:
            out = None
        self._file_lists[key] = out
        return out

    def mounts_add_parameters(self) -> bool:
        """Whether the project's code (its tests too) may put path parameters before a routes
        list: a ``Mount``/``Host`` call, ``.mount``/``.host``, or ``include_router`` whose prefix
        has ``{`` in it or is not a literal; and, unknown, so True: ``Mount``/``Host`` imported
        under another name, subclassed, or used other than by a call, a module that cannot be
        read or parsed, a tree too large to walk. Read once per index."""
        if self._mounts_add is not None:
            return self._mounts_add
        files = self._files(tests=True)
        found = files is None
        for path in files or ():
            data = _source_of(path)
            if data is None:
                found = True  # too large, or unreadable: unknown
            elif any(word in data for word in (b"Mount", b"mount", b"Host", b"host", b"include_router")):
                try:
                    found = _may_add_parameters(ast.parse(data))
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    found = True
            if found:
                break
        self._mounts_add = found
        return found

    def served_plainly(self, definition: str) -> bool:
        """Whether the routes list ``definition`` (``app.pages.routes``) is served by the project:
        some module (test files left out) passes it to ``Starlette(routes=...)``, ``Router(...)``,
        ``Mount(path, routes=...)`` or ``FastAPI(routes=...)``, alone, in a list or with ``+``;
        and nothing else refers to it (``.extend``, passed on, re-exported and used elsewhere:
        unknown). False also when nobody serves it (a library's list, mounted by its users).
        Memoised per index."""
        found = self._served.get(definition)
        if found is None:
            found = self._served[definition] = self._served_plainly(definition)
        return found

    def _served_plainly(self, definition: str) -> bool:
        module, _, name = definition.rpartition(".")
        summary = self.module(module)
        here = os.path.abspath(summary.path) if summary is not None else None
        served = False
        for path in self._files(tests=False) or ():
            if os.path.abspath(path) == here:
                continue
            data = _source_of(path)
            if data is None or name.encode() not in data:
                continue
            try:
                tree = ast.parse(data)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return False  # it may refer to the list: unknown
            mine = module_name(path, self.root) or ""
            package = mine if path.endswith("__init__.py") else mine.rpartition(".")[0]
            names: dict[str, str] = {}
            parents: dict[int, ast.AST] = {}
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    parents[id(child)] = node
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    _bind_import(names, node, package)

            def meaning(expr: ast.expr) -> Optional[str]:
                written = _dotted(expr)
                if written is None or "(" in written:
                    return None
                head, _, rest = written.partition(".")
                if head not in names:
                    return None
                absolute = names[head] + ("." + rest if rest else "")
                return self.resolve(absolute) or absolute

            for node in ast.walk(tree):
                if not isinstance(node, (ast.Name, ast.Attribute)) or meaning(node) != definition:
                    continue
                if not _served_by(node, parents, meaning):
                    return False  # used some other way: unknown
                served = True
        return served

    def includes(self) -> dict[str, list[tuple[Optional[str], Optional[str]]]]:
        """Every ``X.include_router(Y, prefix="...")`` of the project's code (test files left out):
        the definition of Y -> [(the definition of X, or None for an app built in a function;
        the prefix, or None when it is not a literal)]. Only modules whose text mentions
        ``include_router`` are parsed; a name a function binds itself is its own, not the
        module's. Read once per index; nothing for a tree too large to walk."""
        if self._includes is not None:
            return self._includes
        found: dict[str, list[tuple[Optional[str], Optional[str]]]] = {}
        try:
            paths = [p for p in walk_modules(self.root)
                     if not _TEST_PATH.search(os.path.relpath(p, self.root).replace(os.sep, "/"))]
        except TreeTooLarge:
            paths = []
        for path in paths[:MAX_FILES]:
            data = _source_of(path)
            if data is None or b"include_router" not in data:
                continue
            name = module_name(path, self.root)
            summary = self.module(name) if name else None
            if summary is None or summary.parse_error is not None:
                continue
            try:
                tree = ast.parse(data)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            names = dict(summary.imports)  # with the imports functions make (``def create_app(): from . import x``)
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    _bind_import(names, node, summary.package)
            for call, local in _include_calls(tree):
                given = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "router"), None)
                prefix_arg = next((k.value for k in call.keywords if k.arg == "prefix"), None)
                prefix: Optional[str] = ""
                if prefix_arg is not None:
                    value = prefix_arg.value if isinstance(prefix_arg, ast.Constant) else None
                    prefix = value if isinstance(value, str) else None
                router = self._definition(summary, names, given, local)
                if router is not None:
                    parent = self._definition(summary, names, cast(ast.Attribute, call.func).value, local)
                    found.setdefault(router, []).append((parent, prefix))
        self._includes = found
        return found

    def _definition(self, summary: ModuleSummary, names: dict[str, str], expr: Optional[ast.expr],
                    local: frozenset[str] = frozenset()) -> Optional[str]:
        """The project definition a name written in ``summary``'s module stands for, or None (also
        for a name the enclosing function binds itself, in ``local``)."""
        written = _dotted(expr) if expr is not None else None
        if written is None or "(" in written:
            return None
        head, _, rest = written.partition(".")
        if head in local:
            return None
        if head in names and head not in summary.defined:
            absolute: Optional[str] = names[head] + ("." + rest if rest else "")
        else:
            absolute = _resolve_local(summary, written)
        return self.resolve(absolute) if absolute is not None else None

    def outside(self, qualname: str) -> Optional[str]:
        """What a name that leads through the project's bindings calls outside it, when that differs
        from the name itself (``app.db.SessionLocal().query`` -> ``sqlalchemy.orm.sessionmaker()().query``)."""
        where = self.locate(qualname)
        return where if isinstance(where, str) and where != qualname else None

    def app_kind(self, qualname: str) -> Optional[N.AppKind]:
        """The app or router kind a project class builds (a subclass of ``FastAPI``, ``APIRouter``,
        ``Starlette`` or ``Router`` in another module), or None: the framework step's seam. Memoised."""
        if qualname in self._kinds:
            return self._kinds[qualname]
        found: Optional[N.AppKind] = None
        for base in self.ancestors(qualname):
            found = N.APP_CLASSES.get(N.canonical(base))
            if found is not None:
                break
        self._kinds[qualname] = found
        return found


# the calls that put a prefix before routes, and where their prefix is: (positional index, keyword)
_PREFIXING = {"Mount": (0, "path"), "mount": (0, "path"), "Host": (0, "host"), "host": (0, "host"),
              "include_router": (None, "prefix")}


def _source_of(path: str) -> Optional[bytes]:
    """A module's bytes; None when it is larger than a module the index reads, or unreadable."""
    try:
        if os.path.getsize(path) > _MAX_BYTES:
            return None
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


# what serves a routes list it is given: the class, and where its routes are (positional index)
_SERVERS = {"starlette.applications.Starlette": 1, "starlette.routing.Router": 0, "starlette.routing.Mount": 2,
            "fastapi.applications.FastAPI": None, "fastapi.FastAPI": None, "starlette.Starlette": 1}


def _served_by(ref: ast.AST, parents: dict[int, ast.AST], meaning: Callable[[ast.expr], Optional[str]]) -> bool:
    """``ref`` is (in a list, a ``*`` or a ``+`` of) the routes argument of a call that serves it."""
    node = ref
    parent = parents.get(id(node))
    while isinstance(parent, (ast.List, ast.Tuple, ast.Starred, ast.BinOp)) and \
            (not isinstance(parent, ast.BinOp) or isinstance(parent.op, ast.Add)):
        node, parent = parent, parents.get(id(parent))
    if isinstance(parent, ast.keyword):
        call = parents.get(id(parent))
        return isinstance(call, ast.Call) and parent.arg == "routes" and meaning(call.func) in _SERVERS
    if isinstance(parent, ast.Call) and any(a is node for a in parent.args):
        index = _SERVERS.get(meaning(parent.func) or "", -1)
        return index is not None and index >= 0 and len(parent.args) > index and parent.args[index] is node
    return False


_PREFIXERS = frozenset({"Mount", "Host"})


def _may_add_parameters(tree: ast.Module) -> bool:
    """A module's code may put path parameters before routes (see ``mounts_add_parameters``)."""
    called: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called.add(id(node.func))
            if _parameterised_prefix(node):
                return True
        elif isinstance(node, ast.ImportFrom) and any(a.name in _PREFIXERS and a.asname not in (None, a.name)
                                                      for a in node.names):
            return True  # ``Mount as M``: calls we would not recognise
        elif isinstance(node, ast.ClassDef) and any(
                (b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", None)) in _PREFIXERS for b in node.bases):
            return True  # a subclass of Mount or Host
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name in _PREFIXERS and id(node) not in called and not isinstance(getattr(node, "ctx", None), ast.Store):
            return True  # ``partial(Mount, ...)``, ``make = Mount``: used as a value
    return False


def _parameterised_prefix(call: ast.Call) -> bool:
    """A prefixing call whose prefix has ``{`` in it or is not a literal."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    where = _PREFIXING.get(name or "")
    if where is None:
        return False
    index, word = where
    given = call.args[index] if index is not None and len(call.args) > index else \
        next((k.value for k in call.keywords if k.arg == word), None)
    if given is None:
        return index is not None and any(isinstance(a, ast.Starred) for a in call.args) \
            or any(k.arg is None for k in call.keywords)  # Mount(*args) / (**options): unknown
    return not (isinstance(given, ast.Constant) and isinstance(given.value, str)) or "{" in given.value


class _UnknownPath(Exception):
    """An ``include_router`` on the way to an app has a prefix that is not a literal."""


# Test code: its include_router calls build apps for tests, not the application's paths.
_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")


def _include_calls(tree: ast.Module) -> Iterator[tuple[ast.Call, frozenset[str]]]:
    """The ``.include_router(...)`` calls of a module, each with the names its function binds
    itself (empty at module level)."""
    scopes: list[tuple[Union[ast.Module, _NODES], frozenset[str]]] = [(tree, frozenset())]
    while scopes:
        scope, bound = scopes.pop()
        body = scope.body
        stack: list[ast.AST] = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                params = {a.arg for a in _params(args)}
                stores = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                scopes.append((node, bound | params | stores))  # a closure sees its function's names
                stack.extend(node.decorator_list)
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "include_router":
                yield node, bound
            stack.extend(ast.iter_child_nodes(node))


class SummaryStore:
    """Module summaries on disk, keyed by the module's name and content and the linter's own
    source: ``flake8 -j`` workers, the command's workers and later runs read a module another
    process summarised instead of parsing it again. One small JSON file per module under
    ``<cache directory>/project-v1/<2 hex>/<key>.json``, written atomically; an unreadable
    entry is a miss. JSON, not pickle: a cache directory inside a checked-out repository must
    never be able to run code. Function bodies are not stored: they are read on demand from
    the source (:func:`read_body`)."""

    FORMAT = "project-v1"  # the key hashes the package source too: a new format never meets an old entry

    def __init__(self, directory: Union[str, Path]) -> None:
        self.directory = Path(directory)
        self._cache = Cache(self.directory)

    def key(self, name: str, is_package: bool, source: bytes) -> str:
        digest = hashlib.sha256(package_fingerprint().encode())
        digest.update(f"\0{name}\0{int(is_package)}\0".encode())
        digest.update(source)
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / self.FORMAT / key[:2] / f"{key}.json"

    def get(self, key: str, path: str, source: bytes) -> Optional[ModuleSummary]:
        try:
            with open(self._entry(key), encoding="utf-8") as fh:
                data = json.load(fh)
            summary = _from_json(data, key, path)
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None
        if summary is not None and summary.functions:
            summary.lines = _lines(source)
        return summary

    def put(self, key: str, summary: ModuleSummary) -> None:
        try:
            self._cache.prepare()
            target = self._entry(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps(_to_json(summary, key), separators=(",", ":")).encode("utf-8")
            replace_file(str(target), data, prefix=".tmp-", suffix=".json")
        except OSError:
            pass  # a store that cannot be written is no store; never fail the run


def _to_json(summary: ModuleSummary, key: str) -> dict[str, object]:
    return {
        "key": key, "name": summary.name, "package": summary.package, "is_package": summary.is_package,
        "parse_error": summary.parse_error, "imports": summary.imports, "assigned": summary.assigned,
        "defined": sorted(summary.defined), "prefixes": summary.prefixes, "annotated": summary.annotated,
        "functions": {k: [f.qualname, f.is_async, f.line, f.decorated, f.end, f.indented]
                      for k, f in summary.functions.items()},
        "classes": {k: [c.qualname, c.bases, c.line, c.unresolved_bases, c.attrs, c.decorated]
                    for k, c in summary.classes.items()},
    }


def _from_json(data: Any, key: str, path: str) -> Optional[ModuleSummary]:
    """A stored summary (its function bodies unread), or None when the entry is not for ``key``."""
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    summary = ModuleSummary(str(data["name"]), path, bool(data["is_package"]), dict(data["imports"]),
                            parse_error=data["parse_error"], package=str(data["package"]),
                            assigned=dict(data["assigned"]), defined=set(data["defined"]),
                            prefixes=dict(data["prefixes"]), annotated=dict(data["annotated"]))
    for local, (qualname, is_async, line, decorated, end, indented) in data["functions"].items():
        summary.functions[local] = FunctionSummary(qualname, bool(is_async), int(line), decorated=bool(decorated),
                                                   module=summary.name, end=int(end), indented=bool(indented),
                                                   unread=True)
    for local, (qualname, bases, line, unresolved, attrs, decorated) in data["classes"].items():
        summary.classes[local] = ClassSummary(qualname, list(bases), int(line), bool(unresolved), dict(attrs),
                                              bool(decorated))
    return summary


def _lines(source: Union[str, bytes]) -> list[str]:
    """Source split on line ends as Python counts them (``\\f`` and friends are not line ends)."""
    text = source if isinstance(source, str) else _decoded(source)
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class ProjectView:
    """A project index as one checked module sees it: the framework step's seam
    (:class:`.framework.Elsewhere`) for that module. Names the module's analysis resolves
    relatively (``.services.tts.speak``) are made absolute from its own module name."""

    def __init__(self, index: ProjectIndex, module: Optional[str], is_package: bool = False) -> None:
        self.index = index
        self.module = module
        self.package = (module if is_package else module.rpartition(".")[0]) if module else ""

    @classmethod
    def of(cls, index: ProjectIndex, filename: str) -> "ProjectView":
        return cls(index, module_name(filename, index.root), Path(filename).name == "__init__.py")

    def absolute(self, qualname: str) -> Optional[str]:
        """``.services.tts.speak`` -> ``shop.services.tts.speak``; absolute names pass through."""
        if not qualname.startswith("."):
            return qualname
        level = len(qualname) - len(qualname.lstrip("."))
        return _absolute(qualname[level:] or None, level, self.package)

    def app_kind(self, qualname: str) -> Optional[N.AppKind]:
        absolute = self.absolute(qualname)
        return self.index.app_kind(absolute) if absolute is not None else None

    def blocking_chain(self, qualname: str, calls: CallJudge, awaited: bool = False) -> Optional[RemoteChain]:
        """When calling ``qualname`` (a function or method of another module of the project: sync,
        or async when ``awaited``) blocks: the helpers, outermost first, down to the first
        blocking call, following only calls each helper makes unconditionally (see ``_children``):
        sync helpers called, async ones awaited, never a generator, a decorated helper or a safe
        call. Breadth first: the shortest chain; loops end. Memoised in the index, per judge."""
        start = self.absolute(qualname)
        if start is None or calls.safe(start):
            return None
        if self._own(self.index.locate(start)):
            return None  # this module's own functions: the same-module analysis follows them
        return self.index.blocking_chain(start, calls, awaited)

    def outside(self, qualname: str) -> Optional[str]:
        """What a name imported from the project calls outside it, through the project's bindings
        (``SessionLocal().query`` with ``SessionLocal = sessionmaker(...)`` in ``app.db``), when
        that differs from the name itself."""
        start = self.absolute(qualname)
        return self.index.outside(start) if start is not None else None

    def instance_kind(self, qualname: str) -> Optional[N.AppKind]:
        absolute = self.absolute(qualname)
        return self.index.instance_kind(absolute) if absolute is not None else None

    def annotation(self, qualname: str) -> Optional[str]:
        absolute = self.absolute(qualname)
        return self.index.annotation(absolute) if absolute is not None else None

    def route_prefixes(self, qualname: str) -> list[str]:
        """:meth:`ProjectIndex.route_prefixes`; ``<local>.router`` names this module's own."""
        if qualname.startswith(LOCAL + "."):
            if self.module is None:
                return []
            qualname = f"{self.module}.{qualname[len(LOCAL) + 1:]}"
        absolute = self.absolute(qualname)
        return self.index.route_prefixes(absolute) if absolute is not None else []

    def routes_served_plainly(self, qualname: str) -> bool:
        """:meth:`ProjectIndex.served_plainly` and no prefix may add parameters
        (:meth:`ProjectIndex.mounts_add_parameters`); ``<local>.routes`` is this module's own list."""
        if qualname.startswith(LOCAL + "."):
            if self.module is None:
                return False
            qualname = f"{self.module}.{qualname[len(LOCAL) + 1:]}"
        return not self.index.mounts_add_parameters() and self.index.served_plainly(qualname)

    def app_setup(self, qualname: str, argument: str) -> Optional[AppSetup]:
        """:meth:`ProjectIndex.app_setup`; ``<local>.name`` is this module's own function."""
        if qualname.startswith(LOCAL + "."):
            if self.module is None:
                return None
            qualname = f"{self.module}.{qualname[len(LOCAL) + 1:]}"
        absolute = self.absolute(qualname)
        return self.index.app_setup(absolute, argument) if absolute is not None else None

    def _own(self, where: Union[FunctionSummary, str]) -> bool:
        if not isinstance(where, FunctionSummary) or self.module is None:
            return False
        summary = self.index.module(self.module)
        return summary is not None and where.qualname.startswith(self.module + ".") and \
            summary.functions.get(where.qualname[len(self.module) + 1:]) is where


def _runs(fn: FunctionSummary, awaited: bool) -> bool:
    """A helper whose body runs on the caller's thread when it is called so: a plain sync function
    called, or an async one awaited (not a generator, nor wrapped by a decorator)."""
    return fn.is_async == awaited and not fn.is_generator and not fn.decorated


_INDEXES: dict[Path, ProjectIndex] = {}  # package root -> its index, for this process
_ROOTS: dict[str, Path] = {}  # a checked file's folder -> its package root


class _Deferred:
    """The project view of a checked file, found on first use: a file the prefilter skips, or one
    that asks nothing of other modules, costs no path lookups."""

    def __init__(self, filename: str, cache_dir: Optional[str]) -> None:
        self.filename = filename
        self.cache_dir = cache_dir
        self._view: Optional[ProjectView] = None

    @property
    def view(self) -> ProjectView:
        if self._view is None:
            self._view = _view(self.filename, self.cache_dir)
        return self._view

    def _ask(self, question: Callable[[ProjectView], T], unknown: T) -> T:
        """A question about other modules that fails (a bug in the index, a module that breaks it)
        is answered ``unknown``: the checked file keeps every finding of its own."""
        try:
            return question(self.view)
        except Exception:  # noqa: BLE001 - see above
            return unknown

    def app_kind(self, qualname: str) -> Optional[N.AppKind]:
        return self._ask(lambda view: view.app_kind(qualname), None)

    def blocking_chain(self, qualname: str, calls: CallJudge, awaited: bool = False) -> Optional[RemoteChain]:
        return self._ask(lambda view: view.blocking_chain(qualname, calls, awaited), None)

    def outside(self, qualname: str) -> Optional[str]:
        return self._ask(lambda view: view.outside(qualname), None)

    def instance_kind(self, qualname: str) -> Optional[N.AppKind]:
        return self._ask(lambda view: view.instance_kind(qualname), None)

    def annotation(self, qualname: str) -> Optional[str]:
        return self._ask(lambda view: view.annotation(qualname), None)

    def route_prefixes(self, qualname: str) -> list[str]:
        return self._ask(lambda view: view.route_prefixes(qualname), [])

    def app_setup(self, qualname: str, argument: str) -> Optional[AppSetup]:
        return self._ask(lambda view: view.app_setup(qualname, argument), None)

    def routes_served_plainly(self, qualname: str) -> bool:
        return self._ask(lambda view: view.routes_served_plainly(qualname), False)


def view_for(filename: str, cache_dir: Optional[str] = None) -> Elsewhere:
    """The project a checked file belongs to, as that file sees it (one index per package root
    and process, built on first use; ``cache_dir``: where module summaries are stored, shared
    by the command's workers, flake8's and later runs)."""
    return _Deferred(filename, cache_dir)


def _view(filename: str, cache_dir: Optional[str]) -> ProjectView:
    if not filename or filename.startswith("<") or filename in ("-", "stdin"):
        return ProjectView(ProjectIndex(Path.cwd()), None)
    folder = os.path.dirname(os.path.abspath(filename))
    root = _ROOTS.get(folder)
    if root is None:
        root = _ROOTS[folder] = package_root(filename)
    index = _INDEXES.get(root)
    if index is None:
        index = _INDEXES[root] = ProjectIndex(root, SummaryStore(cache_dir) if cache_dir else None)
    return ProjectView.of(index, filename)


def clear() -> None:
    """Forget every index (files changed: a long-lived process, tests)."""
    _INDEXES.clear()
    _ROOTS.clear()
