"""The blocking-call catalog covers the peers' catalogues (PEERS.md section 2) and resolves aliases."""

from __future__ import annotations

import re
import textwrap

import pytest

from markers import fixture_config, fixture_files
from starlette_lint.catalog import BUILTIN, METADATA_QUERIES, Catalog, catalog_for, expand
from starlette_lint.engine import check_source

CATALOG = catalog_for()

# flake8-async 26.8 ASYNC2xx and ruff 0.17 ASYNC2xx, by qualified name, except the metadata queries
# (os.path.*, Path.exists/is_file/resolve/stat...: one stat each; see test_metadata_queries_are_not_blocking).
_VERBS = ["get", "options", "head", "post", "put", "patch", "delete", "request"]
_HTTPX_CLIENT = ["close", "delete", "get", "head", "options", "patch", "post", "put", "request", "send", "stream"]
_URLLIB3_POOLS = [
    "urllib3.HTTPConnectionPool", "urllib3.HTTPSConnectionPool", "urllib3.PoolManager", "urllib3.ProxyManager",
    "urllib3.connectionpool.ConnectionPool", "urllib3.connectionpool.HTTPConnectionPool",
    "urllib3.connectionpool.HTTPSConnectionPool", "urllib3.poolmanager.PoolManager",
    "urllib3.poolmanager.ProxyManager", "urllib3.request.RequestMethods",
]
_PATH_IO = [
    "chmod", "glob", "hardlink_to", "iterdir", "lchmod", "mkdir", "open", "read_bytes", "read_text", "rename",
    "replace", "rglob", "rmdir", "symlink_to", "touch", "unlink", "walk", "write_bytes", "write_text",
]
PEERS = (
    [(f"{m}.{v}", "STL102") for m in ("requests", "httpx", "httpx2") for v in _VERBS]
    + [("urllib3.request", "STL102"), ("urllib.request.urlopen", "STL102")]
    + [(f"{c}().{m}", "STL102") for c in ("httpx.Client", "httpx2.Client") for m in _HTTPX_CLIENT]
    + [(f"{c}().{m}", "STL102") for c in _URLLIB3_POOLS for m in ("request", "urlopen", "request_encode_body")]
    + [(f"subprocess.{f}", "STL103") for f in
       ("Popen", "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput")]
    + [(f"os.{f}", "STL103") for f in
       ("popen", "system", "posix_spawn", "posix_spawnp", "wait", "wait3", "wait4", "waitid", "waitpid")]
    + [(f"os.spawn{s}", "STL103") for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]
    + [(f, "STL104") for f in ("builtins.open", "io.open", "io.open_code", "os.fdopen")]
    + [(f"{c}().{m}", "STL104") for c in
       ("io.TextIOWrapper", "io.BufferedReader", "io.BufferedWriter", "io.BufferedRandom", "builtins.open")
       for m in ("read", "write", "readline", "readlines", "seek", "close", "flush")]
    + [(f"pathlib.Path().{m}", "STL104") for m in _PATH_IO]
    + [("builtins.input", "STL106"), ("time.sleep", "STL101")]
)


@pytest.mark.parametrize("name, code", PEERS, ids=[n for n, _ in PEERS])
def test_peer_catalogues_are_covered(name, code):
    entry = CATALOG.lookup(name)
    assert entry is not None and entry.code == code


@pytest.mark.parametrize("name", [
    "os.path.exists", "os.path.join", "os.path.normpath", "os.getcwd", "os.waitstatus_to_exitcode",
    "pathlib.Path().with_suffix", "pathlib.Path().as_posix", "pathlib.Path().absolute", "pathlib.Path().expanduser",
    "pathlib.PurePath().exists", "requests.Session().headers.update", "requests.get().json",
    "sqlite3.Connection().cursor", "sqlalchemy.orm.Session().add", "redis.Redis().pipeline", "redis.Redis",
    "queue.Queue().put", "builtins.open().fileno", "subprocess.Popen().poll", "builtins.print",
    "requests.connect", "httpx.trace",  # ruff reports these; they do not exist in those libraries
    "os.spawn", "os.spawnllll", "os.spawnx", "os.spawn_helper",  # not functions of os (only the eight spawn*)
])
def test_not_blocking(name):
    assert CATALOG.lookup(name) is None


_METADATA = [f"{recv}.{name}" for recv, names in METADATA_QUERIES.items() for name in names.split(",")]


@pytest.mark.parametrize("name", _METADATA + ["pathlib.PosixPath().exists", "pathlib.Path().parent.is_dir"])
def test_metadata_queries_are_not_blocking(name):
    """One policy for every spelling (os, os.path, pathlib): a metadata query is one stat, never reported."""
    assert CATALOG.lookup(name) is None


@pytest.mark.parametrize("name", [
    "pathlib.Path().resolve().read_text", "pathlib.Path().touch", "pathlib.Path().iterdir", "os.listdir",
    "os.scandir", "os.chmod", "os.utime", "glob.glob", "os.remove",
])
def test_contents_listings_and_metadata_writes_stay_blocking(name):
    entry = CATALOG.lookup(name)
    assert entry is not None and entry.code == "STL104"


@pytest.mark.parametrize("name", ["os.spawnl", "os.spawnle", "os.spawnlp", "os.spawnlpe", "os.spawnv", "os.spawnve",
                                  "os.spawnvp", "os.spawnvpe", "os.posix_spawn", "os.posix_spawnp"])
def test_spawn_functions_are_named_exactly(name):
    entry = CATALOG.lookup(name)
    assert entry is not None and entry.code == "STL103"


def test_no_builtin_name_prefix_rows():
    """Built-in rows name real functions; ``mod.prefix*`` rows (which match invented names) are for configuration."""
    assert [e.pattern for e in BUILTIN if e.pattern.endswith("*") and not e.pattern.endswith("().*")] == []


def test_guarded_file_calls():
    """os.read/os.write are checked for a regular file's descriptor; close() for a file that may be written."""
    assert CATALOG.lookup("os.read").guard == CATALOG.lookup("os.write").guard == "file-fd"
    assert CATALOG.lookup("builtins.open().close").guard == "flushes"
    assert CATALOG.lookup("io.TextIOWrapper().close").guard == "flushes"
    assert CATALOG.lookup("tempfile.NamedTemporaryFile().close").guard == "on-disk"  # closing deletes the file


@pytest.mark.parametrize("name, code", [
    ("requests.session().get", "STL102"),
    ("sqlite3.connect().execute", "STL105"),
    ("sqlite3.connect().cursor().execute", "STL105"),
    ("sqlite3.connect().execute().fetchall", "STL105"),
    ("sqlalchemy.orm.sessionmaker()().query", "STL105"),
    ("sqlalchemy.orm.sessionmaker().begin().execute", "STL105"),
    ("sqlalchemy.create_engine().connect().execute", "STL105"),
    ("sqlmodel.Session().exec", "STL105"),
    ("pymongo.MongoClient().app.users.find_one", "STL105"),
    ("pymongo.MongoClient().get_database().users.insert_one", "STL105"),
    ("redis.from_url().get", "STL105"),
    ("pathlib.Path().parent.with_suffix().read_text", "STL104"),
    ("pathlib.PosixPath().unlink", "STL104"),
    ("ssl.create_default_context().wrap_socket().connect", "STL106"),
    ("concurrent.futures.ThreadPoolExecutor().submit().result", "STL106"),
])
def test_objects_resolve_through_aliases(name, code):
    entry = CATALOG.lookup(name)
    assert entry is not None and entry.code == code


def test_configuration_extends_and_silences():
    catalog = catalog_for(
        (("mylib.fetch_sync", "mylib.fetch"), ("mylib.legacy_*", ""), ("mylib.Client().*", "")),
        frozenset({"time.sleep", "mylib.legacy_ok", "requests.Session().*"}),
    )
    assert catalog.lookup("mylib.fetch_sync").code == "STL106"
    assert catalog.lookup("mylib.fetch_sync").alternative == "use mylib.fetch"
    assert catalog.lookup("mylib.legacy_download").code == "STL106"
    assert catalog.lookup("mylib.legacy_ok") is None
    assert catalog.lookup("mylib.Client().pull").configured
    assert catalog.lookup("mylib.Client") is None
    assert catalog.lookup("mylib.other") is None
    assert catalog.lookup("time.sleep") is None
    assert catalog.lookup("requests.session().get") is None  # safe after folding the alias
    assert CATALOG.lookup("time.sleep") is not None  # the default catalog is untouched


def test_table_is_data():
    assert expand("a.{b,c}().{d,e}") == ["a.b().d", "a.b().e", "a.c().d", "a.c().e"]
    assert len(BUILTIN) > 50
    catalog = Catalog(BUILTIN)
    assert len(catalog.exact) > 300
    for entry in BUILTIN:
        assert entry.code in {"STL101", "STL102", "STL103", "STL104", "STL105", "STL106"}
        assert entry.alternative


# ---------------------------------------------------------------- the STL1xx messages built from the catalog
_GROUPED_MARK = re.compile(r"#\s*ok:\s*(STL1\d\d)\s+\(grouped: line (\d+)")
_MORE = re.compile(r"\(and (\d+) more blocking [^:]*: lines? ([\d, ]+)\)$")


def test_grouped_fixture_calls_are_listed_by_the_first_finding():
    """STL104 reports a function's first blocking call; the others (``# ok: STL104  (grouped: line N)``
    in the fixtures) must be exactly the lines the finding at line N lists."""
    checked = 0
    for path in fixture_files():
        if not path.name.startswith("stl10"):
            continue
        text = path.read_text(encoding="utf-8")
        marked: dict[tuple[str, int], set[int]] = {}
        for lineno, line in enumerate(text.splitlines(), 1):
            m = _GROUPED_MARK.search(line)
            if m:
                marked.setdefault((m.group(1), int(m.group(2))), set()).add(lineno)
        listed: dict[tuple[str, int], set[int]] = {}
        for f in check_source(text, str(path), fixture_config(text)):
            m = _MORE.search(f.message)
            if m:
                listed[(f.code, f.line)] = {int(n) for n in m.group(2).split(",")}
                assert int(m.group(1)) >= len(listed[(f.code, f.line)]), f.message
        assert listed == marked, path.name
        checked += len(listed)
    assert checked >= 5


def _messages(source: str, code: str) -> dict[int, str]:
    return {f.line: f.message for f in check_source(textwrap.dedent(source), "app.py") if f.code == code}


def test_grouped_message_counts_and_lists_the_other_calls():
    found = _messages('''
        import os
        from fastapi import FastAPI

        app = FastAPI()

        @app.post("/upload")
        async def upload(data: bytes):
            with open("tmp", "wb") as out:
                out.write(data)
            audio = open("tmp", "rb")
            audio.close()
            os.remove("tmp")

        @app.get("/one")
        async def one():
            os.remove("x")
        ''', "STL104")
    assert sorted(found) == [9, 17]
    assert found[9].endswith("(and 3 more blocking file I/O calls in this function: lines 10, 11, 13)")
    assert "more blocking" not in found[17]


def test_stl101_is_not_grouped():
    found = _messages('''
        import time
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/")
        async def nap():
            time.sleep(1)
            time.sleep(2)
        ''', "STL101")
    assert sorted(found) == [9, 10]  # the fixer rewrites each call


def test_stl107_names_the_real_blocking_call_not_a_metadata_query():
    found = _messages('''
        from pathlib import Path
        from fastapi import FastAPI

        app = FastAPI()

        def template():
            theme = Path("theme.json")
            if theme.is_file():
                return theme.read_text()
            return ""

        def inside(path: Path, root: Path) -> bool:
            return path.resolve().is_relative_to(root.resolve()) and path.exists()

        @app.get("/")
        async def serve():
            inside(Path("a"), Path("."))
            return template()
        ''', "STL107")
    assert list(found) == [19]
    assert "template() -> theme.read_text()" in found[19]


@pytest.mark.parametrize("source, advice", [
    ('''
        @router.post("/jobs")
        async def start():
            asyncio.create_task(job())
     ''', "BackgroundTasks parameter"),
    ('''
        async def start(request):
            asyncio.create_task(job())

        app = Starlette(routes=[Route("/jobs", start, methods=["POST"])])
     ''', "background=BackgroundTask"),
    ('''
        @contextlib.asynccontextmanager
        async def lifespan(app):
            asyncio.create_task(job())
            yield
     ''', "task group"),
    ('''
        class Client:
            async def connect(self):
                asyncio.ensure_future(job())
     ''', "task group"),
    ('''
        @router.websocket("/ws")
        async def ws(websocket):
            asyncio.create_task(job())
     ''', "task group"),
])
def test_stl108_suggests_background_tasks_only_where_there_is_a_response(source, advice):
    header = '''
        import asyncio
        import contextlib
        from fastapi import APIRouter
        from starlette.applications import Starlette
        from starlette.routing import Route

        router = APIRouter()

        async def job():
            pass
    '''
    found = _messages(textwrap.dedent(header) + textwrap.dedent(source), "STL108")
    assert len(found) == 1
    message = next(iter(found.values()))
    assert advice in message and "add_done_callback(tasks.discard)" in message
    if advice == "task group":
        assert "BackgroundTask" not in message


@pytest.mark.parametrize("source, route", [
    ('''
        router = APIRouter()

        @router.post("")
        async def root():
            asyncio.create_task(job())
     ''', "POST /)"),
    ('''
        router = APIRouter()

        @router.post("")
        async def root():
            asyncio.create_task(job())

        app = FastAPI()
        app.include_router(router, prefix="/api/chat")
     ''', "POST /api/chat)"),
    ('''
        inner = APIRouter(prefix="/items")
        outer = APIRouter()

        @inner.get("/{id}")
        async def item(id: int):
            asyncio.create_task(job())

        outer.include_router(inner, prefix="/v1")

        def create_app():
            app = FastAPI()
            app.include_router(outer, prefix="/api")
            return app
     ''', "GET /api/v1/items/{id})"),
    ('''
        router = make_router(prefix="/csrf")

        @router.get("")
        async def token():
            asyncio.create_task(job())
     ''', "GET /csrf)"),
    ('''
        router = make_router()
        app = FastAPI()

        @router.get("/x")
        async def x():
            asyncio.create_task(job())

        app.include_router(router, prefix="/api")
     ''', "GET /api/x)"),
])
def test_routes_in_messages(source, route):
    header = '''
        import asyncio
        from fastapi import APIRouter, FastAPI
        from routers import make_router

        async def job():
            pass
    '''
    found = _messages(textwrap.dedent(header) + textwrap.dedent(source), "STL108")
    assert len(found) == 1
    assert f"({route}" in next(iter(found.values())) or route in next(iter(found.values()))
