"""The blocking-call catalog: a table of data, read by the STL101-STL107 rules.

Every row names a call by its *qualified name* as :class:`~starlette_lint.model.Model`
resolves it through imports and aliases, the code it reports, the async
alternative the message suggests, and, for methods, what the object is:

* ``time.sleep``: a module function (``from time import sleep as nap`` is the same);
* ``requests.Session().get``: a method on the *result* of a call (``()`` marks a
  call), so ``s = requests.Session(); s.get(...)`` and a parameter annotated
  ``s: requests.Session`` resolve to it too;
* ``sqlite3.connect().*``: every public method of that object (``except`` lists
  the ones that do no I/O);
* ``mylib.fetch_*`` (configured names only): every module function whose name
  starts with ``fetch_``.

Objects that several spellings produce are folded onto one receiver
(``RECEIVER_ALIASES``: ``sqlalchemy.orm.sessionmaker()()`` is a Session), and a
few receivers keep their kind through attribute or method steps (``THROUGH``:
``path.parent.with_suffix(".x")`` is still a ``pathlib.Path``; ``client.db.users``
is still pymongo).

Lookups are memoised per qualified name: after the first call in a module,
each call costs one dictionary lookup.

What is deliberately NOT in the table (precision first):

* metadata queries, in every spelling (``METADATA_QUERIES``): ``os.stat``/``lstat``/
  ``access``/``readlink``/``statvfs``, ``os.path.*`` (``exists``, ``isfile``, ``getsize``,
  ``realpath``...), ``shutil.disk_usage``, and the ``pathlib.Path`` methods ``exists``,
  ``is_file``, ``is_dir``, ``is_*``, ``stat``, ``lstat``, ``owner``, ``group``, ``readlink``,
  ``resolve``, ``samefile``: one ``stat``-family system call each (``resolve()``/``realpath``
  a short walk of them over the path's components), answered from the kernel's inode and
  dentry caches; reporting them would drown the file reads and writes that do block.
  Directory listings (``listdir``, ``scandir``, ``glob``, ``iterdir``) are reported: they
  grow with the directory. Calls that *change* metadata (``chmod``, ``utime``, ``touch``)
  are reported: they write;
* ``os.getcwd``,
  ``Path.cwd()``/``Path.home()``, ``Path.absolute()``/``expanduser()`` (no disk
  access; ruff's ASYNC240 reports the last two);
* constructors that open no connection: ``redis.Redis()``, ``pymongo``'s
  database objects, ``sqlalchemy.create_engine()``, ``sessionmaker()``,
  ``Session()``, ``requests.Session()``, ``httpx.Client()``: their *methods*
  are reported, where the event loop actually stops;
* ``os.exec*`` (it never returns: not a blocking call but a process replacement);
* ``json.load(f)``/``pickle.load(f)`` (the ``open()`` that made ``f`` is reported);
* ``queue.Queue().put`` (blocks only on a bounded, full queue),
  ``Session.add()``/``add_all()`` (no I/O), ``connection.cursor()`` (no I/O).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator, Optional

STL101 = "STL101"  # time.sleep
STL102 = "STL102"  # sync HTTP
STL103 = "STL103"  # processes
STL104 = "STL104"  # file I/O
STL105 = "STL105"  # sync database / cache drivers
STL106 = "STL106"  # other blocking primitives (and user-configured calls)

# What each code calls the thing in messages: "blocking HTTP call requests.get() in ...".
KIND = {
    STL101: "call",
    STL102: "HTTP call",
    STL103: "process call",
    STL104: "file I/O call",
    STL105: "database call",
    STL106: "call",
}


@dataclass(frozen=True)
class Entry:
    """One row of the catalog."""

    pattern: str  # qualified name; ``X().*`` every method; ``mod.prefix*`` a name prefix
    code: str
    alternative: str  # what to do instead (the end of the message)
    note: str = ""  # for methods: what the object is ("a requests.Session")
    except_: frozenset[str] = frozenset()  # for ``X().*``: methods that do no I/O
    quiet_when: tuple[str, ...] = ()  # "name@index": not blocking when that argument is literally False/0
    needs: str = ""  # "name@index": blocking only when that argument is given (a host to connect to)
    guard: str = ""  # a named check of the call site (see the rules: "sync-session", "lock-nb", "on-disk")
    configured: bool = False  # from ``extend-blocking-calls``


# Sync SQLAlchemy sessions, and the factories that build one unless given ``class_=AsyncSession``.
SYNC_SESSION_CLASSES = frozenset(
    {"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session", "sqlmodel.Session", "sqlmodel.orm.session.Session"}
)
SESSION_FACTORIES = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})


# ------------------------------------------------------------------ alternatives
SLEEP = "use await anyio.sleep() (or asyncio.sleep)"
HTTP = "use httpx.AsyncClient (await client.get(...))"
HTTPX2 = "use httpx2.AsyncClient (await client.get(...))"
URLLIB3 = "use httpx.AsyncClient, or run it in a thread (await run_in_threadpool(...))"
BOTO3 = "use aioboto3/aiobotocore, or run it in a thread (await run_in_threadpool(...))"
SUBPROCESS = "use await asyncio.create_subprocess_exec() (or anyio.run_process)"
PROC_WAIT = "use asyncio.create_subprocess_exec() and await proc.wait()/proc.communicate()"
THREAD = "run it in a thread: await anyio.to_thread.run_sync({name}, ...) (or run_in_threadpool)"
OPEN = "use await anyio.open_file() (or run it in a thread)"
FILE_METHOD = "use anyio.open_file()/anyio.wrap_file() for async file methods (or run it in a thread)"
PATH = "use anyio.Path (await anyio.Path(...).{method}()) or run it in a thread"
SQLITE = "use aiosqlite, or run it in a thread (or make the endpoint a plain def)"
PSYCOPG = "use asyncpg or psycopg's AsyncConnection (or make the endpoint a plain def)"
MYSQL = "use aiomysql/asyncmy (or make the endpoint a plain def)"
DBAPI = "use an async driver, or run it in a thread (or make the endpoint a plain def)"
MONGO = "use pymongo's AsyncMongoClient or motor (or make the endpoint a plain def)"
REDIS = "use redis.asyncio (or make the endpoint a plain def)"
SQLALCHEMY = "use create_async_engine()/AsyncSession, or make the endpoint a plain def (threadpool)"
ELASTIC = "use elasticsearch.AsyncElasticsearch (or make the endpoint a plain def)"
MEMCACHE = "use an async memcached client, or run it in a thread"
INPUT = "never read stdin in a server; run it in a thread if you must"
DNS = "use await loop.getaddrinfo() (or anyio.getaddrinfo())"
SOCKET = "use asyncio.open_connection() / anyio.connect_tcp()"
MAIL = "use an async client (aiosmtplib), or run it in a thread / a BackgroundTask with a plain def"
SELECT = "use the event loop (asyncio streams / anyio) instead of select"
LOCK = "use asyncio.Lock/anyio.Lock, or run it in a thread"
EVENT = "use asyncio.Event/anyio.Event, or run it in a thread"
JOIN = "await anyio.to_thread.run_sync({name}) instead"
QUEUE = "use asyncio.Queue / anyio memory object streams, or get_nowait()"
FUTURE = "await asyncio.wrap_future(future) instead"
SIGNAL = "use loop.add_signal_handler() instead"
USER = "run it in a thread: await run_in_threadpool({name}, ...)"

_HTTP_VERBS = "get,options,head,post,put,patch,delete,request"
_HTTPX_CLIENT = "close,delete,get,head,options,patch,post,put,request,send,stream"
_FILE_SAFE = "fileno,isatty,readable,writable,seekable"
_PATH_IO = (
    "chmod,copy,copy_into,glob,hardlink_to,iterdir,lchmod,link_to,mkdir,move,move_into,open,read_bytes,"
    "read_text,rename,replace,rglob,rmdir,symlink_to,touch,unlink,walk,write_bytes,write_text"
)
# Metadata queries: one stat-family system call (or a short walk of them for resolve()), the
# same cost in every spelling. None is in the table (see the module docstring); listed for tests.
METADATA_QUERIES = {
    "os": "stat,lstat,statvfs,access,readlink",
    "os.path": "exists,lexists,isfile,isdir,islink,ismount,isjunction,getsize,getmtime,getatime,getctime,"
               "realpath,samefile,sameopenfile,samestat",
    "shutil": "disk_usage",
    "pathlib.Path()": "exists,is_file,is_dir,is_symlink,is_socket,is_fifo,is_block_device,is_char_device,"
                      "is_junction,is_mount,stat,lstat,owner,group,readlink,resolve,samefile",
}


def _rows() -> Iterator[Entry]:
    E = Entry

    # STL101 ---------------------------------------------------------------
    yield E("time.sleep", STL101, SLEEP, quiet_when=("secs@0",))

    # STL102 sync HTTP -----------------------------------------------------
    for mod in ("requests", "requests.api"):
        yield E(f"{mod}.{{{_HTTP_VERBS}}}", STL102, HTTP)
    yield E(f"requests.Session().{{{_HTTP_VERBS},send}}", STL102, HTTP, "a requests.Session")
    yield E(f"httpx.{{{_HTTP_VERBS},stream}}", STL102, HTTP)
    yield E(f"httpx2.{{{_HTTP_VERBS},stream}}", STL102, HTTPX2)
    yield E(f"httpx.Client().{{{_HTTPX_CLIENT}}}", STL102, HTTP, "an httpx.Client")
    yield E(f"httpx2.Client().{{{_HTTPX_CLIENT}}}", STL102, HTTPX2, "an httpx2.Client")
    yield E("urllib.request.{urlopen,urlretrieve}", STL102, HTTP)
    yield E("urllib.request.OpenerDirector().open", STL102, HTTP, "a urllib opener")
    yield E("urllib.request.urlopen().{read,readline,readlines,readinto}", STL102, HTTP, "a urlopen() response")
    yield E("urllib3.request", STL102, URLLIB3)
    for cls in (
        "urllib3.PoolManager", "urllib3.ProxyManager", "urllib3.HTTPConnectionPool",
        "urllib3.HTTPSConnectionPool", "urllib3.connectionpool.ConnectionPool",
        "urllib3.connectionpool.HTTPConnectionPool", "urllib3.connectionpool.HTTPSConnectionPool",
        "urllib3.poolmanager.PoolManager", "urllib3.poolmanager.ProxyManager",
        "urllib3.request.RequestMethods", "urllib3.connection_from_url",
    ):
        yield E(f"{cls}().*", STL102, URLLIB3, f"a {cls}")
    for cls in ("http.client.HTTPConnection", "http.client.HTTPSConnection"):
        yield E(f"{cls}().{{connect,request,getresponse,send,endheaders}}", STL102, URLLIB3, f"an {cls}")
        yield E(f"{cls}().getresponse().{{read,read1,readinto,readline,readlines,peek}}", STL102, URLLIB3,
                "an http.client response")
    yield E("boto3.client().*", STL102, BOTO3, "a boto3 client",
            except_=frozenset({"get_paginator", "get_waiter", "can_paginate", "generate_presigned_url",
                               "generate_presigned_post", "close"}))

    # STL103 processes -----------------------------------------------------
    yield E("subprocess.{run,call,check_call,check_output,getoutput,getstatusoutput,Popen}", STL103, SUBPROCESS)
    yield E("subprocess.Popen().{wait,communicate}", STL103, PROC_WAIT, "a subprocess.Popen",
            quiet_when=("timeout@0",))
    yield E("os.{system,popen,posix_spawn,posix_spawnp,wait,wait3,wait4,waitid,waitpid}", STL103, SUBPROCESS)
    yield E("os.{spawnl,spawnle,spawnlp,spawnlpe,spawnv,spawnve,spawnvp,spawnvpe}", STL103, SUBPROCESS)
    yield E("os.popen().{read,readline,readlines,close}", STL103, PROC_WAIT, "an os.popen() pipe")
    yield E("pty.spawn", STL103, SUBPROCESS)

    # STL104 file I/O ------------------------------------------------------
    yield E("{builtins.open,io.open,io.open_code,codecs.open}", STL104, OPEN)
    yield E("os.{fdopen,open,pread,pwrite,sendfile,fsync,fdatasync,truncate,copy_file_range}", STL104, THREAD)
    # a descriptor may be a pipe, a PTY or a socket polled for readiness: only a regular file's is reported
    yield E("os.{read,write}", STL104, THREAD, guard="file-fd")
    file_safe = frozenset(_FILE_SAFE.split(","))
    for recv in (
        "builtins.open()", "io.open()", "io.open_code()", "codecs.open()", "os.fdopen()",
        "io.TextIOWrapper()", "io.BufferedReader()", "io.BufferedWriter()", "io.BufferedRandom()",
        "io.FileIO()", "gzip.open()", "gzip.GzipFile()", "bz2.open()", "bz2.BZ2File()",
        "lzma.open()", "lzma.LZMAFile()", "tempfile.NamedTemporaryFile()", "tempfile.TemporaryFile()",
    ):
        yield E(f"{recv}.*", STL104, FILE_METHOD, "a file object", except_=file_safe, guard="on-disk")
        if not recv.startswith("tempfile."):  # closing a temporary file deletes it
            # closing flushes only what was written: not blocking for a file opened read-only
            yield E(f"{recv}.close", STL104, FILE_METHOD, "a file object", guard="flushes")
    yield E("{gzip.open,bz2.open,lzma.open,tarfile.open,zipfile.ZipFile}", STL104, THREAD, guard="on-disk")
    yield E("tempfile.{NamedTemporaryFile,TemporaryFile,mkstemp,mkdtemp,TemporaryDirectory}", STL104, THREAD)
    yield E("tempfile.TemporaryDirectory().cleanup", STL104, THREAD, "a TemporaryDirectory")
    for recv in ("tarfile.open()", "tarfile.TarFile()"):
        yield E(f"{recv}.{{extractfile,addfile,getmembers,getnames,getmember,next,list,close}}",
                STL104, THREAD, "a tarfile", guard="on-disk")
        # these read or write files on disk even when the archive itself is in memory
        yield E(f"{recv}.{{extractall,extract,add}}", STL104, THREAD, "a tarfile")
    yield E("zipfile.ZipFile().{read,open,writestr,mkdir,testzip,close}",
            STL104, THREAD, "a zipfile", guard="on-disk")
    yield E("zipfile.ZipFile().{extractall,extract,write}", STL104, THREAD, "a zipfile")
    yield E("shutil.{copy,copy2,copyfile,copyfileobj,copymode,copystat,copytree,move,rmtree,"
            "make_archive,unpack_archive,chown}", STL104, THREAD)
    yield E("os.{remove,unlink,rename,renames,replace,makedirs,mkdir,rmdir,removedirs,listdir,scandir,walk,"
            "fwalk,chmod,lchmod,chown,lchown,link,symlink,utime,mkfifo}", STL104, THREAD)
    yield E("glob.{glob,iglob}", STL104, THREAD)
    yield E(f"pathlib.Path().{{{_PATH_IO}}}", STL104, PATH, "a pathlib.Path")

    # STL105 sync database / cache drivers ----------------------------------
    yield E("sqlite3.connect", STL105, SQLITE)
    yield E("sqlite3.Connection().*", STL105, SQLITE, "a sqlite3 connection", except_=frozenset({"cursor"}))
    yield E("sqlite3.Cursor().*", STL105, SQLITE, "a sqlite3 cursor")
    yield E("{psycopg2.connect,psycopg.connect,psycopg.Connection.connect}", STL105, PSYCOPG)
    yield E("psycopg2.extensions.connection().*", STL105, PSYCOPG, "a psycopg2 connection",
            except_=frozenset({"cursor"}))
    yield E("psycopg2.extensions.cursor().*", STL105, PSYCOPG, "a psycopg2 cursor")
    yield E("psycopg.Connection().*", STL105, PSYCOPG, "a psycopg connection", except_=frozenset({"cursor"}))
    yield E("psycopg.Cursor().*", STL105, PSYCOPG, "a psycopg cursor")
    for cls in ("psycopg2.pool.SimpleConnectionPool", "psycopg2.pool.ThreadedConnectionPool",
                "psycopg_pool.ConnectionPool"):
        yield E(f"{cls}().*", STL105, PSYCOPG, f"a {cls.rsplit('.', 1)[1]}")
    yield E("{pymysql.connect,pymysql.Connect,pymysql.connections.Connection,MySQLdb.connect,MySQLdb.Connect,"
            "mysql.connector.connect}", STL105, MYSQL)
    yield E("pymysql.connections.Connection().*", STL105, MYSQL, "a MySQL connection", except_=frozenset({"cursor"}))
    yield E("pymysql.cursors.Cursor().*", STL105, MYSQL, "a MySQL cursor")
    yield E("{cx_Oracle.connect,oracledb.connect,pyodbc.connect,pymssql.connect,duckdb.connect}", STL105, DBAPI)
    yield E("dbapi.Connection().*", STL105, DBAPI, "a database connection", except_=frozenset({"cursor"}))
    yield E("dbapi.Cursor().*", STL105, DBAPI, "a database cursor")
    yield E("pymongo.MongoClient", STL105, MONGO)
    yield E("pymongo.MongoClient().*", STL105, MONGO, "a pymongo client",
            except_=frozenset({"get_database", "get_default_database", "get_collection", "with_options",
                               "start_session"}))
    yield E("redis.Redis().*", STL105, REDIS, "a sync redis client",
            except_=frozenset({"pipeline", "pubsub", "lock", "register_script"}))
    yield E("redis.Redis().pipeline().execute", STL105, REDIS, "a sync redis pipeline")
    yield E("redis.Redis().pubsub().*", STL105, REDIS, "a sync redis pubsub")
    yield E("redis.Redis().lock().{acquire,release,extend}", STL105, REDIS, "a sync redis lock")
    yield E("sqlalchemy.engine.Engine().*", STL105, SQLALCHEMY, "a sync SQLAlchemy engine",
            except_=frozenset({"execution_options", "update_execution_options", "get_execution_options"}))
    yield E("sqlalchemy.engine.Connection().*", STL105, SQLALCHEMY, "a sync SQLAlchemy connection",
            except_=frozenset({"execution_options", "get_execution_options"}))
    yield E("sqlalchemy.orm.Session().*", STL105, SQLALCHEMY, "a sync SQLAlchemy Session",
            except_=frozenset({"add", "add_all", "expunge", "expunge_all", "in_transaction", "is_modified",
                               "get_bind", "enable_relationship_loading"}),
            guard="sync-session")
    yield E("elasticsearch.Elasticsearch().*", STL105, ELASTIC, "a sync Elasticsearch client",
            except_=frozenset({"options"}))
    yield E("{pymemcache.client.base.Client,pymemcache.Client,memcache.Client}().*", STL105, MEMCACHE,
            "a sync memcached client")

    # STL106 other blocking primitives --------------------------------------
    yield E("{builtins.input,getpass.getpass}", STL106, INPUT)
    yield E("sys.stdin.{read,readline,readlines}", STL106, INPUT)
    yield E("socket.{getaddrinfo,gethostbyname,gethostbyname_ex,gethostbyaddr,getnameinfo,getfqdn}", STL106, DNS)
    yield E("socket.create_connection", STL106, SOCKET)
    yield E("socket.socket().{connect,connect_ex,accept,recv,recv_into,recvfrom,recvfrom_into,recvmsg,"
            "send,sendall,sendto,sendmsg,sendfile,makefile,do_handshake,read,write}", STL106, SOCKET, "a socket")
    yield E("ssl.get_server_certificate", STL106, SOCKET)
    yield E("dns.resolver.{resolve,query,resolve_address}", STL106, DNS)
    yield E("dns.resolver.Resolver().{resolve,query,resolve_address}", STL106, DNS, "a dns Resolver")
    for cls, label in (("smtplib.SMTP", "an SMTP client"), ("ftplib.FTP", "an FTP client")):
        yield E(f"{cls}().*", STL106, MAIL, label,
                except_=frozenset({"set_debuglevel", "has_extn", "set_pasv", "getwelcome"}))
    yield E("{smtplib.SMTP,smtplib.SMTP_SSL,smtplib.LMTP,ftplib.FTP,ftplib.FTP_TLS}", STL106, MAIL, needs="host@0")
    yield E("{imaplib.IMAP4,imaplib.IMAP4_SSL,poplib.POP3,poplib.POP3_SSL}", STL106, MAIL)
    yield E("{imaplib.IMAP4,poplib.POP3}().*", STL106, MAIL, "a mail client")
    yield E("select.select", STL106, SELECT, quiet_when=("timeout@3",))
    yield E("{select.poll,select.epoll,select.devpoll}().poll", STL106, SELECT, "a select poller",
            quiet_when=("timeout@0",))
    yield E("selectors.{DefaultSelector,SelectSelector,PollSelector,EpollSelector,KqueueSelector}().select",
            STL106, SELECT, "a selector", quiet_when=("timeout@0",))
    yield E("threading.{Lock,RLock,Semaphore,BoundedSemaphore,Condition}().acquire", STL106, LOCK,
            "a threading lock", quiet_when=("blocking@0", "timeout@1"))
    yield E("threading.Condition().{wait,wait_for}", STL106, EVENT, "a threading.Condition",
            quiet_when=("timeout@0",))
    yield E("threading.Event().wait", STL106, EVENT, "a threading.Event", quiet_when=("timeout@0",))
    yield E("threading.Barrier().wait", STL106, EVENT, "a threading.Barrier", quiet_when=("timeout@0",))
    yield E("{threading.Thread,threading.Timer}().join", STL106, JOIN, "a thread", quiet_when=("timeout@0",))
    yield E("multiprocessing.Process().join", STL106, JOIN, "a process", quiet_when=("timeout@0",))
    yield E("{queue.Queue,queue.LifoQueue,queue.PriorityQueue,queue.SimpleQueue,multiprocessing.Queue}().get",
            STL106, QUEUE, "a thread queue", quiet_when=("block@0", "timeout@1"))
    yield E("{queue.Queue,queue.LifoQueue,queue.PriorityQueue,multiprocessing.JoinableQueue}().join",
            STL106, QUEUE, "a thread queue")
    yield E("multiprocessing.Pool().{map,starmap,apply,join}", STL106, THREAD, "a multiprocessing pool")
    yield E("multiprocessing.Pool().{apply_async,map_async,starmap_async}().{get,wait}", STL106, FUTURE,
            "a multiprocessing result", quiet_when=("timeout@0",))
    yield E("concurrent.futures.Future().{result,exception}", STL106, FUTURE, "a concurrent.futures.Future",
            quiet_when=("timeout@0",))
    yield E("concurrent.futures.{wait,as_completed}", STL106,
            "wrap the futures with asyncio.wrap_future() and await asyncio.wait()/asyncio.gather()")
    yield E("concurrent.futures.Executor().shutdown", STL106, FUTURE, "an executor", quiet_when=("wait@0",))
    yield E("asyncio.run_coroutine_threadsafe().result", STL106,
            "await the coroutine instead (blocking on it from the loop's own thread deadlocks)",
            "a concurrent.futures.Future", quiet_when=("timeout@0",))
    yield E("fcntl.{flock,lockf}", STL106, THREAD, guard="lock-nb")
    yield E("signal.{pause,sigwait,sigwaitinfo,sigtimedwait}", STL106, SIGNAL)


# Spellings that produce the same kind of object (receivers, after resolution).
RECEIVER_ALIASES: dict[str, str] = {
    "requests.session()": "requests.Session()",
    "requests.sessions.Session()": "requests.Session()",
    "requests.sessions.session()": "requests.Session()",
    "urllib.request.build_opener()": "urllib.request.OpenerDirector()",
    "pathlib.PosixPath()": "pathlib.Path()",
    "pathlib.WindowsPath()": "pathlib.Path()",
    "pathlib.Path.cwd()": "pathlib.Path()",
    "pathlib.Path.home()": "pathlib.Path()",
    "sqlite3.connect()": "sqlite3.Connection()",
    "sqlite3.Connection().cursor()": "sqlite3.Cursor()",
    "sqlite3.Connection().execute()": "sqlite3.Cursor()",
    "psycopg2.connect()": "psycopg2.extensions.connection()",
    "psycopg2.extensions.connection().cursor()": "psycopg2.extensions.cursor()",
    "psycopg.connect()": "psycopg.Connection()",
    "psycopg.Connection.connect()": "psycopg.Connection()",
    "psycopg.Connection().cursor()": "psycopg.Cursor()",
    "pymysql.connect()": "pymysql.connections.Connection()",
    "pymysql.Connect()": "pymysql.connections.Connection()",
    "MySQLdb.connect()": "pymysql.connections.Connection()",
    "MySQLdb.Connect()": "pymysql.connections.Connection()",
    "mysql.connector.connect()": "pymysql.connections.Connection()",
    "pymysql.connections.Connection().cursor()": "pymysql.cursors.Cursor()",
    "cx_Oracle.connect()": "dbapi.Connection()",
    "oracledb.connect()": "dbapi.Connection()",
    "pyodbc.connect()": "dbapi.Connection()",
    "pymssql.connect()": "dbapi.Connection()",
    "duckdb.connect()": "dbapi.Connection()",
    "dbapi.Connection().cursor()": "dbapi.Cursor()",
    "pymongo.mongo_client.MongoClient()": "pymongo.MongoClient()",
    "redis.StrictRedis()": "redis.Redis()",
    "redis.client.Redis()": "redis.Redis()",
    "redis.client.StrictRedis()": "redis.Redis()",
    "redis.from_url()": "redis.Redis()",
    "redis.Redis.from_url()": "redis.Redis()",
    "redis.StrictRedis.from_url()": "redis.Redis()",
    "redis.client.Pipeline()": "redis.Redis().pipeline()",
    "sqlalchemy.create_engine()": "sqlalchemy.engine.Engine()",
    "sqlalchemy.engine.create_engine()": "sqlalchemy.engine.Engine()",
    "sqlalchemy.Engine()": "sqlalchemy.engine.Engine()",
    "sqlalchemy.engine.base.Engine()": "sqlalchemy.engine.Engine()",
    "sqlmodel.create_engine()": "sqlalchemy.engine.Engine()",
    "sqlalchemy.engine.Engine().connect()": "sqlalchemy.engine.Connection()",
    "sqlalchemy.engine.Engine().begin()": "sqlalchemy.engine.Connection()",
    "sqlalchemy.Connection()": "sqlalchemy.engine.Connection()",
    "sqlalchemy.engine.base.Connection()": "sqlalchemy.engine.Connection()",
    "sqlalchemy.orm.session.Session()": "sqlalchemy.orm.Session()",
    "sqlalchemy.orm.sessionmaker()()": "sqlalchemy.orm.Session()",
    "sqlalchemy.orm.session.sessionmaker()()": "sqlalchemy.orm.Session()",
    "sqlalchemy.orm.sessionmaker().begin()": "sqlalchemy.orm.Session()",
    "sqlalchemy.orm.session.sessionmaker().begin()": "sqlalchemy.orm.Session()",
    "sqlalchemy.orm.scoped_session()": "sqlalchemy.orm.Session()",
    "sqlalchemy.orm.scoped_session()()": "sqlalchemy.orm.Session()",
    "sqlmodel.Session()": "sqlalchemy.orm.Session()",
    "elasticsearch.Elasticsearch.options()": "elasticsearch.Elasticsearch()",
    "boto3.session.Session().client()": "boto3.client()",
    "boto3.Session().client()": "boto3.client()",
    "socket.create_connection()": "socket.socket()",
    "socket.socket().accept()": "socket.socket()",
    "ssl.create_default_context()": "ssl.SSLContext()",
    "ssl.SSLContext().wrap_socket()": "socket.socket()",
    "ssl.wrap_socket()": "socket.socket()",
    "smtplib.SMTP_SSL()": "smtplib.SMTP()",
    "smtplib.LMTP()": "smtplib.SMTP()",
    "ftplib.FTP_TLS()": "ftplib.FTP()",
    "imaplib.IMAP4_SSL()": "imaplib.IMAP4()",
    "poplib.POP3_SSL()": "poplib.POP3()",
    "concurrent.futures.ThreadPoolExecutor()": "concurrent.futures.Executor()",
    "concurrent.futures.ProcessPoolExecutor()": "concurrent.futures.Executor()",
    "concurrent.futures.thread.ThreadPoolExecutor()": "concurrent.futures.Executor()",
    "concurrent.futures.Executor().submit()": "concurrent.futures.Future()",
    "multiprocessing.pool.Pool()": "multiprocessing.Pool()",
    "multiprocessing.pool.ThreadPool()": "multiprocessing.Pool()",
    "io.TextIOWrapper()": "builtins.open()",
}

# Steps after a receiver that keep its kind: ``path.parent.with_suffix(".x")`` is a Path;
# "*" means any plain attribute (``client.db.users`` is still a pymongo object).
THROUGH: dict[str, frozenset[str]] = {
    "pathlib.Path()": frozenset({
        "parent", "with_name()", "with_stem()", "with_suffix()", "with_segments()", "joinpath()",
        "relative_to()", "resolve()", "absolute()", "expanduser()",
    }),
    "pymongo.MongoClient()": frozenset(
        {"*", "get_database()", "get_default_database()", "get_collection()", "with_options()"}
    ),
    "elasticsearch.Elasticsearch()": frozenset({"options()", "indices", "cluster", "cat", "ingest"}),
}


def expand(pattern: str) -> list[str]:
    """``a.{b,c}().d`` -> ``["a.b().d", "a.c().d"]`` (one brace group per pattern, repeated)."""
    m = re.search(r"\{([^{}]*)\}", pattern)
    if m is None:
        return [pattern]
    out: list[str] = []
    for alt in m.group(1).split(","):
        out.extend(expand(pattern[: m.start()] + alt.strip() + pattern[m.end():]))
    return out


def _segments(qualname: str) -> list[str]:
    return qualname.split(".")


class Catalog:
    """The built-in table plus configured additions; ``lookup`` is memoised."""

    def __init__(self, rows: Iterable[Entry], safe: Iterable[str] = ()) -> None:
        self.exact: dict[str, Entry] = {}
        self.objects: dict[str, Entry] = {}  # receiver -> ``X().*`` entry
        self.prefixes: dict[str, list[tuple[str, Entry]]] = {}  # module -> [(name prefix, entry)]
        self.patterns: list[tuple[re.Pattern[str], Entry]] = []  # configured wildcards
        self.safe: set[str] = set()
        self.safe_patterns: list[re.Pattern[str]] = []
        self.receivers: set[str] = set()  # receivers of method rows (for alias/through folding)
        for row in rows:
            self.add(row)
        for name in safe:
            if "*" in name:
                self.safe_patterns.append(_wildcard(name))
            else:
                self.safe.add(name)
        self._memo: dict[str, Optional[Entry]] = {}
        self._norm: dict[str, str] = {}

    def add(self, row: Entry) -> None:
        for pattern in expand(row.pattern):
            entry = row if pattern == row.pattern else Entry(
                pattern, row.code, row.alternative, row.note, row.except_, row.quiet_when, row.needs, row.guard,
                row.configured)
            if pattern.endswith("().*"):
                recv = pattern[:-2]
                self.objects[recv] = entry
                self.receivers.add(recv)
            elif pattern.endswith("*") and "*" not in pattern[:-1] and "()" not in pattern:
                module, _, prefix = pattern[:-1].rpartition(".")
                self.prefixes.setdefault(module, []).append((prefix, entry))
            elif "*" in pattern:
                self.patterns.append((_wildcard(pattern), entry))
            else:
                self.exact[pattern] = entry
                recv, _, _ = pattern.rpartition(".")
                if recv.endswith("()"):
                    self.receivers.add(recv)

    # ------------------------------------------------------------ lookup
    def lookup(self, qualname: Optional[str]) -> Optional[Entry]:
        """The catalog row a resolved call name matches, or None (also for safe calls)."""
        if qualname is None:
            return None
        try:
            return self._memo[qualname]
        except KeyError:
            pass
        hit = self._lookup(qualname)
        self._memo[qualname] = hit
        return hit

    def is_safe(self, qualname: str) -> bool:
        """A call ``safe-calls`` names: never reported, nor followed into."""
        if qualname in self.safe:
            return True
        return any(p.fullmatch(qualname) for p in self.safe_patterns)

    def _lookup(self, qualname: str) -> Optional[Entry]:
        if self.is_safe(qualname):
            return None
        hit = self.exact.get(qualname)
        if hit is None:
            recv, _, meth = qualname.rpartition(".")
            if recv and "()" in recv:
                norm = self.normalize(recv)
                if norm != recv:
                    folded = f"{norm}.{meth}"
                    if self.is_safe(folded):
                        return None
                    hit = self.exact.get(folded)
                if hit is None:
                    obj = self.objects.get(norm)
                    if obj is not None and not meth.startswith("_") and meth not in obj.except_:
                        hit = obj
            elif recv:
                for prefix, entry in self.prefixes.get(recv, ()):
                    if meth.startswith(prefix):
                        hit = entry
                        break
        if hit is None:
            for rx, entry in self.patterns:
                if rx.fullmatch(qualname):
                    return entry
        return hit

    def normalize(self, receiver: str) -> str:
        """Fold a receiver onto the catalog's spelling (aliases, kind-preserving steps)."""
        found = self._norm.get(receiver)
        if found is not None:
            return found
        result = receiver
        segs = _segments(receiver)
        for i in range(len(segs), 0, -1):
            written = ".".join(segs[:i])
            head = self._alias(written)
            rest = segs[i:]
            if head == written and head not in self.receivers and head not in THROUGH:
                continue
            through = THROUGH.get(head, frozenset())
            j = 0
            while j < len(rest):
                step = rest[j]
                if step in through or ("*" in through and not step.endswith(")")):
                    j += 1
                    continue
                # a further call on the folded receiver may itself be an alias (conn.cursor())
                nxt = self._alias(f"{head}.{step}")
                if nxt != f"{head}.{step}":
                    head, through = nxt, THROUGH.get(nxt, frozenset())
                    j += 1
                    continue
                break
            if j == len(rest) and (head in self.receivers or head in THROUGH):
                result = head
                break
        self._norm[receiver] = result
        return result

    def _alias(self, name: str) -> str:
        seen = 0
        while name in RECEIVER_ALIASES and seen < 5:
            name = RECEIVER_ALIASES[name]
            seen += 1
        return name


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``*`` matches within one name segment: ``mylib.fetch_*``, ``mylib.Client().*``."""
    return re.compile("".join("[^.()]*" if ch == "*" else re.escape(ch) for ch in pattern))


BUILTIN: tuple[Entry, ...] = tuple(_rows())


@lru_cache(maxsize=32)
def catalog_for(extend: tuple[tuple[str, str], ...] = (), safe: frozenset[str] = frozenset()) -> Catalog:
    """The catalog for one configuration (``extend-blocking-calls``, ``safe-calls``); cached."""
    rows = list(BUILTIN)
    for name, alternative in extend:
        alt = f"use {alternative}" if alternative else USER
        rows.append(Entry(name, STL106, alt, "a configured blocking object" if "()." in name else "", configured=True))
    return Catalog(rows, safe)
