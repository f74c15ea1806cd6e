"""STL1xx: the event loop (blocking calls, lost tasks, nested loops).

One analysis per module (:class:`..analysis.blocking.EventLoopFacts`, built once) finds the
request-path functions and every blocking call in them; each rule then reports
its own code from those facts.

Request-path code (STL101-STL107)
---------------------------------
The *roots* are the async functions the framework analysis gives a request role
(Route / WebSocketRoute / ``add_route`` endpoints, FastAPI / APIRouter path
operations, HTTPEndpoint / WebSocketEndpoint methods, middleware ``dispatch`` /
ASGI ``__call__`` / ``@app.middleware``, exception handlers, ``Depends(...)``
dependencies, background tasks, functions started as tasks) and functions
decorated with a configured ``endpoint-decorators`` name. Same-module async
functions they call are followed transitively (``helper()``, ``self.helper()``,
``Local().method()``).

A module-level ``async def`` in a web module (one that imports starlette or
fastapi, or defines routes) that nothing in the module calls, passes or
decorates is a root too: it is an endpoint, dependency or handler registered in
another module (``routes = [Route("/", views.home)]`` in ``app.py``), and it
runs on the event loop whoever calls it. Not roots: ``main``, ``test_*`` and
startup-named functions (``startup``, ``on_shutdown``...), functions whose name
contains ``lifespan`` or whose first parameter is ``app`` (a lifespan wired up
elsewhere), decorated functions (an unknown decorator may run them anywhere;
starlette's ``@requires(...)`` is known and transparent),
methods, nested functions, and everything reached only from a lifespan or a
startup/shutdown handler (blocking there delays startup; no request waits).
Plain ``def`` endpoints are never checked: Starlette and FastAPI run them in
the threadpool.

What is not reported in request-path code
-----------------------------------------
* calls inside lambdas and nested ``def``s (they run later, often in a thread),
  and blocking functions *passed* to ``run_in_threadpool``, ``to_thread``,
  ``run_in_executor`` (the cure);
* a call directly under ``await``, or used by ``async with`` (directly or
  through the name it binds): the object is then async, so our reading of its
  type is wrong (``r: redis.Redis`` holding a ``redis.asyncio`` client), or the
  code fails with a TypeError on its first run, which tests catch; flake8-async
  exempts awaited calls the same way;
* ``anyio.wrap_file(open(...))`` and archives opened on an ``io.BytesIO``.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from .. import noqa as _noqa
from ..analysis.blocking import (
    LOOP_RUNNERS,
    TASK_CREATORS,
    EventLoopFacts,
    Hit,
    alternative,
    call_label,
    facts,
    label,
    spell,
)
from ..catalog import KIND, Entry
from ..finding import Report
from ..framework import STARTUP_ROLES, Framework
from ..model import Function, Model, Scope, keyword, positional, string_value, walk
from ..positions import model_positions
from .base import Rule


# ---------------------------------------------------------------- rules
# Codes reported once per function: the first blocking call, with the lines of the others in the
# message (a temp-file routine is one problem, not five). The other codes keep one finding per
# call: each is a distinct request, process or query (and STL101's fixer rewrites each sleep).
GROUPED = frozenset({"STL104"})


class _BlockingRule(Rule):
    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        f = facts(fw)
        groups: dict[int, list[Hit]] = {}
        for hit in f.hits:
            if hit.entry.code == self.code and hit.fn.is_async:
                groups.setdefault(id(hit.fn) if self.code in GROUPED else id(hit), []).append(hit)
        more = [h for g in groups.values() if len(g) > 1 for h in g]
        lines = model_positions(model, [h.site.node for h in more]) if more else {}
        for group in groups.values():
            if len(group) > 1:
                group.sort(key=lambda h: lines.get(id(h.site.node), (0, 0)))
                group = _not_silenced(f, group, self.code, lines)
            hit = group[0]
            kind = KIND[self.code]
            if hit.entry.configured:
                kind = "call (configured in extend-blocking-calls)"
            message = f"blocking {kind} {call_label(hit)} in {f.context(hit.fn)}; {alternative(hit)}"
            if len(group) > 1:
                rest = group[1:]
                at = list(dict.fromkeys(lines[id(h.site.node)][0] for h in rest if id(h.site.node) in lines))
                noun = KIND[self.code] if len(rest) == 1 else KIND[self.code] + "s"
                message += (f" (and {len(rest)} more blocking {noun} in this function: "
                            f"line{'s' if len(at) > 1 else ''} {', '.join(map(str, at))})")
            yield self.report(hit.site.node, message)


def _not_silenced(f: EventLoopFacts, group: list[Hit], code: str, lines: dict[int, tuple[int, int]]) -> list[Hit]:
    """A group less the calls whose line carries a ``# noqa`` for ``code`` (or a peer's code for it).

    Reported alone, such a call would be suppressed: as the head of a group, it would take
    the other calls with it. The group is left whole when every call is silenced.
    """
    if "noqa" not in f.model.source:
        return group
    index = f.noqa_index()
    codes = (code, *_noqa.PEER_ALIASES.get(code, ()))
    kept = [h for h in group
            if not any(index.suppressed(c, lines.get(id(h.site.node), (0, 0))[0]) for c in codes)]
    return kept or group


class BlockingSleep(_BlockingRule):
    """
    ## What it does
    Reports `time.sleep(...)` in async request-path code: async endpoints,
    path operations, HTTPEndpoint methods, middleware, exception handlers,
    async dependencies, background tasks, tasks they start, and the
    same-module async functions those call. Names are resolved through
    imports (`from time import sleep as nap` is reported; a local `sleep` is
    not). `time.sleep(0)`, calls inside lambdas or nested `def`s, and
    functions passed to `run_in_threadpool` / `anyio.to_thread.run_sync` /
    `asyncio.to_thread` / `loop.run_in_executor` are not reported. Plain `def`
    endpoints run in the threadpool and are never checked. Lifespans and
    startup/shutdown handlers are not request-path code (blocking there delays
    startup, no request waits), but tasks they start are.

    A module-level `async def` in a module that imports starlette or fastapi
    and that nothing in the module calls is treated as request-path code: it
    is an endpoint or dependency registered in another module.

    ## Why is this bad?
    `time.sleep` stops the whole event loop: every other request on the
    worker waits. Four concurrent requests to an endpoint that sleeps 0.5 s
    take 2 s, and an unrelated request waits for all of them.

    ## Example
    ```python
    @app.get("/users/{id}")
    async def get_user(id: int):
        time.sleep(0.5)
        return {"id": id}
    ```

    ## Use instead
    ```python
    @app.get("/users/{id}")
    async def get_user(id: int):
        await anyio.sleep(0.5)
        return {"id": id}
    ```
    """

    code = "STL101"
    name = "blocking-sleep"
    summary = "`time.sleep()` in async request-path code (stalls every request on the worker)"


class BlockingHttp(_BlockingRule):
    """
    ## What it does
    Reports sync HTTP client calls in async request-path code: `requests.get`
    and friends, methods of a `requests.Session`, `httpx.get/post/.../stream`
    and `httpx.Client` methods (httpx2 too), `urllib.request.urlopen` /
    `urlretrieve`, urllib3 pools and `urllib3.request`, `http.client`
    connections, and boto3 clients. Objects are followed through variables
    bound once in the function or at module level (`client = httpx.Client()`
    at import, `client.get(...)` in the endpoint) and through parameter
    annotations (`c: httpx.Client`). Request-path code is defined as for
    STL101. One finding per function, listing the others (as STL104).

    ## Why is this bad?
    The event loop is blocked for the whole network round trip, including
    connection setup, TLS and the remote server's latency: every other request
    on the worker waits.

    ## Example
    ```python
    @app.get("/weather")
    async def weather():
        return requests.get("https://api.example.com/weather", timeout=5).json()
    ```

    ## Use instead
    ```python
    @app.get("/weather")
    async def weather(request: Request):
        response = await request.state.http.get("https://api.example.com/weather")
        return response.json()
    ```
    (an `httpx.AsyncClient` created in the lifespan and yielded as state).
    """

    code = "STL102"
    name = "blocking-http"
    summary = "sync HTTP call (`requests`, `httpx.Client`, `urllib`, `urllib3`, `http.client`) in async request-path code"


class BlockingProcess(_BlockingRule):
    """
    ## What it does
    Reports process calls in async request-path code: `subprocess.run`,
    `call`, `check_call`, `check_output`, `getoutput`, `getstatusoutput`,
    `Popen(...)` and `Popen(...).wait()` / `.communicate()`, `os.system`,
    `os.popen` (and reading its pipe), `os.spawnl`, `spawnle`, `spawnlp`,
    `spawnlpe`, `spawnv`, `spawnve`, `spawnvp`, `spawnvpe`, `os.posix_spawn`,
    `posix_spawnp`, `os.wait`, `wait3`, `wait4`, `waitid`, `waitpid`,
    `pty.spawn`. Request-path code is defined as for STL101. One finding
    per function, listing the others (as STL104).

    ## Why is this bad?
    The event loop waits for the child process: every other request on the
    worker waits with it.

    ## Example
    ```python
    @app.post("/thumbnails")
    async def thumbnail(path: str):
        subprocess.run(["convert", path, "thumb.png"], check=True)
    ```

    ## Use instead
    ```python
    @app.post("/thumbnails")
    async def thumbnail(path: str):
        proc = await asyncio.create_subprocess_exec("convert", path, "thumb.png")
        await proc.wait()
    ```
    """

    code = "STL103"
    name = "blocking-subprocess"
    summary = "`subprocess`, `os.system`, `os.popen`, `os.spawn*`, `os.wait*`, `Popen().wait()` in async request-path code"


class BlockingFileIO(_BlockingRule):
    """
    ## What it does
    Reports sync file-system I/O in async request-path code: `open()`,
    `io.open`, `os.fdopen` and methods of the file objects they return
    (`with open(p) as f: f.read()`), `pathlib.Path` I/O methods (`read_text`,
    `write_bytes`, `open`, `mkdir`, `touch`, `unlink`, `iterdir`, `glob`...),
    `shutil` copies, moves, archives and `rmtree`,
    `os.remove/rename/makedirs/listdir/scandir/walk/chmod...`, `glob.glob`,
    `tarfile`, `zipfile`, `gzip` and `tempfile`. Request-path code is defined
    as for STL101.

    One finding per function: the first blocking file call, and the message
    counts and lists the others (`... (and 3 more blocking file I/O calls in
    this function: lines 145, 146, 171)`): they are one fix (move the file
    handling into a thread). STL102, STL103, STL105 and STL106 report the same
    way; a line whose `# noqa` silences the code (or a peer's code for it, such
    as `ASYNC230`) is left out of the group rather than hiding it.

    Not reported:

    * metadata queries, in every spelling: `os.stat`, `lstat`, `access`,
      `readlink`, `statvfs`, every `os.path` function (`exists`, `isfile`,
      `getsize`, `getmtime`, `realpath`...), `shutil.disk_usage`, and the
      `pathlib.Path` methods `exists`, `is_file`, `is_dir` and the other
      `is_*`, `stat`, `lstat`, `owner`, `group`, `readlink`, `resolve`,
      `samefile`. Each is one `stat`-family system call (`resolve()` and
      `realpath` a short walk of them), usually answered from the kernel's
      caches. Directory listings (`listdir`, `scandir`, `iterdir`,
      `glob`) are reported: they grow with the directory; so are metadata
      writes (`chmod`, `utime`, `touch`);
    * `close()` of a file opened read-only (`open(p)`, `open(p, "rb")`, a
      constant mode without `w`, `a`, `x` or `+`): there is nothing to flush.
      It is reported when the file may have been written (a write mode, a mode
      that is not a constant, a file object whose opening is not in sight) and
      for temporary files (closing deletes them);
    * `os.read` / `os.write` unless the descriptor is known to be a regular
      file's: from `os.open(...)`, `f.fileno()` of a file opened with
      `open()`, or `tempfile.mkstemp()`. Descriptors from `os.pipe()`,
      `pty.openpty()`, sockets or parameters are typically polled for
      readiness first (`select`, `loop.add_reader`), and then the call
      returns at once;
    * `anyio.wrap_file(open(...))`.

    ## Why is this bad?
    Disk I/O blocks the event loop; on network file systems, busy disks or
    large files, for a long time. Every other request on the worker waits.

    ## Example
    ```python
    @app.get("/report")
    async def report():
        with open("report.csv") as f:
            return PlainTextResponse(f.read())
    ```

    ## Use instead
    ```python
    @app.get("/report")
    async def report():
        async with await anyio.open_file("report.csv") as f:
            return PlainTextResponse(await f.read())
    ```
    """

    code = "STL104"
    name = "blocking-file-io"
    summary = "sync file I/O (`open()`, file methods, `pathlib`, `shutil`, `os` file calls) in async request-path code"


class BlockingDatabase(_BlockingRule):
    """
    ## What it does
    Reports sync database and cache drivers in async request-path code:
    `sqlite3.connect`, `psycopg2.connect`, `psycopg.connect`,
    `pymysql.connect`, `MySQLdb.connect`, `mysql.connector.connect`,
    `pymongo.MongoClient`, and every method call on what they return (their
    cursors included), on sync redis clients (`redis.Redis`, `StrictRedis`,
    `from_url`), on sync SQLAlchemy engines, connections and sessions
    (`create_engine`, `sessionmaker`, `Session`, `scoped_session`, SQLModel),
    Elasticsearch and memcached clients. The objects may be built in the
    function, bound at module level (`engine = create_engine(...)`,
    `SessionLocal = sessionmaker(...)` then `db = SessionLocal()`), or come in
    as annotated parameters (`db: Session = Depends(get_db)`). Calls that do
    no I/O are not reported (`session.add()`, `conn.cursor()`, building a
    client), and neither is a session from `sessionmaker(class_=AsyncSession)`.
    Request-path code is defined as for STL101. One finding per function,
    listing the others (as STL104).

    ## Why is this bad?
    Every query blocks the event loop for the database round trip: every other
    request on the worker waits.

    ## Example
    ```python
    @app.get("/users")
    async def list_users(db: Session = Depends(get_db)):
        return db.query(User).all()
    ```

    ## Use instead
    ```python
    @app.get("/users")
    def list_users(db: Session = Depends(get_db)):  # a plain def runs in the threadpool
        return db.query(User).all()
    ```
    or an async driver (`create_async_engine`, `AsyncSession`, asyncpg, `redis.asyncio`).
    """

    code = "STL105"
    name = "blocking-database"
    summary = "sync DB / cache driver call (sqlite3, psycopg2, pymysql, pymongo, redis, SQLAlchemy) in async request-path code"


class BlockingPrimitive(_BlockingRule):
    """
    ## What it does
    Reports other blocking primitives in async request-path code: `input()`,
    `getpass.getpass`, `sys.stdin` reads, blocking `socket` calls and DNS
    lookups (`socket.getaddrinfo`, `gethostbyname`, `create_connection`, socket
    `connect/recv/sendall...`), `smtplib`, `ftplib`, `imaplib`, `poplib`,
    `select.select` and pollers, `threading.Lock().acquire()`,
    `Event().wait()`, `Thread().join()`, `queue.Queue().get()`,
    `concurrent.futures.Future.result()`, `fcntl.flock`, `signal.pause`.
    Non-blocking forms are not reported (`acquire(blocking=False)`,
    `get(block=False)`, a timeout of `0`, `LOCK_NB`). Calls configured with
    `extend-blocking-calls` are reported under this code. Request-path code is
    defined as for STL101. One finding per function, listing the others (as
    STL104).

    ## Why is this bad?
    Each of these waits on the network, another thread or the terminal while
    holding the event loop: every other request on the worker waits.

    ## Example
    ```python
    @app.post("/signup")
    async def signup(user: User):
        with smtplib.SMTP("mail.example.com") as smtp:
            smtp.send_message(welcome(user))
    ```

    ## Use instead
    ```python
    @app.post("/signup")
    async def signup(user: User, tasks: BackgroundTasks):
        tasks.add_task(send_welcome, user)  # a plain def: runs in the threadpool
    ```
    """

    code = "STL106"
    name = "blocking-primitive"
    summary = "other blocking call (`input`, sockets, DNS, `smtplib`, `select`, thread locks/queues) in async request-path code"


class BlockingHelper(Rule):
    """
    ## What it does
    Reports a call, from async request-path code, to a sync function of the
    same module that makes a blocking call (STL101-STL106), directly or
    through other sync functions of the module, and in project mode to a
    function of another module of the project (below). The message shows the
    chain:
    `get_report -> load_rows() -> sqlite3.connect()`. The finding is at the
    call in the async function. Generators (their body runs when iterated:
    `StreamingResponse(sync_gen())` iterates in the threadpool) and decorated
    helpers (`@lru_cache` blocks once; `@sync_to_async` moves to a thread) are
    not followed. Passing the helper to `run_in_threadpool`, `to_thread` or
    `run_in_executor` is the fix and is never reported. Recursion ends.
    The chain ends at the helper's first blocking call in the sense of
    STL101-STL106, so a metadata query (`is_file()`, `resolve()`, see STL104)
    is never named as the block: a helper that only checks paths is not
    reported, and one that checks a path and then reads the file is reported
    with the read.

    ## Why is this bad?
    The block is one call away: line-by-line linters do not see it, and it
    stalls every request on the worker just the same.

    In project mode (the default; `project-mode = false` turns it off),
    helpers in the project's other modules are followed too, with their
    module names in the chain
    (`say -> shop.services.tts.speak() -> requests.post()`): sync helpers
    called and async helpers awaited, methods (through their class, an
    instance, a module-level instance or `self`) and constructors. A chain
    starts only in code that serves requests, and each hop is followed only
    when the helper makes the next call every time: not under an `if`, a
    `match` case, an `except` handler or a `while` loop, nor after an early
    `return` on a test of a parameter or of a file's existence. It ends at a
    blocking call the catalogue knows from its name and literal arguments
    (`time.sleep(0)` does not block). When the block is in an async helper,
    the advice is for that helper (an async client), not a thread around the
    call.

    ## Example
    ```python
    def load_rows():
        with sqlite3.connect("app.db") as conn:
            return conn.execute("select * from t").fetchall()

    @app.get("/report")
    async def get_report():
        return load_rows()
    ```

    ## Use instead
    ```python
    @app.get("/report")
    async def get_report():
        return await run_in_threadpool(load_rows)
    ```
    """

    code = "STL107"
    name = "blocking-helper"
    summary = "async request-path code calls a helper that blocks, in this module or another (the message shows the chain)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        f = facts(fw)
        for chain in f.chains:
            first = spell(chain.site.node.func)
            steps = " -> ".join([f"{first}()"] + [f"{h.name}()" for h in chain.helpers[1:]])
            yield self.report(
                chain.site.node,
                f"blocking call chain {chain.fn.name} -> {steps} -> {call_label(chain.hit)} in "
                f"{f.context(chain.fn)}; run the helper in a thread: await run_in_threadpool({first}, ...)",
            )
        for remote in f.remote_chains:  # project mode: helpers in other modules of the project
            rc = remote.chain
            steps = " -> ".join(f"{h.removesuffix('.__init__')}()" for h in rc.helpers)  # a constructor: Client()
            entry = f.catalog.lookup(rc.call)
            last_async = max((i for i, is_async in enumerate(rc.asyncs) if is_async), default=-1)
            if rc.in_async:  # the block is in an async helper: a thread around the call cannot help
                fix = (entry.alternative.replace("{name}", rc.call).replace("{method}", rc.call.rpartition(".")[2])
                       if entry is not None else "run it in a thread")
                advice = f"in {rc.caller}(): {fix}"
            elif last_async >= 0:  # an async helper calls the sync one that blocks: the thread goes there
                sync = rc.helpers[last_async + 1].removesuffix(".__init__").rpartition(".")[2]
                advice = (f"in {rc.helpers[last_async]}(): run {sync}() in a thread "
                          f"(await run_in_threadpool({sync}, ...))")
            else:
                first = spell(remote.site.node.func)
                advice = ("run the helper in a thread: " + (f"await run_in_threadpool({first}, ...)" if "(" not in first
                                                            else "await run_in_threadpool(...)"))
            yield self.report(
                remote.site.node,
                f"blocking call chain {remote.fn.name} -> {steps} -> {_shown(rc.call, entry)}"
                f"{f' (and {rc.more} more blocking call{_s(rc.more)} there)' if rc.more else ''} in "
                f"{f.context(remote.fn)}; {advice}",
            )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _shown(call: str, entry: Optional[Entry]) -> str:
    """A blocking call's name for a chain: ``requests.post()``, ``open()``, ``query() on a sync
    SQLAlchemy Session``."""
    recv, _, name = call.rpartition(".")
    if "()" in recv and entry is not None and entry.note:
        return f"{name}() on {entry.note}"
    return f"{call.removeprefix('builtins.')}()"


class DanglingTask(Rule):
    """
    ## What it does
    Reports `asyncio.create_task(...)`, `asyncio.ensure_future(...)` and
    `loop.create_task(...)` used as a statement (the task object is thrown
    away) in async code of a web module (any async function of a module that
    imports starlette or fastapi or defines routes, lifespans included) and
    in request-path code, and in the plain functions of a web module that may
    run on the loop: startup handlers, and helpers and callbacks (they start the
    task on the loop of their caller). Plain functions that run only in a worker
    thread (sync endpoints and dependencies, background tasks, functions handed
    to `run_in_threadpool`, a `Thread`, an executor, methods of `Thread`
    subclasses, and what only they call) are left out: there is no loop there,
    which is another problem; so are functions with decorators other than
    `staticmethod`/`classmethod`. The task is thrown away too when it is an element
    of a list, set or tuple (or of a list or set comprehension) that is itself
    thrown away, a branch of a conditional expression thrown away, the
    condition of an `if`, `while` or conditional expression, the
    expression of a `with` item (a task is no context manager: a TypeError,
    after it started), or assigned to a local that is never read
    (`task = asyncio.create_task(...)`, then nothing but other assignments). Task groups
    (`TaskGroup.create_task`, `start_soon`) keep their tasks and are not
    reported, nor is a task that is stored, returned, awaited or passed on.

    The advice depends on where the task is started. In code that answers an
    HTTP request (a FastAPI path operation or dependency, a Starlette
    endpoint, an `HTTPEndpoint` verb method, an exception handler, or a
    function they call) work meant to run after the response belongs in
    `BackgroundTasks` / `BackgroundTask`. Elsewhere (lifespans, startup
    handlers, websockets, middleware, tasks, library classes) there is no
    response to attach it to: the message suggests keeping a reference or a
    task group.

    ## Why is this bad?
    The event loop keeps only a weak reference to tasks: a task nobody
    references can be garbage-collected mid-flight. Its exception is never
    seen by the request or the error handlers (only "Task exception was
    never retrieved" in the log), and with a per-request loop (TestClient) it
    may never finish.

    ## Example
    ```python
    @app.post("/jobs")
    async def start_job():
        asyncio.create_task(run_job())
        return {"status": "accepted"}
    ```

    ## Use instead
    ```python
    @app.post("/jobs")
    async def start_job():
        return JSONResponse({"status": "accepted"}, background=BackgroundTask(run_job))
    ```
    (in FastAPI, a `background_tasks: BackgroundTasks` parameter and
    `background_tasks.add_task(run_job)`), or, anywhere, keep the task until
    it is done:
    ```python
    tasks: set[asyncio.Task] = set()

    task = asyncio.create_task(run_job())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    ```
    or start it in an `asyncio.TaskGroup` / anyio task group that outlives it.
    """

    code = "STL108"
    name = "dangling-task"
    summary = "`asyncio.create_task()`/`ensure_future()` result discarded (the task can be garbage-collected, its errors lost)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        f = facts(fw)
        off_loop: Optional[set[int]] = None
        for fn in _task_code(f):
            creators = [(site, q) for site in fn.calls
                        if not site.in_lambda and (q := model.call_qualname(site)) in TASK_CREATORS]
            if creators and not fn.is_async:
                off_loop = _off_loop(f) if off_loop is None else off_loop
                if id(fn) in off_loop:
                    continue  # it may run in a worker thread, with no loop: another problem
            # the function's other ways of dropping a value are looked for only when a task is started
            dropped = _dropped_in(fn) if any(not site.discarded for site, _ in creators) else {}
            for site, q in creators:
                how = "result discarded" if site.discarded else dropped.get(id(site.node))
                if how is None:
                    continue
                if how == _AS_CONTEXT:
                    yield self.report(
                        site.node,
                        f"{label(q, site.node.func)} used as a context manager in {f.context(fn)}: a task is "
                        f"not one, so with raises TypeError once the task has started, and the task is left "
                        f"behind; await it (or keep a reference) instead of with")
                else:
                    yield self.report(
                        site.node,
                        f"{label(q, site.node.func)} {how} in {f.context(fn)}: the event loop keeps only "
                        f"a weak reference, so the task can be garbage-collected mid-flight and its errors are "
                        f"lost; {_KEEP[f.responder(fn)]}",
                    )


_AS_CONTEXT = "used as a context manager"


def _dropped_in(fn: Function) -> dict[int, str]:
    """Calls of ``fn`` whose value is dropped in a way ``CallSite.discarded`` does not see, by id:
    an element of a list, set or tuple (or of a comprehension) that is itself thrown away, a
    branch of a conditional expression thrown away, the expression of a ``with`` item (a task is
    no context manager: TypeError, after it was started), and the value of a local that is assigned
    and never read (``task = asyncio.create_task(...)``, then nothing, or only other assignments)."""
    out: dict[int, str] = {}
    names: dict[str, int] = {}  # how often each name occurs in the function, nested scopes included
    single: list[tuple[str, cst.Call]] = []
    stores: dict[str, int] = {}  # plain assignments to each name (``x = ...``, ``x: T = ...``)
    nonlocal_ = False
    for node in walk(fn.node, into_scopes=True):
        if isinstance(node, cst.Name):
            names[node.value] = names.get(node.value, 0) + 1
        elif isinstance(node, cst.Nonlocal):
            nonlocal_ = True
    for node in walk(fn.node):
        if isinstance(node, cst.Expr):
            for call in _carried(node.value, top=True):
                out[id(call)] = "result discarded (in an expression thrown away)"
        elif isinstance(node, cst.With):
            for item in node.items:
                if isinstance(item.item, cst.Call):
                    out[id(item.item)] = _AS_CONTEXT
        elif isinstance(node, (cst.IfExp, cst.If, cst.While, cst.CompIf)):
            if isinstance(node.test, cst.Call):
                out[id(node.test)] = "result used only as a condition, then discarded,"
        elif isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], cst.Name):
                name = targets[0].value
                stores[name] = stores.get(name, 0) + 1
                if isinstance(node.value, cst.Call):
                    single.append((name, node.value))
    if nonlocal_ or "locals" in names or "vars" in names:
        return out  # a name may be read without being written out
    declared = {x.name.value for g in fn.globals for x in g.names}
    for name, call in single:
        # every occurrence of the name is the target of a plain assignment: it is never read
        if names.get(name) == stores[name] and name != "_" and name not in declared:
            out[id(call)] = f"assigned to {name}, which is never used,"
    return out


def _carried(expr: cst.BaseExpression, top: bool = False) -> Iterator[cst.Call]:
    """The calls whose value ``expr`` holds as it is (an element, a branch), when ``expr`` is a
    container or a conditional expression; not ``expr`` itself at the top (a plain call statement
    is ``CallSite.discarded``). A generator expression never runs: nothing in it is started."""
    if isinstance(expr, cst.Call):
        if not top:
            yield expr
    elif isinstance(expr, (cst.List, cst.Set, cst.Tuple)):
        for element in expr.elements:
            if not isinstance(element, (cst.StarredElement,)):
                yield from _carried(element.value)
    elif isinstance(expr, (cst.ListComp, cst.SetComp)):
        yield from _carried(expr.elt)
    elif isinstance(expr, cst.IfExp):
        yield from _carried(expr.body)
        yield from _carried(expr.orelse)


class NestedEventLoop(Rule):
    """
    ## What it does
    Reports `asyncio.run()`, `anyio.run()`, `loop.run_until_complete()` and
    `loop.run_forever()` called inside async code of a web module (any async
    function, lifespans included) or in request-path code. Calls inside lambdas
    and nested sync `def`s (which may run in a worker thread) are not reported,
    nor is any call in a module that imports `nest_asyncio`.

    ## Why is this bad?
    An event loop is already running in this thread: `asyncio.run()` raises
    `RuntimeError: asyncio.run() cannot be called from a running event loop`,
    and `run_until_complete()` raises `RuntimeError: This event loop is already
    running` (or "Cannot run the event loop while another loop is running").
    The request fails with a 500.

    ## Example
    ```python
    @app.get("/data")
    async def data():
        return asyncio.run(fetch_data())
    ```

    ## Use instead
    ```python
    @app.get("/data")
    async def data():
        return await fetch_data()
    ```
    """

    code = "STL109"
    name = "nested-event-loop"
    summary = "`asyncio.run()` / `loop.run_until_complete()` inside async code (RuntimeError: loop already running)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        if model.imports_any("nest_asyncio"):
            return
        f = facts(fw)
        for fn in _async_code(f):
            for site in fn.calls:
                if site.in_lambda:
                    continue
                q = model.call_qualname(site)
                if q in LOOP_RUNNERS:
                    yield self.report(
                        site.node,
                        f"{label(q, site.node.func)} inside {f.context(fn)} raises RuntimeError: an event loop is "
                        f"already running in this thread; await the coroutine instead",
                    )


_KEEP_REFERENCE = "keep a reference (a set of tasks plus task.add_done_callback(tasks.discard))"
_KEEP = {
    "fastapi": "to run it after the response, add it to a BackgroundTasks parameter "
               "(background_tasks.add_task(...)); else " + _KEEP_REFERENCE,
    "starlette": "to run it after the response, attach it to the response "
                 "(background=BackgroundTask(...)); else " + _KEEP_REFERENCE,
    "": _KEEP_REFERENCE + " or start it in a task group that outlives it (asyncio.TaskGroup, anyio)",
}


_ASYNC_SLEEPS = frozenset({"asyncio.sleep", "anyio.sleep", "trio.sleep", "anyio.sleep_until", "trio.sleep_until",
                           "anyio.lowlevel.checkpoint", "trio.lowlevel.checkpoint"})


class BusyWaitLoop(Rule):
    """
    ## What it does
    Reports a `while` loop whose body only awaits a sleep (`asyncio.sleep`, `anyio.sleep`,
    `sleep_until`, a bare checkpoint), in async code of a web module or in request-path code (flake8-async's ASYNC110): the
    loop polls its condition.

    ## Why is this bad?
    Each request that waits this way wakes up every interval to look again: it answers up to
    one interval late, and a thousand waiting requests make a thousand wake-ups per interval
    for nothing. Whoever changes the condition can signal it instead.

    ## Why is it opt-in?
    A short poll of something no event signals (a file, another process) is sometimes the
    only way.

    ## Example
    ```python
    @app.get("/result/{job_id}")
    async def result(job_id: str):
        while job_id not in results:
            await asyncio.sleep(0.1)
        return results[job_id]
    ```

    ## Use instead
    ```python
    @app.get("/result/{job_id}")
    async def result(job_id: str):
        await done[job_id].wait()  # an asyncio.Event the job sets
        return results[job_id]
    ```
    """

    code = "STL110"
    name = "busy-wait-loop"
    summary = "`while` loop that only awaits a sleep (polling) in async web code"
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        f = facts(fw)
        for fn in _async_code(f):
            for node in walk(fn.node):
                if not isinstance(node, cst.While) or node.orelse is not None:
                    continue
                body = node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]
                smalls = [small for stmt in body if isinstance(stmt, cst.SimpleStatementLine) for small in stmt.body]
                if len(smalls) != len(body) or not smalls:
                    continue
                sleeps = [s for s in smalls if isinstance(s, cst.Expr) and isinstance(s.value, cst.Await)
                          and isinstance(s.value.expression, cst.Call)
                          and model.qualname(s.value.expression.func, fn.scope) in _ASYNC_SLEEPS]
                if len(sleeps) == 1 and all(s is sleeps[0] or isinstance(s, cst.Pass) for s in smalls):
                    call = sleeps[0].value.expression if isinstance(sleeps[0].value, cst.Await) else None
                    shown = model.snippet(call.func) if isinstance(call, cst.Call) else "sleep"
                    q = model.qualname(call.func, fn.scope) if isinstance(call, cst.Call) else None
                    first = positional(call, 0) if isinstance(call, cst.Call) else None
                    spins = (q or "").endswith("checkpoint") or first is not None and _number(first.value) == 0
                    how = "spinning on the event loop" if spins else "waking every interval"
                    yield self.report(
                        node, f"while loop in {f.context(fn)} only awaits {shown}(): it polls its condition, "
                              f"{how}; wait on an asyncio.Event (or anyio.Event) its writer sets")


# the sleep functions and the name of their duration parameter
_SLEEP_DELAY = {"asyncio.sleep": "delay", "anyio.sleep": "delay", "trio.sleep": "seconds"}
_FOREVER = {"asyncio": "await asyncio.Event().wait()", "anyio": "await anyio.sleep_forever()",
            "trio": "await trio.sleep_forever()"}
_INFINITIES = frozenset({"math.inf", "numpy.inf"})
_DAY = 86400


class LongSleep(Rule):
    """
    ## What it does
    Reports a sleep of more than a day (`asyncio.sleep`, `anyio.sleep`, `trio.sleep` with a
    number above 86,400 seconds, literal or arithmetic on literals like `60 * 60 * 24 * 365`,
    `math.inf` or `float("inf")`) in a web module or in request-path code (flake8-async's
    ASYNC116).

    ## Why is this bad?
    Nobody means to wake up after `sleep(10**9)`: it is a sleep forever written as a number,
    which hides the intent and, in an endpoint, holds the request open until the client gives
    up. Waiting forever has its own spelling, and waiting for something has an event.

    ## Why is it opt-in?
    It is a matter of intent more than a failure: the code works as written.

    ## Example
    ```python
    async def keep_alive():
        await anyio.sleep(10**9)
    ```

    ## Use instead
    ```python
    async def keep_alive():
        await anyio.sleep_forever()
    ```
    """

    code = "STL111"
    name = "long-sleep"
    summary = "sleep of more than a day (a sleep forever written as a number)"
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        f = facts(fw)
        request_path = None if f.web else {id(fn) for fn, _ in f.request_path.values()}
        for site in model.calls:
            fn = site.function
            if request_path is not None and (fn is None or id(fn) not in request_path):
                continue
            q = model.call_qualname(site)
            param = _SLEEP_DELAY.get(q or "")
            if q is None or param is None:
                continue
            arg = positional(site.node, 0) or keyword(site.node, param)
            if arg is None or not _over_a_day(model, arg.value, site.scope):
                continue
            library = q.split(".")[0]
            where = f"in {f.context(fn)}" if fn is not None else "at import"
            yield self.report(
                site.node, f"{model.snippet(site.node)} {where} sleeps for more than a day: "
                           f"it means forever; write {_FOREVER[library]} (or wait on an event)")


def _over_a_day(model: Model, expr: cst.BaseExpression, scope: Scope) -> bool:
    """A number above 86,400 (``1e999``, ``10**9``, ``60 * 60 * 24 * 365`` included), ``math.inf``
    or ``float("inf")``."""
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return model.qualname(expr, scope) in _INFINITIES
    if isinstance(expr, cst.Call) and model.qualname(expr.func, scope) == "builtins.float" and len(expr.args) == 1:
        text = string_value(expr.args[0].value)
        return text is not None and text.strip().lower().lstrip("+") in ("inf", "infinity")
    value = _number(expr)
    return value is not None and value > _DAY


def _number(expr: cst.BaseExpression, depth: int = 0) -> Optional[float]:
    """The value of a literal number or of ``+ - * **`` between them (small exponents), else None."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            return float(expr.evaluated_value)
        except OverflowError:
            return float("inf")  # an integer too large for a float
        except (SyntaxError, ValueError):
            return None  # more digits than Python converts (a file Python rejects)
    if depth > 8 or not isinstance(expr, cst.BinaryOperation):
        return None
    left, right = _number(expr.left, depth + 1), _number(expr.right, depth + 1)
    if left is None or right is None:
        return None
    op = expr.operator
    try:
        if isinstance(op, cst.Add):
            return left + right
        if isinstance(op, cst.Subtract):
            return left - right
        if isinstance(op, cst.Multiply):
            return left * right
        if isinstance(op, cst.Power):
            if right > 64 and left > 1:
                return float("inf")  # ``2**1000``, ``10**10**10``: not computed, far beyond a day
            if abs(right) <= 64:
                return float(left ** right)
    except (OverflowError, ZeroDivisionError, TypeError):
        return None
    return None


def _task_code(f: EventLoopFacts) -> Iterator[Function]:
    """Where STL108 looks: async code (as STL109), and in a web module its plain functions that
    may run on the loop: startup handlers, and helpers and callbacks the framework does not call
    itself (which start tasks on the loop of their caller), less :func:`_off_loop`'s."""
    yield from _async_code(f)
    if f.web:
        for fn in f.model.functions:
            if not fn.is_async and f.fw.roles_of(fn) <= STARTUP_ROLES and all(
                    isinstance(d.decorator, cst.Name) and d.decorator.value in ("staticmethod", "classmethod")
                    for d in fn.node.decorators):
                yield fn


# calls that run a function they are handed in a worker thread: by name, or by method name
_THREAD_RUNNERS = frozenset({"starlette.concurrency.run_in_threadpool", "fastapi.concurrency.run_in_threadpool",
                             "anyio.to_thread.run_sync", "asyncio.to_thread", "threading.Thread", "threading.Timer",
                             "starlette.background.BackgroundTask", "fastapi.background.BackgroundTasks"})
_THREAD_METHODS = frozenset({"run_in_executor", "submit", "map", "add_task", "run_sync", "run_in_threadpool"})


def _off_loop(f: EventLoopFacts) -> set[int]:
    """ids of the plain functions that run only in a worker thread, where there is no event loop:
    those the framework calls (sync endpoints, dependencies, background tasks: the threadpool),
    those handed to a thread runner (``run_in_threadpool(fn)``, ``Thread(target=fn)``,
    ``loop.run_in_executor(None, lambda: fn())``, ``executor.submit(partial(fn))``), the methods of
    ``threading.Thread`` subclasses, and the plain functions those call, unless async code (or a
    startup handler) calls them too."""
    model, fw = f.model, f.fw
    seeds = [fn for fn in model.functions if not fn.is_async and fw.roles_of(fn) - STARTUP_ROLES]
    seeds += [fn for fn in model.functions if fn.klass is not None
              and "threading.Thread" in model.class_ancestors(fn.klass)]
    for site in model.calls:
        q = model.call_qualname(site) or ""
        func = site.node.func
        if q not in _THREAD_RUNNERS and not (isinstance(func, cst.Attribute) and func.attr.value in _THREAD_METHODS):
            continue
        for arg in site.node.args:
            seeds += _handed(model, arg.value, site.scope)
    off = _closure(fw, [fn for fn in seeds if not fn.is_async])
    on = _closure(fw, [callee for fn in model.functions if fn.is_async or fw.roles_of(fn) & STARTUP_ROLES
                       for site, callee in fw.callees(fn) if not callee.is_async and not site.in_lambda])
    return off - on


def _handed(model: Model, expr: cst.BaseExpression, scope: Scope) -> list[Function]:
    """The functions an argument hands over: ``fn``, ``partial(fn, ...)``, ``lambda: fn(...)``."""
    if isinstance(expr, (cst.Name, cst.Attribute)):
        fn = model.resolve_function(expr, scope)
        return [fn] if fn is not None else []
    if isinstance(expr, cst.Call) and model.qualname(expr.func, scope) == "functools.partial" and expr.args:
        return _handed(model, expr.args[0].value, scope)
    if isinstance(expr, cst.Lambda):
        return [fn for node in (expr.body, *walk(expr.body)) if isinstance(node, cst.Call)
                for fn in _handed(model, node.func, scope)]
    return []


def _closure(fw: Framework, start: list[Function]) -> set[int]:
    """ids of ``start`` and of the plain functions they call, transitively."""
    return set(fw.reachable(start, follow=lambda caller, site, callee: not callee.is_async))


def _async_code(f: EventLoopFacts) -> Iterator[Function]:
    """Async functions STL108/STL109 look at: all of a web module's, plus request-path ones elsewhere."""
    if f.web:
        for fn in f.model.functions:
            if fn.is_async:
                yield fn
    else:
        for fn, _ in f.request_path.values():
            yield fn


__all__ = ["BlockingDatabase", "BlockingFileIO", "BlockingHelper", "BlockingHttp", "BlockingPrimitive",
           "BlockingProcess", "BlockingSleep", "BusyWaitLoop", "DanglingTask", "LongSleep", "NestedEventLoop"]
