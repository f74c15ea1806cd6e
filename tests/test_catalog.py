"""The blocking-call catalog covers the peers' catalogues (PEERS.md section 2) and resolves aliases."""

from __future__ import annotations

import pytest

from starlette_lint.catalog import BUILTIN, Catalog, catalog_for, expand

CATALOG = catalog_for()

# flake8-async 26.8 ASYNC2xx and ruff 0.17 ASYNC2xx, by qualified name (os.path.* excluded by RULES.md).
_VERBS = ["get", "options", "head", "post", "put", "patch", "delete", "request"]
_HTTPX_CLIENT = ["close", "delete", "get", "head", "options", "patch", "post", "put", "request", "send", "stream"]
_URLLIB3_POOLS = [
    "urllib3.HTTPConnectionPool", "urllib3.HTTPSConnectionPool", "urllib3.PoolManager", "urllib3.ProxyManager",
    "urllib3.connectionpool.ConnectionPool", "urllib3.connectionpool.HTTPConnectionPool",
    "urllib3.connectionpool.HTTPSConnectionPool", "urllib3.poolmanager.PoolManager",
    "urllib3.poolmanager.ProxyManager", "urllib3.request.RequestMethods",
]
_PATH_IO = [
    "chmod", "exists", "glob", "group", "hardlink_to", "is_block_device", "is_char_device", "is_dir", "is_fifo",
    "is_file", "is_junction", "is_mount", "is_socket", "is_symlink", "iterdir", "lchmod", "lstat", "mkdir", "open",
    "owner", "read_bytes", "read_text", "readlink", "rename", "replace", "resolve", "rglob", "rmdir", "samefile",
    "stat", "symlink_to", "touch", "unlink", "walk", "write_bytes", "write_text",
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
])
def test_not_blocking(name):
    assert CATALOG.lookup(name) is None


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
