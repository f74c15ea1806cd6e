"""Blocking calls on the event loop: the request path of a module and what blocks on it.

:class:`EventLoopFacts` (one per module: ``facts(fw)``) finds the request-path functions
(the roots the framework step gives a request role, the module-level async functions
nothing in the module calls, and the same-module async functions they reach), every
blocking call of the catalogue in them, and the chains through same-module sync helpers.
The STL1xx rules (:mod:`..rules.eventloop`, whose docstring says what is and is not
reported) each report their own code from these facts.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from .. import names as N
from .. import noqa as _noqa
from ..catalog import SESSION_FACTORIES, SYNC_SESSION_CLASSES, Catalog, Entry, catalog_for
from ..config import DEFAULT, Config
from ..framework import (
    DEPENDENCY,
    ENDPOINT,
    ENDPOINT_METHOD,
    EXCEPTION_HANDLER,
    PATH_OPERATION,
    NOWHERE,
    REQUEST_ROLES,
    TASK,
    CallJudge,
    Framework,
    RemoteChain,
)
from ..model import (
    LOCAL,
    CallSite,
    ClassInfo,
    Function,
    Model,
    Scope,
    all_params,
    argument,
    iter_children,
    keyword,
    string_value,
    walk,
)


_TRANSPARENT_DECORATORS = frozenset(
    {"builtins.staticmethod", "builtins.classmethod", "starlette.authentication.requires"}
)
_SCOPED_SESSION = frozenset({"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"})
_WRAP_FILE = frozenset({"anyio.wrap_file", "trio.wrap_file"})
# Roots whose code serves requests: chains across modules start only there.
_SERVING_ROLES = REQUEST_ROLES - {TASK}
# Module-level async functions with these names are entry points or startup code, not request handlers.
_NOT_REQUEST_NAMES = frozenset(
    {"main", "startup", "shutdown", "on_startup", "on_shutdown", "startup_event", "shutdown_event"}
)
_ARCHIVE_OPENERS = frozenset(
    {"zipfile.ZipFile", "tarfile.open", "tarfile.TarFile", "gzip.open", "gzip.GzipFile", "bz2.open",
     "bz2.BZ2File", "lzma.open", "lzma.LZMAFile"}
)
_MEMORY_BUFFERS = frozenset({"io.BytesIO()", "io.StringIO()"})
# file openers -> (index, name, default) of their mode argument; a default of None: unknown
_FILE_OPENERS: dict[str, tuple[int, str, Optional[str]]] = {
    "builtins.open": (1, "mode", "r"),
    "io.open": (1, "mode", "r"),
    "codecs.open": (1, "mode", "r"),
    "os.fdopen": (1, "mode", "r"),
    "io.FileIO": (1, "mode", "r"),
    "gzip.open": (1, "mode", "rb"),
    "bz2.open": (1, "mode", "rb"),
    "lzma.open": (1, "mode", "rb"),
    "gzip.GzipFile": (1, "mode", None),
    "bz2.BZ2File": (1, "mode", "r"),
    "lzma.LZMAFile": (1, "mode", "r"),
    "io.open_code": (-1, "", "rb"),
}

# calls whose result is certainly no async context manager: ``async with`` on them is a bug, not a
# sign that our reading of the name is wrong
_NEVER_ASYNC_CMS = frozenset({"builtins.open", "io.open"})

TASK_CREATORS = frozenset(
    {
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.get_event_loop().create_task",
        "asyncio.get_running_loop().create_task",
        "asyncio.new_event_loop().create_task",
        "asyncio.AbstractEventLoop().create_task",
        "asyncio.events.AbstractEventLoop().create_task",
    }
)
LOOP_RUNNERS = frozenset(
    {
        "asyncio.run",
        "anyio.run",
        "asyncio.Runner().run",
        *(
            f"{loop}.{method}"
            for loop in (
                "asyncio.get_event_loop()",
                "asyncio.new_event_loop()",
                "asyncio.get_running_loop()",
                "asyncio.AbstractEventLoop()",
                "asyncio.events.AbstractEventLoop()",
                "asyncio.BaseEventLoop()",
            )
            for method in ("run_until_complete", "run_forever")
        ),
    }
)


class Hit:
    """A blocking catalog call in a function."""

    __slots__ = ("site", "entry", "qualname", "fn")

    def __init__(self, site: CallSite, entry: Entry, qualname: str, fn: Function) -> None:
        self.site = site
        self.entry = entry
        self.qualname = qualname
        self.fn = fn


class Chain:
    """A call from request-path async code to a same-module sync function that blocks."""

    __slots__ = ("site", "fn", "helpers", "hit")

    def __init__(self, site: CallSite, fn: Function, helpers: list[Function], hit: Hit) -> None:
        self.site = site
        self.fn = fn  # the async caller
        self.helpers = helpers  # sync functions, outermost first
        self.hit = hit  # the blocking call at the end of the chain


class _Judge:
    """What blocks in another module, by the catalogue: a row that needs no look at the call site
    but for the arguments given (``time.sleep(0)`` is quiet, ``smtplib.SMTP()`` with no host
    connects nowhere). Of the rows with a named check of the call site, only a SQLAlchemy
    Session's: a session factory given an async class is never summarised as one (see
    ``project``). ``safe-calls`` are never followed. Equal for the same catalogue (chain searches
    are memoised by it)."""

    __slots__ = ("catalog",)

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def blocks(self, qualname: str, quiet: frozenset[str], given: frozenset[str]) -> bool:
        entry = self.catalog.lookup(qualname)
        if entry is None or entry.guard not in ("", "sync-session"):
            return False
        for spec in entry.quiet_when:  # "name@index"
            name, _, index = spec.partition("@")
            if f"@{index}" in quiet or f"{name}@" in quiet:
                return False
        if entry.needs:
            name, _, index = entry.needs.partition("@")
            return f"@{index}" in given or f"{name}@" in given
        return True

    def safe(self, qualname: str) -> bool:
        return self.catalog.is_safe(qualname)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Judge) and other.catalog is self.catalog

    def __hash__(self) -> int:
        return id(self.catalog)


def judge_for(config: Config) -> CallJudge:
    """The judge a file's chain searches use under ``config`` (the catalogue's, see :class:`_Judge`)."""
    return _Judge(catalog_for(tuple(config.extend_blocking_calls), frozenset(config.safe_calls)))


class RemoteHit:
    """A call from request-path async code to a function of another module that blocks."""

    __slots__ = ("site", "fn", "chain")

    def __init__(self, site: CallSite, fn: Function, chain: RemoteChain) -> None:
        self.site = site
        self.fn = fn  # the async caller
        self.chain = chain


class EventLoopFacts:
    """Request-path functions, blocking calls and blocking chains of one module (computed once)."""

    def __init__(self, fw: Framework) -> None:
        self.model = model = fw.model
        self.fw = fw
        self._noqa: Optional[_noqa.NoqaIndex] = None
        config = model.config if model.config is not None else DEFAULT
        self.catalog = catalog_for(tuple(config.extend_blocking_calls), frozenset(config.safe_calls))
        self.web = self.fw.is_web_module()
        self._classes: Optional[dict[str, ClassInfo]] = None
        self._edges: dict[int, list[tuple[CallSite, Function]]] = {}
        self.roots = self._roots()
        # id(fn) -> (fn, root it was reached from); async functions only
        self.request_path = self._reach(self.roots)
        self.hits: list[Hit] = []
        for fn, _ in self.request_path.values():
            self.hits.extend(self._hits(fn))
        self.chains = self._chains()
        self.remote_chains = self._remote_chains()

    # ------------------------------------------------------------ roots
    def _roots(self) -> list[Function]:
        roots = [f for f in self.model.functions if f.is_async and self.fw.roles_of(f) & REQUEST_ROLES]
        self.orphans: set[int] = set()
        if self.web:
            orphans = self._orphans()
            self.orphans = {id(f) for f in orphans}
            roots.extend(orphans)
        return roots

    def _orphans(self) -> list[Function]:
        """Module-level async functions nothing in the module calls, passes or decorates."""
        m = self.model
        candidates: dict[str, Function] = {}
        for fn in m.functions:
            if (
                fn.is_async
                and fn.outer is m.scope
                and not self.fw.roles_of(fn)
                and _transparent(m, fn)
                and fn.name not in _NOT_REQUEST_NAMES
                and not fn.name.startswith("test_")
                and "lifespan" not in fn.name
                and not self._takes_app(fn)
                and not self.fw.callers_of(fn)
            ):
                candidates[fn.name] = fn
        if not candidates:
            return []
        used: set[int] = set()

        def note(expr: cst.BaseExpression, scope: Scope) -> None:
            if isinstance(expr, cst.Name) and expr.value in candidates:
                target = m.resolve_function(expr, scope)
                if target is not None:
                    used.add(id(target))
            elif isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
                for el in expr.elements:
                    note(el.value, scope)
            elif isinstance(expr, cst.Dict):
                for item in expr.elements:
                    if isinstance(item, cst.DictElement):
                        note(item.value, scope)

        for site in m.calls:
            note(site.node.func, site.scope)
            for arg in site.node.args:
                note(arg.value, site.scope)
        for bindings in m.scope.bindings.values():
            for b in bindings:
                if b.kind == "assign" and b.value is not None:
                    note(b.value, m.scope)
        return [fn for fn in candidates.values() if id(fn) not in used]

    def _takes_app(self, fn: Function) -> bool:
        """``async def lifespan(app)`` / ``(app: FastAPI)``: a lifespan or startup hook wired up elsewhere."""
        params = all_params(fn.node.params)
        if not params:
            return False
        first = params[0]
        if first.name.value == "app":
            return True
        ann = first.annotation.annotation if first.annotation is not None else None
        return ann is not None and self.model.qualname(ann, fn.outer) in N.APP_CLASSES

    # ------------------------------------------------------------ call graph
    def callees(self, fn: Function) -> list[tuple[CallSite, Function]]:
        """Same-module functions ``fn`` calls: the framework's graph plus ``Local().method()`` calls."""
        found = self._edges.get(id(fn))
        if found is not None:
            return found
        out = list(self.fw.callees(fn))
        seen = {id(site) for site, _ in out}
        for site in fn.calls:
            if id(site) in seen:
                continue
            q = self.model.call_qualname(site)
            if q is None or not q.startswith(LOCAL + ".") or "()." not in q:
                continue
            recv, _, meth = q.rpartition(".")
            if not recv.endswith("()") or "()" in recv[:-2]:
                continue
            info = self._local_classes().get(recv[len(LOCAL) + 1:-2])
            if info is not None:
                target = self.model._method(info, meth)
                if target is not None:
                    out.append((site, target))
        self._edges[id(fn)] = out
        return out

    def _local_classes(self) -> dict[str, ClassInfo]:
        if self._classes is None:
            self._classes = {info.qualname: info for info in self.model.classes}
        return self._classes

    def _reach(self, roots: list[Function]) -> dict[int, tuple[Function, Function]]:
        """Async functions reachable from ``roots`` (first root wins), lambdas not entered."""
        return self.fw.reachable(
            list(reversed(roots)),
            follow=lambda caller, site, callee: callee.is_async and not site.in_lambda,
            callees=self.callees,
        )

    # ------------------------------------------------------------ blocking calls
    def _hits(self, fn: Function) -> list[Hit]:
        """Catalog calls executed by ``fn`` itself (not in lambdas or nested defs)."""
        m = self.model
        out: list[Hit] = []
        for site in fn.calls:
            if site.in_lambda or site.awaited:
                continue
            q = m.call_qualname(site)
            if q is None:
                q = self._path_division(site.node.func, site.scope)
            entry = self.catalog.lookup(q)
            if entry is None and q is not None and self.fw.elsewhere is not NOWHERE and not q.startswith(LOCAL):
                outside = self.fw.elsewhere.outside(q)  # ``SessionLocal().query``, SessionLocal from app.db
                if outside is not None:
                    q, entry = outside, self.catalog.lookup(outside)
            if entry is None or q is None or not self._applies(entry, site):
                continue
            out.append(Hit(site, entry, q, fn))
        if not out:
            return out
        if fn.is_async:
            out = self._drop_async_with(fn, out)
        # one finding per chain: ``open(p).read()`` reports open() only
        ids = {id(h.site.node) for h in out}
        return [h for h in out if id(_receiver_call(h.site.node)) not in ids]

    def _path_division(self, func: cst.BaseExpression, scope: Scope) -> Optional[str]:
        """``(BASE / name).write_bytes`` -> ``pathlib.Path().write_bytes`` when BASE is a pathlib.Path."""
        tail: list[str] = []
        expr = func
        for _ in range(20):
            if isinstance(expr, cst.Attribute):
                tail.append(expr.attr.value)
                expr = expr.value
            elif isinstance(expr, cst.Call):
                tail.append("()")
                expr = expr.func
            elif isinstance(expr, cst.Name):
                found = self.model.value_of(expr, scope)
                if found is None or not isinstance(found[0], cst.BinaryOperation):
                    return None
                expr, scope = found
            else:
                break
        if not tail or not isinstance(expr, cst.BinaryOperation) or not isinstance(expr.operator, cst.Divide):
            return None
        if not (self._is_path(expr.left, scope) or self._is_path(expr.right, scope)):
            return None
        out = "pathlib.Path()"
        for step in reversed(tail):
            out += step if step == "()" else "." + step
        return out

    def _is_path(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> bool:
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide) and _depth < 10:
            return self._is_path(expr.left, scope, _depth + 1) or self._is_path(expr.right, scope, _depth + 1)
        q = self.model.qualname(expr, scope)
        if q is None and isinstance(expr, cst.Name) and _depth < 10:
            found = self.model.value_of(expr, scope)
            return found is not None and self._is_path(found[0], found[1], _depth + 1)
        return q is not None and "()" in q and self.catalog.normalize(q) == "pathlib.Path()"

    def _applies(self, entry: Entry, site: CallSite) -> bool:
        call = site.node
        m = self.model
        for spec in entry.quiet_when:
            name, _, idx = spec.partition("@")
            arg = argument(call, int(idx), name)
            if arg is not None and _is_false_or_zero(m.constant(arg.value, site.scope)):
                return False
        if entry.needs:
            name, _, idx = entry.needs.partition("@")
            arg = argument(call, int(idx), name)
            if arg is None or (isinstance(arg.value, cst.SimpleString) and arg.value.value in ('""', "''")):
                return False
        if entry.guard == "sync-session" and not self._sync_session(site):
            return False
        if entry.guard in ("on-disk", "flushes") and self._in_memory(site):
            return False
        if entry.guard == "flushes" and self._read_only(site):
            return False
        if entry.guard == "file-fd":
            fd = argument(call, 0, "fd")
            if fd is None or not self._file_descriptor(fd.value, site.scope):
                return False
        if entry.guard == "lock-nb":
            op = argument(call, 1, "operation") or argument(call, 1, "cmd")
            if op is not None and any(_mentions(n, "LOCK_NB") for n in (op.value, *walk(op.value))):
                return False
        parent = site.parent
        if isinstance(parent, cst.Call) and len(parent.args) == 1 and parent.args[0].value is call:
            outer = m.call_of.get(id(parent))
            if outer is not None and m.call_qualname(outer) in _WRAP_FILE:
                return False  # anyio.wrap_file(open(...)): the idiom for an async file object
        return True

    def _origins(self, site: CallSite) -> Iterator[tuple[cst.Call, str, Scope]]:
        """The calls that built what a call is made on (the call itself first), through variables bound once."""
        m = self.model
        todo: list[tuple[cst.BaseExpression, Scope]] = [(site.node, site.scope)]
        steps = 0
        while todo and steps < 40:
            steps += 1
            expr, scope = todo.pop()
            if isinstance(expr, cst.Attribute):
                todo.append((expr.value, scope))
            elif isinstance(expr, cst.Await):
                todo.append((expr.expression, scope))
            elif isinstance(expr, cst.Call):
                q = m.qualname(expr.func, scope)
                yield expr, q or "", scope
                if q in _SCOPED_SESSION:
                    factory = argument(expr, 0, "session_factory")
                    if factory is not None:
                        todo.append((factory.value, scope))
                todo.append((expr.func, scope))
            elif isinstance(expr, cst.Name):
                found = m.value_of(expr, scope)
                if found is not None:
                    todo.append(found)

    def _sync_session(self, site: CallSite) -> bool:
        """False when the session comes from ``sessionmaker(class_=AsyncSession)`` (an async session)."""
        for call, q, scope in self._origins(site):
            if q in SESSION_FACTORIES:
                cls = argument(call, 1, "class_")
                cls_name = self.model.qualname(cls.value, scope) if cls is not None else None
                if cls is not None and cls_name not in SYNC_SESSION_CLASSES:
                    return False
        return True

    def _in_memory(self, site: CallSite) -> bool:
        """``zipfile.ZipFile(io.BytesIO(data))``, ``gzip.open(fileobj=buf)``: an in-memory buffer, no disk I/O."""
        for call, q, scope in self._origins(site):
            if q in _ARCHIVE_OPENERS:
                for arg in (argument(call, 0, "file"), keyword(call, "fileobj")):
                    if arg is not None and self.model.qualname(arg.value, scope) in _MEMORY_BUFFERS:
                        return True
        return False

    def _read_only(self, site: CallSite) -> bool:
        """``f.close()`` where ``f = open(p)`` / ``open(p, "rb")``: a file opened read-only (nothing to flush)."""
        for call, q, scope in self._origins(site):
            spec = _FILE_OPENERS.get(q)
            if spec is None:
                continue
            index, name, default = spec
            if index < 0:
                return True  # io.open_code: always "rb"
            arg = argument(call, index, name)
            if arg is None:
                return default is not None
            mode = string_value(self.model.constant(arg.value, scope))
            return mode is not None and not any(ch in mode for ch in "wax+")
        return False

    def _file_descriptor(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> bool:
        """A descriptor known to be a regular file's: ``os.open(...)``, ``f.fileno()`` of an opened file,
        ``tempfile.mkstemp()``. Anything else (``os.pipe()``, ``pty.openpty()``, a socket's, a parameter)
        may be a pipe, a PTY or a socket, whose reads return at once after a readiness check."""
        m = self.model
        if isinstance(expr, cst.Name) and _depth < 10:
            found = m.value_of(expr, scope)
            if found is None:  # ``fd, path = tempfile.mkstemp()``
                bindings, where = m.lookup(expr.value, scope)
                node = bindings[0].node if bindings and len(bindings) == 1 else None
                if isinstance(node, cst.Assign) and len(node.targets) == 1:
                    target = node.targets[0].target
                    if (isinstance(target, cst.Tuple) and target.elements
                            and isinstance(target.elements[0].value, cst.Name)
                            and target.elements[0].value.value == expr.value and isinstance(node.value, cst.Call)):
                        return m.qualname(node.value.func, where or scope) == "tempfile.mkstemp"
                return False
            return self._file_descriptor(found[0], found[1], _depth + 1)
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        if not isinstance(expr, cst.Call):
            return False
        q = m.qualname(expr.func, scope)
        if q in ("os.open", "tempfile.mkstemp"):
            return True
        if q is not None and q.endswith(".fileno") and "()" in q:
            entry = self.catalog.lookup(q[: -len("fileno")] + "read")
            return entry is not None and entry.code == "STL104"
        return False

    def _drop_async_with(self, fn: Function, hits: list[Hit]) -> list[Hit]:
        """``async with X() as x``: X is an async context manager, so our reading of it is wrong."""
        items: set[int] = set()
        exprs: set[int] = set()
        for node in _statements(fn.node):
            if isinstance(node, cst.With) and node.asynchronous is not None:
                for item in node.items:
                    items.add(id(item))
                    exprs.add(id(item.item))
        if not items:
            return hits
        out = []
        for h in hits:
            if id(h.site.node) in exprs:
                if self.model.call_qualname(h.site) in _NEVER_ASYNC_CMS:
                    out.append(h)  # ``async with open(...)``: the file is opened (blocking), then a TypeError
                continue
            root = _root_name(h.site.node.func)
            if root is not None:
                bindings, _ = self.model.lookup(root.value, h.site.scope)
                if bindings and any(b.kind == "with" and id(b.node) in items for b in bindings):
                    continue
            out.append(h)
        return out

    # ------------------------------------------------------------ STL107
    def _chains(self) -> list[Chain]:
        # sync functions reachable from request-path async code through direct sync calls
        sync: dict[int, Function] = {}
        todo: list[Function] = []
        for fn, _ in self.request_path.values():
            for site, callee in self.callees(fn):
                if not callee.is_async and not site.in_lambda and _plain_helper(self.model, callee):
                    if id(callee) not in sync:
                        sync[id(callee)] = callee
                        todo.append(callee)
        if not sync:
            return []
        callers: dict[int, list[tuple[CallSite, Function]]] = {}
        while todo:
            fn = todo.pop()
            for site, callee in self.callees(fn):
                if callee.is_async or site.in_lambda or not _plain_helper(self.model, callee):
                    continue
                callers.setdefault(id(callee), []).append((site, fn))
                if id(callee) not in sync:
                    sync[id(callee)] = callee
                    todo.append(callee)
        # functions that block directly, then their callers (breadth first: shortest chains; cycles end)
        nxt: dict[int, tuple[Optional[Function], Hit]] = {}
        queue: list[Function] = []
        for fn in sync.values():
            hits = self._hits(fn)
            if hits:
                nxt[id(fn)] = (None, hits[0])
                queue.append(fn)
        i = 0
        while i < len(queue):
            fn = queue[i]
            i += 1
            for site, caller in callers.get(id(fn), ()):
                if id(caller) not in nxt:
                    nxt[id(caller)] = (fn, nxt[id(fn)][1])
                    queue.append(caller)
        out: list[Chain] = []
        for fn, _ in self.request_path.values():
            for site, callee in self.callees(fn):
                if callee.is_async or site.in_lambda or id(callee) not in nxt:
                    continue
                helpers = [callee]
                step = nxt[id(callee)]
                while step[0] is not None and len(helpers) < 50:
                    helpers.append(step[0])
                    step = nxt[id(step[0])]
                out.append(Chain(site, fn, helpers, step[1]))
        return out

    def _remote_chains(self) -> list[RemoteHit]:
        """Calls from request-path async code to a function of another module of the project that
        blocks (project mode: what the framework step's seam knows; nothing otherwise): a sync
        function called, an async one awaited. Only a call the async function makes
        unconditionally, not in a lambda, in code that serves requests: reached from an endpoint,
        path operation, dependency, middleware, exception handler or background task (not from a
        task started with create_task, nor from a function no route names)."""
        elsewhere = self.fw.elsewhere
        out: list[RemoteHit] = []
        if elsewhere is NOWHERE:
            return out  # one file alone
        catalog = self.catalog
        judge = _Judge(catalog)  # as judge_for(config): a cached result's questions are asked again with that

        for fn, root in self.request_path.values():
            if not self.fw.roles_of(root) & _SERVING_ROLES:
                continue  # a task, or a function only taken as request-path code: not followed across modules
            candidates = []
            for site in fn.calls:
                if site.in_lambda:
                    continue
                q = self.model.call_qualname(site)
                if q is None or q.startswith(LOCAL) or catalog.lookup(q) is not None:
                    continue
                candidates.append((site, q))
            conditional: Optional[set[int]] = None  # found when a chain needs it
            for site, q in candidates:
                chain = elsewhere.blocking_chain(q, judge, site.awaited)
                if chain is None:
                    continue
                conditional = conditional if conditional is not None else _conditional_calls(fn.node)
                if id(site.node) not in conditional:
                    out.append(RemoteHit(site, fn, chain))
        return out

    # ------------------------------------------------------------ messages
    def context(self, fn: Function) -> str:
        text = self._describe(fn)
        entry = self.request_path.get(id(fn))
        if entry is not None and entry[1] is not fn:
            text += f", called from {self._describe(entry[1])}"
        return text

    def responder(self, fn: Function) -> str:
        """How ``fn`` (or the request-path root it is reached from) answers an HTTP request.

        ``"fastapi"``: a path operation or a dependency (a ``BackgroundTasks`` parameter);
        ``"starlette"``: an endpoint, an ``HTTPEndpoint`` verb method or an exception handler
        (``background=BackgroundTask(...)`` on the response); ``""``: no response to attach
        work to (websockets, middleware, lifespans, startup handlers, tasks, library code).
        """
        entry = self.request_path.get(id(fn))
        root = entry[1] if entry is not None else fn
        roles = self.fw.roles_of(root)
        if (PATH_OPERATION in roles and any(r.kind == "http" for r in self.fw.routes_of(root))) or DEPENDENCY in roles:
            return "fastapi"
        if (ENDPOINT in roles or EXCEPTION_HANDLER in roles
                or (ENDPOINT_METHOD in roles and root.name.lower() in N.HTTP_ENDPOINT_METHODS)):
            return "starlette"
        return ""

    def _describe(self, fn: Function) -> str:
        text = self.fw.describe(fn)
        if id(fn) in self.orphans:
            text += " (not called in this module: taken as request-path code)"
        return text

    def noqa_index(self) -> _noqa.NoqaIndex:
        """The module's ``# noqa`` comments (read once)."""
        if self._noqa is None:
            self._noqa = _noqa.NoqaIndex(self.model.source)
        return self._noqa


def facts(fw: Framework) -> EventLoopFacts:
    """The event-loop family's facts about the module (built once, shared by STL101-STL109)."""
    return fw.derived(EventLoopFacts)


# ---------------------------------------------------------------- helpers
def _receiver_call(call: cst.Call) -> Optional[cst.BaseExpression]:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.value
    return None


def _statements(fn: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """Compound statements of a function body, nested blocks included, nested defs and classes not.

    Cheaper than a full walk: expressions are never entered.
    """
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            stack.extend(node.body)
            continue
        if isinstance(node, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
            continue
        yield node
        for name in ("body", "orelse", "handlers", "finalbody", "cases"):
            child = getattr(node, name, None)
            if isinstance(child, cst.CSTNode):
                stack.append(child)
            elif isinstance(child, (tuple, list)):
                stack.extend(c for c in child if isinstance(c, cst.CSTNode))


def _conditional_calls(fn: cst.FunctionDef) -> set[int]:
    """ids of the calls a function's own body makes only on a condition: in an if's or a
    conditional expression's branches, a match case, an except handler, or the right operand
    of and/or (nested functions, classes and lambdas are not entered)."""
    out: set[int] = set()
    stack: list[tuple[cst.CSTNode, bool]] = [(fn.body, False)]
    while stack:
        node, conditional = stack.pop()
        if conditional and isinstance(node, cst.Call):
            out.add(id(node))
        if isinstance(node, (cst.If, cst.IfExp)):
            stack.append((node.test, conditional))
            stack.append((node.body, True))
            if node.orelse is not None:
                stack.append((node.orelse, True))
            continue
        if isinstance(node, cst.Match):
            stack.append((node.subject, conditional))
            stack.extend((case, True) for case in node.cases)
            continue
        if isinstance(node, (cst.Try, cst.TryStar)):
            stack.append((node.body, conditional))
            stack.extend((handler, True) for handler in node.handlers)
            stack.extend((part, conditional) for part in (node.orelse, node.finalbody) if part is not None)
            continue
        if isinstance(node, cst.BooleanOperation):
            stack.append((node.left, conditional))
            stack.append((node.right, True))
            continue
        for child in iter_children(node):
            if not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                stack.append((child, conditional))
    return out


def _root_name(expr: cst.BaseExpression) -> Optional[cst.Name]:
    for _ in range(50):
        if isinstance(expr, cst.Attribute):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            expr = expr.func
        else:
            break
    return expr if isinstance(expr, cst.Name) else None


def _is_false_or_zero(expr: Optional[cst.BaseExpression]) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value == "False"
    if isinstance(expr, cst.Integer):
        return expr.value.replace("_", "") in ("0", "0x0", "0o0", "0b0")
    if isinstance(expr, cst.Float):
        try:
            return float(expr.value.replace("_", "")) == 0.0
        except ValueError:
            return False
    return False


def _mentions(node: cst.CSTNode, name: str) -> bool:
    return (isinstance(node, cst.Name) and node.value == name) or (
        isinstance(node, cst.Attribute) and node.attr.value == name
    )


def _plain_helper(model: Model, fn: Function) -> bool:
    """A sync function whose body runs when it is called: not a generator, not re-wrapped by a decorator.

    A generator's body runs only when it is iterated (``StreamingResponse(gen())``
    iterates a sync generator in the threadpool); a decorated function may be
    cached (``@lru_cache``: it blocks once) or moved to a thread (``@sync_to_async``).
    """
    return not fn.is_generator and _transparent(model, fn)


def _transparent(model: Model, fn: Function) -> bool:
    """No decorator, or only ones that leave the function as it is (``staticmethod``, starlette's ``requires``)."""
    for dec in fn.decorators:
        expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
        if model.qualname(expr, fn.outer) not in _TRANSPARENT_DECORATORS:
            return False
    return True


def spell(expr: cst.BaseExpression, _depth: int = 0) -> str:
    """How the source spells a callee, arguments elided: ``db.query().filter``."""
    if _depth > 20:
        return "..."
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{spell(expr.value, _depth + 1)}.{expr.attr.value}"
    if isinstance(expr, cst.Call):
        return f"{spell(expr.func, _depth + 1)}()"
    if isinstance(expr, cst.Subscript):
        return f"{spell(expr.value, _depth + 1)}[...]"
    if isinstance(expr, cst.Await):
        return f"(await {spell(expr.expression, _depth + 1)})"
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        left = spell(expr.left, _depth + 1)
        if isinstance(expr.left, cst.BinaryOperation) and left.startswith("("):
            left = left[1:-1]
        return f"({left} / {spell(expr.right, _depth + 1)})"
    if isinstance(expr, cst.SimpleString) and len(expr.value) <= 24:
        return expr.value
    return "(...)" if _depth == 0 else "..."


def call_label(hit: Hit) -> str:
    """``time.sleep()``; ``time.sleep() (called as nap())``; ``s.get() on a requests.Session``."""
    return label(hit.qualname, hit.site.node.func, hit.entry.note)


def label(qualname: str, func: cst.BaseExpression, note: str = "") -> str:
    recv, _, name = qualname.rpartition(".")
    written = spell(func)
    if "()" not in recv:
        shown = qualname[len("builtins."):] if recv == "builtins" else qualname
        if written.rpartition(".")[2] != name:
            return f"{shown}() (called as {written}())"
        return f"{shown}()"
    if note and written != qualname:
        return f"{written}() on {note}"
    return f"{written}()"


def alternative(hit: Hit) -> str:
    """The catalog's advice, with ``{name}`` filled in (``anyio.to_thread.run_sync(shutil.rmtree, ...)``)."""
    text = hit.entry.alternative
    if "{name}" in text:
        recv = hit.qualname.rpartition(".")[0]
        name = spell(hit.site.node.func) if "()" in recv else hit.qualname.removeprefix("builtins.")
        text = text.replace("{name}", name)
    return text.replace("{method}", hit.qualname.rpartition(".")[2])
