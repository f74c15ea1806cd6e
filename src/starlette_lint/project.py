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
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Union, cast

from . import names as N
from .framework import CallJudge, RemoteChain

_MAX_DEPTH = 20  # re-exports and base classes followed at most this far
_MAX_HOPS = 8  # helpers followed at most this deep from a request-path call
_MAX_BYTES = 1_000_000  # a larger module is not summarised (generated code: parsing it would cost seconds)
_TRY: tuple[type[ast.AST], ...] = (ast.Try, getattr(ast, "TryStar", ast.Try))  # ``except*`` from Python 3.11
_NODES = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass(frozen=True)
class CallRef:
    """A call a function makes directly: the qualified name of what it calls, where, and how."""

    target: str  # absolute dotted name, "()" marking a call's result (``requests.Session().get``)
    line: int
    awaited: bool
    conditional: bool = False  # may not run: see _children
    quiet: frozenset[str] = frozenset()  # arguments given literally False/0: "@1" by position, "secs@" by keyword


@dataclass
class FunctionSummary:
    qualname: str  # ``app.services.tts.speak``, ``app.api.Items.get`` for a method
    is_async: bool
    line: int
    calls: list[CallRef] = field(default_factory=list)
    decorated: bool = False  # a decorator may run it elsewhere (``@lru_cache``, ``@sync_to_async``)
    is_generator: bool = False  # its body runs when iterated (often in a thread)


@dataclass
class ClassSummary:
    qualname: str
    bases: list[str]  # absolute names of the bases the module can name (others are left out)
    line: int
    unresolved_bases: bool = False  # a base that is not a plain (dotted) name


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

    def local(self, name: str) -> Optional[str]:
        """The absolute name a module-level name of this module stands for (its own definition,
        or what it imports), or None."""
        if name in self.functions or name in self.classes or name in self.assigned:
            return f"{self.name}.{name}"
        return self.imports.get(name)


# ------------------------------------------------------------------ the project of a file
def package_root(path: Union[str, Path]) -> Path:
    """The folder a file's top-level package sits in: the nearest folder up the tree that has no
    ``__init__.py`` (``src/`` in a src layout; the file's own folder for a script)."""
    folder = Path(path).resolve().parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def module_name(path: Union[str, Path], root: Union[str, Path]) -> Optional[str]:
    """``root/app/api.py`` -> ``app.api`` (``app/__init__.py`` -> ``app``); None outside ``root``."""
    try:
        parts = list(Path(path).resolve().relative_to(Path(root).resolve()).with_suffix("").parts)
    except ValueError:
        return None
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


# ------------------------------------------------------------------ one module
def summarize(source: Union[str, bytes], name: str, path: str = "<unknown>", is_package: bool = False) -> ModuleSummary:
    """The summary of one module's source (a module Python cannot parse has an empty one)."""
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
    bases: dict[str, list[Optional[str]]] = {}
    for stmt in tree.body:
        _top_level(summary, stmt, bases)
    for local, written in bases.items():  # once every module-level name is known
        resolved = [_resolve_local(summary, b) for b in written if b is not None]
        cls = summary.classes[local]
        cls.bases = [r for r in resolved if r is not None]
        cls.unresolved_bases = len(cls.bases) != len(written)
    return summary


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The module's own statements, with those of its top-level if/try blocks (not function bodies)."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, (ast.If, *_TRY)):
            block = cast(ast.Try, stmt)  # an if, try or try/except*: the fields read here, when present
            inner = [*block.body, *getattr(block, "orelse", ()), *getattr(block, "finalbody", ())]
            for handler in getattr(block, "handlers", ()):
                inner.extend(handler.body)
            stack.extend(reversed(inner))


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


def _top_level(summary: ModuleSummary, stmt: ast.stmt, bases: dict[str, list[Optional[str]]]) -> None:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        _function(summary, stmt, stmt.name)
    elif isinstance(stmt, ast.ClassDef):
        summary.classes[stmt.name] = ClassSummary(f"{summary.name}.{stmt.name}", [], stmt.lineno)
        bases[stmt.name] = [_dotted(b) for b in stmt.bases]  # resolved after the whole module
        for item in stmt.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                _function(summary, item, f"{stmt.name}.{item.name}")
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        called = _dotted(stmt.value.func)
        target = _resolve_local(summary, called) if called is not None else None
        for t in targets:
            if isinstance(t, ast.Name) and t.id in summary.functions:
                summary.functions[t.id].decorated = True  # ``speak = lru_cache(speak)``: wrapped
            elif isinstance(t, ast.Name) and target is not None:
                summary.assigned[t.id] = target + "()"
    elif isinstance(stmt, (ast.If, ast.Try)):
        # ``if TYPE_CHECKING:`` / ``try: ... except ImportError:`` blocks at module level
        for inner in [*stmt.body, *getattr(stmt, "orelse", ()), *getattr(stmt, "finalbody", ())]:
            _top_level(summary, inner, bases)


def _function(summary: ModuleSummary, node: _NODES, local: str) -> None:
    fn = FunctionSummary(f"{summary.name}.{local}", isinstance(node, ast.AsyncFunctionDef), node.lineno,
                         decorated=bool(node.decorator_list))
    nodes = list(_own_nodes(node))
    awaited = {id(n.value) for n, _ in nodes if isinstance(n, ast.Await)}
    # names the function binds itself shadow the module's (a parameter named like a module is not it)
    args = node.args
    shadowed = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    imports: dict[str, str] = {}
    for n, _ in nodes:
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            shadowed.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            _bind_import(imports, n, summary.package)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            shadowed.difference_update(n.names)
    for n, conditional in nodes:
        if isinstance(n, ast.Call):
            called = _dotted(n.func)
            head = called.split(".", 1)[0].split("(", 1)[0] if called else ""
            if head in imports:
                target: Optional[str] = N.canonical(imports[head] + called[len(head):]) if called else None
            elif head in shadowed:
                target = None
            else:
                target = _resolve_local(summary, called) if called is not None else None
            if target is not None:
                fn.calls.append(CallRef(target, n.lineno, id(n) in awaited, conditional, _quiet(n)))
        elif isinstance(n, (ast.Yield, ast.YieldFrom)):
            fn.is_generator = True
    summary.functions[local] = fn


def _quiet(call: ast.Call) -> frozenset[str]:
    """The arguments given literally as False or 0: ``@i`` by position, ``name@`` by keyword."""
    out = {f"@{i}" for i, a in enumerate(call.args) if _false_or_zero(a)}
    out |= {f"{k.arg}@" for k in call.keywords if k.arg and _false_or_zero(k.value)}
    return frozenset(out)


def _false_or_zero(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and not isinstance(expr.value, str) and expr.value in (False, 0)


def _own_nodes(fn: _NODES) -> Iterator[tuple[ast.AST, bool]]:
    """The nodes of a function's body, each with whether it runs only on a condition; not those of
    nested functions, classes or lambdas (they run at another time, often in a thread)."""
    stack: list[tuple[ast.AST, bool]] = [(stmt, False) for stmt in reversed(fn.body)
                                         if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    while stack:
        node, conditional = stack.pop()
        yield node, conditional
        for child, under in reversed(list(_children(node, conditional))):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append((child, under))


def _children(node: ast.AST, conditional: bool) -> Iterator[tuple[ast.AST, bool]]:
    """A node's children, marked conditional below a branch (an if's or a conditional
    expression's branches, match cases, except handlers, the right operands of and/or)."""
    if isinstance(node, (ast.If, ast.IfExp)):
        yield node.test, conditional
        body = node.body if isinstance(node.body, list) else [node.body]
        orelse = node.orelse if isinstance(node.orelse, list) else [node.orelse]
        for child in [*body, *orelse]:
            yield child, True
    elif isinstance(node, ast.Match):
        yield node.subject, conditional
        for case in node.cases:
            yield case, True
    elif isinstance(node, _TRY):
        parts = cast(ast.Try, node)  # ast.TryStar (``except*``) has the same fields
        for child in parts.body:
            yield child, conditional
        for handler in parts.handlers:
            yield handler, True
        for child in [*parts.orelse, *parts.finalbody]:
            yield child, conditional
    elif isinstance(node, ast.BoolOp):
        yield node.values[0], conditional
        for child in node.values[1:]:
            yield child, True
    elif isinstance(node, ast.While):  # may run no time
        yield node.test, conditional
        for child in [*node.body, *node.orelse]:
            yield child, True
    elif isinstance(node, ast.GeneratorExp):  # runs only when consumed
        for child in ast.iter_child_nodes(node):
            yield child, True
    elif isinstance(node, ast.comprehension):
        yield node.iter, conditional
        yield node.target, conditional
        for child in node.ifs:
            yield child, True
    elif isinstance(node, ast.Assert):
        yield node.test, conditional
        if node.msg is not None:
            yield node.msg, True
    else:
        for child in ast.iter_child_nodes(node):
            yield child, conditional


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


# ------------------------------------------------------------------ the project
class ProjectIndex:
    """The summaries of a project's modules, read on first use from the package root."""

    def __init__(self, root: Union[str, Path]) -> None:
        self.root = Path(root).resolve()
        self._modules: dict[str, Optional[ModuleSummary]] = {}
        self._chains: dict[tuple[str, CallJudge], Optional[RemoteChain]] = {}

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

    @staticmethod
    def _read(base: Path, name: str) -> Optional[ModuleSummary]:
        """Module ``name`` as ``base/__init__.py`` or ``base.py``, summarised; None when neither exists."""
        for path, is_package in ((base / "__init__.py", True), (base.with_suffix(".py"), False)):
            if path.is_file():
                try:
                    too_large = path.stat().st_size > _MAX_BYTES
                    source = b"" if too_large else path.read_bytes()
                except OSError:
                    return None
                found = summarize(source, name, str(path), is_package)
                if too_large:
                    found.parse_error = f"larger than {_MAX_BYTES:,} bytes: not summarised"
                return found
        return None

    def modules(self) -> Iterator[ModuleSummary]:
        """Every module below the root (hidden folders and virtualenvs skipped), summarised."""
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d.isidentifier()
                             and not (Path(folder, d) / "pyvenv.cfg").exists())
            for file in sorted(files):
                if file.endswith(".py"):
                    name = module_name(Path(folder, file), self.root)
                    summary = self.module(name) if name else None
                    if summary is not None:
                        yield summary

    def resolve(self, qualname: str) -> Optional[str]:
        """The project definition an absolute name stands for, following re-exports
        (``app.routing.AuditedRouter`` for ``app.AuditedRouter`` when ``app/__init__.py`` imports
        it); None when it is not a definition of this project."""
        seen: set[str] = set()
        current = qualname
        for _ in range(_MAX_DEPTH):
            if current in seen or "(" in current:
                return None
            seen.add(current)
            module, _, name = current.rpartition(".")
            summary = self.module(module) if module else None
            if summary is None:
                return None
            if name in summary.functions or name in summary.classes or name in summary.assigned:
                return current
            target = summary.imports.get(name)
            if target is None:
                return None
            current = target
        return None

    def function(self, qualname: str) -> Optional[FunctionSummary]:
        """The project function (or ``Class.method``) an absolute name stands for."""
        found = self.resolve(qualname)
        if found is not None:
            module, _, name = found.rpartition(".")
            summary = self.module(module)
            return summary.functions.get(name) if summary is not None else None
        # ``app.api.Items.get``: a method, named through its class
        owner, _, method = qualname.rpartition(".")
        cls = self.resolve(owner)
        if cls is None:
            return None
        module, _, name = cls.rpartition(".")
        summary = self.module(module)
        return summary.functions.get(f"{name}.{method}") if summary is not None else None

    def ancestors(self, qualname: str) -> list[str]:
        """The absolute names of a project class's bases and theirs, across modules (each once;
        loops end); empty for a name that is not a project class."""
        out: list[str] = []
        seen: set[str] = set()
        todo = [qualname]
        while todo and len(seen) < 200:
            name = self.resolve(todo.pop())
            if name is None or name in seen:
                continue
            seen.add(name)
            module, _, local = name.rpartition(".")
            summary = self.module(module)
            cls = summary.classes.get(local) if summary is not None else None
            if cls is None:
                continue
            for base in cls.bases:
                out.append(base)
                todo.append(base)
        return list(dict.fromkeys(out))

    def blocking_chain(self, start: str, calls: CallJudge) -> Optional[RemoteChain]:
        """:meth:`ProjectView.blocking_chain` from an absolute name (memoised per judge)."""
        key = (start, calls)
        if key in self._chains:
            return self._chains[key]
        found: Optional[RemoteChain] = None
        first = self.function(start)
        if first is not None and _plain(first):
            queue: list[tuple[FunctionSummary, tuple[str, ...]]] = [(first, (first.qualname,))]
            seen = {first.qualname}
            i = 0
            while i < len(queue) and found is None:
                fn, path = queue[i]
                i += 1
                steady = [c for c in fn.calls if not c.conditional and not c.awaited and not calls.safe(c.target)]
                hit = next((c for c in steady if calls.blocks(c.target, c.quiet)), None)
                if hit is not None:
                    found = RemoteChain(path, hit.target, fn.qualname, hit.line)
                elif len(path) < _MAX_HOPS:
                    for call in steady:
                        callee = self.function(call.target)
                        if callee is not None and _plain(callee) and callee.qualname not in seen:
                            seen.add(callee.qualname)
                            queue.append((callee, path + (callee.qualname,)))
        self._chains[key] = found
        return found

    def app_kind(self, qualname: str) -> Optional[N.AppKind]:
        """The app or router kind a project class builds (a subclass of ``FastAPI``, ``APIRouter``,
        ``Starlette`` or ``Router`` in another module), or None: the framework step's seam."""
        for base in self.ancestors(qualname):
            kind = N.APP_CLASSES.get(N.canonical(base))
            if kind is not None:
                return kind
        return None


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

    def blocking_chain(self, qualname: str, calls: CallJudge) -> Optional[RemoteChain]:
        """When calling ``qualname`` (a sync function of another module of the project) blocks:
        the helpers, outermost first, down to the first blocking call, following only calls
        each helper makes unconditionally (see ``_children``), never into an async function, a
        generator, a decorated one or a safe call. Breadth first: the shortest chain; loops end.
        Memoised in the index, per judge."""
        start = self.absolute(qualname)
        if start is None or calls.safe(start):
            return None
        if self.module is not None and start.rpartition(".")[0] == self.module:
            return None  # this module's own functions: the same-module analysis follows them
        return self.index.blocking_chain(start, calls)


def _plain(fn: FunctionSummary) -> bool:
    """A helper whose body runs when it is called, on the caller's thread."""
    return not fn.is_async and not fn.is_generator and not fn.decorated


_INDEXES: dict[Path, ProjectIndex] = {}  # package root -> its index, for this process


def view_for(filename: str) -> ProjectView:
    """The project a checked file belongs to, as that file sees it (one index per package root
    and process, built on first use: the command's workers and flake8's each build their own)."""
    if not filename or filename.startswith("<") or filename in ("-", "stdin"):
        return ProjectView(ProjectIndex(Path.cwd()), None)
    root = package_root(filename)
    index = _INDEXES.get(root)
    if index is None:
        index = _INDEXES[root] = ProjectIndex(root)
    return ProjectView.of(index, filename)


def clear() -> None:
    """Forget every index (files changed: a long-lived process, tests)."""
    _INDEXES.clear()
