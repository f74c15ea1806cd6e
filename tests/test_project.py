"""The project index: the modules of a project summarised from Python's ast, names resolved
across them (relative imports, re-exports, loops), and the framework step's seam fed from it.

tests/projects/src_layout is a src-layout package: ``shop/__init__.py`` re-exports an
``APIRouter`` subclass from ``shop/routing.py``; ``shop/api.py`` builds its router from it and
calls a blocking helper in ``shop/services/tts.py``; ``cycle_a``/``cycle_b`` import each other
(and re-export each other's names in a loop); ``routing.py`` has two classes that are each
other's base; ``broken.py`` does not parse.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import concurrently, parse_output, run_flake8, spawn_cli
from markers import parse_markers
from starlette_lint.engine import analyze_source
from starlette_lint.project import (
    CallRef, FunctionSummary, ProjectIndex, ProjectView, SummaryStore, module_name, package_root, summarize)

PROJECTS = Path(__file__).parent / "projects"
PROJECT = PROJECTS / "src_layout"
SRC = PROJECT / "src"
API = SRC / "shop" / "api.py"


def test_the_package_root_of_a_src_layout_is_src() -> None:
    assert package_root(API) == SRC.resolve()
    assert package_root(SRC / "shop" / "services" / "tts.py") == SRC.resolve()
    assert package_root(PROJECT / "pyproject.toml") == PROJECT.resolve()  # not a package: its own folder


def test_module_names() -> None:
    assert module_name(API, SRC) == "shop.api"
    assert module_name(SRC / "shop" / "__init__.py", SRC) == "shop"
    assert module_name(SRC / "shop" / "services" / "tts.py", SRC) == "shop.services.tts"
    assert module_name(API, PROJECT / "elsewhere") is None


def test_imports_resolve_relative_and_aliased_names() -> None:
    api = ProjectIndex(SRC).module("shop.api")
    assert api is not None and not api.is_package
    assert api.imports["clock"] == "time"
    assert api.imports["AuditedRouter"] == "shop.AuditedRouter"
    assert api.imports["cycle_a"] == "shop.cycle_a"
    assert api.imports["speak"] == "shop.services.tts.speak"
    assert api.assigned["router"] == "shop.AuditedRouter()"


def test_functions_record_their_direct_calls_through_imports() -> None:
    index = ProjectIndex(SRC)
    assert index.module("shop.api").lines is not None  # the index reads function bodies on demand

    def function(name: str) -> FunctionSummary:
        found = index.function(name)
        assert found is not None, name
        return index.read(found)

    say = function("shop.api.say")
    assert say.is_async
    assert [(c.target, c.conditional) for c in say.calls] == [
        ("fastapi.exceptions.HTTPException", True), ("time.sleep", False), ("shop.services.tts.speak", False)]
    speak = function("shop.services.tts.speak")
    assert speak is not None and not speak.is_async
    assert CallRef("requests.post", 8, False, given=frozenset({"@0", "json@", "stream@"})) in speak.calls
    warm = function("shop.api.warm")
    assert warm is not None and warm.calls == [CallRef("shop.cycle_a.ping", 16, True)]
    maybe = function("shop.services.tts.speak_if_asked")
    assert maybe is not None and maybe.calls == [CallRef("shop.services.tts.speak", 13, False, True, given=frozenset({"@0"}))]


def test_re_exports_are_followed_to_the_definition() -> None:
    index = ProjectIndex(SRC)
    assert index.resolve("shop.AuditedRouter") == "shop.routing.AuditedRouter"
    assert index.resolve("shop.routing.AuditedRouter") == "shop.routing.AuditedRouter"
    assert index.resolve("shop.missing") is None
    assert index.resolve("fastapi.APIRouter") is None  # not the project's


def test_loops_end() -> None:
    index = ProjectIndex(SRC)
    assert index.resolve("shop.cycle_a.Ping") is None  # Ping -> cycle_b.Pong -> cycle_a.Ping -> ...
    assert index.function("shop.cycle_b.pong") is not None  # modules that import each other are read once each
    assert set(index.ancestors("shop.routing.Loop")) == {"shop.routing.Later", "shop.routing.Loop"}
    assert index.app_kind("shop.routing.Loop") is None


def test_app_kind_of_a_class_from_another_module() -> None:
    index = ProjectIndex(SRC)
    assert index.app_kind("shop.AuditedRouter") == "apirouter"
    assert index.app_kind("shop.routing.AuditedRouter") == "apirouter"
    assert index.app_kind("shop.api.say") is None
    assert index.app_kind("fastapi.FastAPI") is None  # the framework step knows its own classes


def test_bad_modules_are_empty_never_an_error() -> None:
    index = ProjectIndex(SRC)
    broken = index.module("shop.broken")
    assert broken is not None and broken.parse_error is not None and not broken.functions
    tts = index.module("shop.services.tts")
    assert tts is not None and "nothing" not in tts.imports  # ``from ...outside``: beyond the top package
    assert index.module("shop.nowhere") is None
    assert index.module("not a module") is None
    assert summarize("x = (" * 5000 + ")" * 5000, "deep").parse_error is not None


def test_every_module_of_the_project_is_summarised_once() -> None:
    names = [m.name for m in ProjectIndex(SRC).modules()]
    assert len(names) == len(set(names))
    assert {"shop", "shop.api", "shop.routing", "shop.services", "shop.services.tts", "shop.broken"} <= set(names)


def test_the_index_feeds_the_framework_step() -> None:
    """``router = AuditedRouter()`` is an APIRouter only for the project: through the seam, its
    ``on_event`` hook is judged like any APIRouter's, and helpers in other modules are followed."""
    source = API.read_text(encoding="utf-8")
    alone = analyze_source(source, str(API))
    assert sorted({f.code for f in alone.findings}) == ["STL101"]
    told = analyze_source(source, str(API), elsewhere=ProjectView.of(ProjectIndex.of(API), str(API)))
    hooks = [f for f in told.findings if f.code == "STL202"]
    assert [f.line for f in hooks] == [14]
    assert "APIRouter" in hooks[0].message
    chains = [f.message for f in told.findings if f.code == "STL107"]
    assert chains[1].startswith("blocking call chain announce -> shop.services.notify.announce() -> "
                                "shop.services.tts.speak() -> requests.post() in async path operation announce "
                                "(POST /v1/speech/announce); run the helper in a thread")


def test_views_make_relative_names_absolute() -> None:
    index = ProjectIndex(SRC)
    view = ProjectView.of(index, str(API))
    assert view.absolute(".services.tts.speak") == "shop.services.tts.speak"
    assert view.absolute("..beyond") is None
    assert view.absolute("requests.post") == "requests.post"
    package = ProjectView.of(index, str(SRC / "shop" / "__init__.py"))
    assert package.absolute(".routing.AuditedRouter") == "shop.routing.AuditedRouter"
    assert view.blocking_chain("shop.api.sync_say", _Judge()) is None  # its own module
    assert view.blocking_chain(".services.tts.speak_later", _Judge()) is None  # async: not followed


class _Judge:
    """requests.post and time.sleep block (time.sleep(0) does not); ``safe`` names are never followed."""

    def __init__(self, *safe: str) -> None:
        self._safe = frozenset(safe)

    def blocks(self, qualname: str, quiet: frozenset[str], given: frozenset[str] = frozenset()) -> bool:
        return qualname in ("requests.post", "requests.get") or qualname == "time.sleep" and "@0" not in quiet

    def safe(self, qualname: str) -> bool:
        return qualname in self._safe

    def __hash__(self) -> int:
        return hash(self._safe)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Judge) and other._safe == self._safe


def test_chains_through_modules() -> None:
    view = ProjectView.of(ProjectIndex(SRC), str(API))
    chain = view.blocking_chain(".services.notify.announce", _Judge())
    assert chain is not None
    assert chain.helpers == ("shop.services.notify.announce", "shop.services.tts.speak")
    assert (chain.call, chain.caller, chain.line) == ("requests.post", "shop.services.tts.speak", 8)
    # a safe call is neither reported nor followed: safe-calls silences a chain at any hop
    assert view.blocking_chain(".services.notify.announce", _Judge("shop.services.tts.speak")) is None
    assert view.blocking_chain(".services.notify.announce", _Judge("shop.services.notify.announce")) is None
    assert view.blocking_chain("shop.services.extra.nap", _Judge()) is not None
    for quiet in ("no_nap", "job_factory", "shadowed", "lazy_urls", "polled"):
        assert view.blocking_chain(f"shop.services.extra.{quiet}", _Judge()) is None, quiet


def test_calls_resolve_through_locals_parameters_and_self() -> None:
    source = """
import requests
from sqlalchemy.orm import Session
from typing import Annotated, Optional

class Client:
    def __init__(self):
        self.http = requests.Session()
        self.name = "x"

    def ping(self, db: Optional[Session], other: "Session | None", again: Annotated[Session, 1]):
        self.http.get("u")
        db.query(1)
        other.commit()
        again.flush()
        with requests.Session() as s:
            s.get("v")
        r = requests.Session()
        r.post("w")
        twice = requests.Session()
        twice = None
        twice.get("never")
        return self.later()

    @classmethod
    def make(cls):
        return cls.build()

    @staticmethod
    def build(self):
        self.get()

def later():
    return helper()

def helper():
    pass
"""
    summary = summarize(source, "m")
    ping = summary.functions["Client.ping"]
    assert [c.target for c in ping.calls] == [
        "m.Client().http.get", "sqlalchemy.orm.Session().query", "sqlalchemy.orm.Session().commit",
        "sqlalchemy.orm.Session().flush", "requests.Session", "requests.Session().get", "requests.Session",
        "requests.Session().post", "requests.Session", "m.Client().later"]
    assert summary.classes["Client"].attrs == {"http": "requests.Session()", "name": None}
    assert [c.target for c in summary.functions["Client.make"].calls] == ["m.Client.build"]
    assert summary.functions["Client.build"].calls == []  # a static method's first parameter is no instance
    assert not summary.functions["Client.make"].decorated  # classmethod and staticmethod run in place
    assert [c.target for c in summary.functions["later"].calls] == ["m.helper"]  # defined further down


def test_calls_resolve_through_bindings_methods_and_constructors() -> None:
    index = ProjectIndex(SRC)
    assert index.locate("shop.services.db.SessionLocal().query") == "sqlalchemy.orm.sessionmaker()().query"
    assert index.locate("shop.services.db.AsyncSessionLocal().query") == \
        "sqlalchemy.ext.asyncio.async_sessionmaker()().query"  # class_=AsyncSession: no sync session
    assert index.locate("shop.services.clients.Mailer().http.get") == "requests.Session().get"
    for name, where in [("shop.services.clients.mailer.send", "shop.services.clients.Mailer.send"),
                        ("shop.services.clients.Mailer().check", "shop.services.clients.Mailer.check"),
                        ("shop.services.clients.Remote", "shop.services.clients.Remote.__init__"),
                        ("shop.services.clients.Reports.build", "shop.services.clients.Reports.build")]:
        found = index.locate(name)
        assert not isinstance(found, str) and found.qualname == where, name
    assert index.locate("requests.get") == "requests.get"
    view = ProjectView.of(index, str(SRC / "shop" / "accounts.py"))
    assert view.outside(".services.db.SessionLocal().scalars") == "sqlalchemy.orm.sessionmaker()().scalars"
    assert view.outside("requests.get") is None


def test_async_helpers_are_followed_when_awaited() -> None:
    view = ProjectView.of(ProjectIndex(SRC), str(SRC / "shop" / "accounts.py"))
    chain = view.blocking_chain(".services.clients.fetch_status", _Judge(), awaited=True)
    assert chain is not None and chain.in_async and chain.call == "requests.get"
    assert view.blocking_chain(".services.clients.fetch_status", _Judge()) is None  # not awaited: never runs
    assert view.blocking_chain(".services.clients.fetch_status_threaded", _Judge(), awaited=True) is None


@pytest.mark.parametrize("project, checked", [
    (PROJECT, "src"),  # a src layout
    (PROJECTS / "same_name", "app"),  # package app with module app.app, package app.tasks with app.tasks.tasks
    (PROJECTS / "namespace", "app"),  # namespace packages: no __init__.py, started as uvicorn app.main:app
    (PROJECTS / "wiring", "svc"),  # handlers and middleware registered by setup functions of other modules
])
def test_both_front_ends_report_the_markers_of_the_project(project: Path, checked: str) -> None:
    """project-mode = true in the fixture project's table: the command and flake8 (run from the
    project, each reading that table) report exactly the files' markers, the same findings."""
    want = set()
    for path in sorted((project / checked).rglob("*.py")):
        expected, _ = parse_markers(path.read_text(encoding="utf-8"))
        want |= {(path.relative_to(project).as_posix(), e.line, e.code) for e in expected}
    assert want
    cli, flake8 = concurrently(lambda: spawn_cli("check", "--no-cache", checked, cwd=project),
                               lambda: run_flake8("--select", "STL", checked, cwd=project, core=True))
    for proc in (cli, flake8):
        assert proc.returncode == 1, proc.stdout + proc.stderr
        got = {(Path(r.path).as_posix(), r.line, r.code) for r in parse_output(proc.stdout)}
        assert got == want, proc.stdout


def test_summaries_are_stored_by_content_and_read_back(tmp_path: Path) -> None:
    """The store shares module summaries between processes and runs: a second index reads them
    back (the same chains), an edited module is summarised again, a corrupt entry is a miss."""
    store = SummaryStore(tmp_path / "cache")
    first = ProjectIndex(SRC, store)
    view = ProjectView.of(first, str(SRC / "shop" / "accounts.py"))
    want = view.blocking_chain(".services.clients.fetch_status", _Judge(), awaited=True)
    assert want is not None
    entries = sorted((tmp_path / "cache" / "project-v1").rglob("*.json"))
    assert entries and (tmp_path / "cache" / ".gitignore").is_file()
    second = ProjectIndex(SRC, store)
    assert ProjectView.of(second, str(SRC / "shop" / "accounts.py")).blocking_chain(
        ".services.clients.fetch_status", _Judge(), awaited=True) == want
    clients = second.module("shop.services.clients")
    assert clients is not None and clients.functions["fetch_status"].unread is False  # read on demand
    # an entry for other content, or garbage, is not used
    source = (SRC / "shop" / "services" / "clients.py").read_bytes()
    assert store.get(store.key("shop.services.clients", False, source + b"\n# edited"), "x.py", source) is None
    for entry in entries:
        entry.write_text("{not json", encoding="utf-8")
    third = ProjectIndex(SRC, store)
    assert ProjectView.of(third, str(SRC / "shop" / "accounts.py")).blocking_chain(
        ".services.clients.fetch_status", _Judge(), awaited=True) == want


def test_a_failing_index_leaves_the_file_its_own_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A question about other modules that raises is answered "unknown": the checked file keeps
    the findings it has on its own (here STL101), with no internal error."""
    from starlette_lint import project

    def broken(self: object, *args: object) -> None:
        raise RuntimeError("a bug in the index")

    monkeypatch.setattr(project.ProjectIndex, "locate", broken)
    monkeypatch.setattr(project.ProjectIndex, "app_kind", broken)
    project.clear()
    source = API.read_text(encoding="utf-8")
    codes = {f.code for f in analyze_source(source, str(API), elsewhere=project.view_for(str(API))).findings}
    assert "STL101" in codes and "STL000" not in codes


def test_route_paths_carry_the_prefixes_other_modules_include_them_with() -> None:
    """``app.include_router(accounts.router, prefix="/accounts")`` in shop/main.py (inside a
    factory, through a relative import) names the full paths of shop/accounts.py's routes; the
    router of shop/api.py adds its own ``prefix="/speech"`` under ``/v1``."""
    index = ProjectIndex(SRC)
    assert index.includes()["shop.accounts.router"] == [(None, "/accounts")]
    assert index.route_prefixes("shop.api.router") == ["/v1/speech"]
    assert index.route_prefixes("shop.services.hub") == []  # included nowhere: the module's own paths stand
    for module, path in (("accounts.py", "(GET /accounts/users/{user_id})"), ("api.py", "(POST /v1/speech/say)")):
        file = SRC / "shop" / module
        messages = [f.message for f in analyze_source(file.read_text(encoding="utf-8"), str(file),
                                                      elsewhere=ProjectView.of(index, str(file))).findings]
        assert any(path in m for m in messages), messages


def test_odd_modules_are_read_or_skipped_without_losing_a_finding(tmp_path: Path) -> None:
    """Other modules in a declared encoding, with a BOM, CRLF or form feeds, a method indented
    with tabs, deep nesting, a syntax error or Python 3.12 syntax: chains through the readable
    ones are found with the right line, the others are skipped, and the checked file keeps its
    own findings."""
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_bytes(b"")
    (pkg / "latin.py").write_bytes("# -*- coding: latin-1 -*-\n# caf\xe9\nimport time\n\n\n"
                                   "def nap():\n    time.sleep(1)  # \xe9\n".encode("latin-1"))
    (pkg / "bom.py").write_bytes(b"\xef\xbb\xbfimport time\r\n\x0c\r\n\r\ndef nap():\r\n    time.sleep(1)\r\n")
    (pkg / "tabs.py").write_bytes(b"import time\n\n\nclass Sleeper:\n\tdef nap(self):\n\t\ttime.sleep(1)\n")
    (pkg / "deep.py").write_text("X = " + "(" * 5000 + "1" + ")" * 5000 + "\n\n\ndef nap():\n    pass\n")
    (pkg / "broken.py").write_text("def nap(:\n")
    (pkg / "new.py").write_text("type Alias = list[int]\n\n\ndef nap[T](x: T) -> T:\n    return x\n")
    main = pkg / "main.py"
    main.write_text(
        "import time\n"
        "from fastapi import FastAPI\n"
        "from app import bom, broken, deep, latin, new, tabs\n\n"
        "app = FastAPI()\n\n\n"
        "@app.get('/')\n"
        "async def index():\n"
        "    time.sleep(1)\n"
        "    latin.nap()\n"
        "    bom.nap()\n"
        "    tabs.Sleeper().nap()\n"
        "    deep.nap()\n"
        "    broken.nap()\n"
        "    new.nap(1)\n"
    )
    index = ProjectIndex(tmp_path)
    findings = analyze_source(main.read_bytes(), str(main), elsewhere=ProjectView.of(index, str(main))).findings
    assert sorted((f.line, f.code) for f in findings) == [(10, "STL101"), (11, "STL107"), (12, "STL107"),
                                                          (13, "STL107")]
    for module, line in (("app.latin", 7), ("app.bom", 5), ("app.tabs", 6)):
        summary = index.module(module)
        assert summary is not None
        fn = next(iter(summary.functions.values()))
        assert [c.line for c in index.read(fn).calls] == [line], module


def test_includes_skip_tests_and_local_routers_and_give_up_on_unknown_prefixes(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "items.py").write_text("from fastapi import APIRouter\nrouter = APIRouter(prefix='/items')\n")
    (tmp_path / "app" / "main.py").write_text(
        "from fastapi import APIRouter, FastAPI\nfrom app.items import router\n\napp = FastAPI()\n\n\n"
        "def create_v2():\n    router = APIRouter()\n    app.include_router(router, prefix='/v2')\n\n\n"
        "app.include_router(router, prefix='/api')\n")
    (tmp_path / "tests" / "test_items.py").write_text(
        "from fastapi import FastAPI\nfrom app.items import router\nFastAPI().include_router(router, prefix='/t')\n")
    assert ProjectIndex(tmp_path).route_prefixes("app.items.router") == ["/api/items"]
    (tmp_path / "app" / "v3.py").write_text(
        "from app.main import app\nfrom app.items import router\nPREFIX = '/v3'\napp.include_router(router, prefix=PREFIX)\n")
    assert ProjectIndex(tmp_path).route_prefixes("app.items.router") == []  # one path unknown: none claimed


def test_the_project_fingerprint_sees_content_and_linked_folders(tmp_path: Path) -> None:
    import os

    from starlette_lint.layout import tree_fingerprint

    real = tmp_path / "shared_real"
    real.mkdir()
    (real / "util.py").write_text("import time\ntime.sleep(0)\n")
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "shared").symlink_to(real, target_is_directory=True)
    (root / "app" / "loop").symlink_to(root / "app", target_is_directory=True)  # a link loop ends
    before = tree_fingerprint(root)
    stat = os.stat(real / "util.py")
    (real / "util.py").write_text("import time\ntime.sleep(9)\n")  # same size
    os.utime(real / "util.py", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same modification time
    assert before is not None and tree_fingerprint(root) != before


_SETUPS = '''\
import functools
from fastapi import HTTPException
from fastapi.exception_handlers import http_exception_handler
from starlette.middleware.gzip import GZipMiddleware
from .lib import Error, Mixed


class Gone(HTTPException):
    pass


def handlers(app, debug=False):
    app.add_exception_handler(Gone, http_exception_handler)
    app.exception_handler(404)(lambda request, exc: None)
    if debug:
        app.add_exception_handler(Exception, http_exception_handler)
    app.include_router(None)
    app.state.ready = True
    app.openapi = None
    return app


def by_keyword(*, application):
    handlers(app=application)


def middleware(app):
    app.add_middleware(GZipMiddleware)

    @app.middleware("http")
    async def guard(request, call_next):
        try:
            return await call_next(request)
        except Exception:
            return None


def touches(app):
    app.exception_handlers[Error] = None


def later(app):
    def register():
        app.add_exception_handler(Error, None)
    return register


def stores(app):
    apps.append(app)


def rebinds(app):
    app = app.router
    app.add_exception_handler(Error, None)


def ping(app):
    pong(app)


def debug_only(app):
    if not DEBUG:
        return
    app.add_exception_handler(Error, None)


def looped(app, extra):
    for cls in MIDDLEWARE:
        app.add_middleware(cls)
    app.add_middleware(extra)
    if not app:
        return
    assert isinstance(app, object)


def aliased(app):
    add = app.add_exception_handler
    add(Error, None)


def either(app, fallback):
    target = app or fallback
    target.add_exception_handler(Error, None)


async def later_async(app):
    app.add_exception_handler(Error, None)


def generator(app):
    app.add_exception_handler(Error, None)
    yield


def reexported(app):
    app.add_exception_handler(Mixed, None)


def pong(app):
    ping(app)


@functools.lru_cache
def decorated(app):
    app.add_middleware(GZipMiddleware)


class Installer:
    def install(self, app):
        app.add_middleware(GZipMiddleware)
'''


def test_setup_functions_are_read_for_what_they_register(tmp_path: Path) -> None:
    """What a project function does to the app handed to it: handlers (key, answers, conditions),
    middleware in order, and "opaque" for anything that may configure the app out of sight."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "compat.py").write_text("from fastapi import HTTPException\n")
    (tmp_path / "app" / "lib.py").write_text(
        "from .compat import HTTPException\n\n\nclass Error(Exception):\n    pass\n\n\n"
        "class Mixed(Error, HTTPException):\n    pass\n")
    (tmp_path / "app" / "setup.py").write_text(_SETUPS)
    index = ProjectIndex(tmp_path)
    found = index.app_setup("app.setup.handlers", "@0")
    assert found is not None and not found.opaque and not found.middleware
    gone, status, anything = found.handlers
    assert (gone.key, gone.bases, gone.conditional) == ("app.setup.Gone", ("fastapi.exceptions.HTTPException",), False)
    assert gone.answers == (("fastapi.exception_handlers.http_exception_handler", None),)
    assert (status.status, status.label) == (404, "404")
    assert (anything.key, anything.conditional) == ("builtins.Exception", True)
    assert index.app_setup("app.setup.by_keyword", "application@") == replace(found, function="app.setup.by_keyword")
    assert index.app_setup("app.setup.by_keyword", "@0") is None  # keyword-only: no such position
    mw = index.app_setup("app.setup.middleware", "@0")
    assert mw is not None and [(m.cls, m.label, m.catches_all) for m in mw.middleware] == [
        ("starlette.middleware.gzip.GZipMiddleware", "GZipMiddleware", False), (None, "guard", True)]
    for opaque in ("touches", "later", "stores", "rebinds", "ping"):
        assert index.app_setup(f"app.setup.{opaque}", "@0").opaque, opaque
    for unread in ("decorated", "Installer.install", "Installer", "missing", "app.lib.Error"):
        assert index.app_setup(f"app.setup.{unread}", "@0") is None, unread
    assert ProjectView(index, "app.setup").app_setup("<local>.middleware", "@0") == mw
    debug = index.app_setup("app.setup.debug_only", "@0")  # after an early return on the settings: may not run
    assert debug is not None and [h.conditional for h in debug.handlers] == [True]
    looped = index.app_setup("app.setup.looped", "@0")  # a loop may run no time; a class it cannot name
    assert looped is not None and not looped.opaque
    assert [(m.cls, m.function, m.conditional) for m in looped.middleware] == [(None, False, True), (None, False, False)]
    for opaque in ("aliased", "either"):
        assert index.app_setup(f"app.setup.{opaque}", "@0").opaque, opaque
    for never_runs in ("later_async", "generator"):  # called, their bodies do not run
        assert index.app_setup(f"app.setup.{never_runs}", "@0") is None, never_runs
    mixed = index.app_setup("app.setup.reexported", "@0")
    assert mixed is not None and mixed.handlers[0].key == "app.lib.Mixed"
    assert mixed.handlers[0].bases == ("builtins.Exception", "fastapi.exceptions.HTTPException")  # through app.compat


def test_setups_are_not_followed_when_project_mode_is_off() -> None:
    """Without the project index, an app handed to a setup function is not judged (STL401/402),
    and what setup functions add is not in the middleware order (STL304)."""
    main = SRC.parent.parent / "wiring" / "svc" / "main.py"
    codes = {f.code for f in analyze_source(main.read_text(encoding="utf-8"), str(main)).findings}
    assert not codes & {"STL401", "STL402", "STL304"}


BLOCKING_HELPER = "import time\n\n\ndef slow():\n    time.sleep(1)\n"


def _chain_project(root: Path) -> str:
    """A project-mode package whose endpoint (``app/main.py``) calls a blocking helper of
    ``app/helper.py``; the helper's blocking text."""
    (root / "pyproject.toml").write_text("[tool.starlette-lint]\nproject-mode = true\n")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(
        "from fastapi import FastAPI\nfrom .helper import slow\n\napp = FastAPI()\n\n\n"
        "@app.get('/')\nasync def home():\n    slow()\n    return {}\n")
    (root / "app" / "helper.py").write_text(BLOCKING_HELPER)
    return BLOCKING_HELPER


def test_flake8_does_not_keep_a_result_when_a_package_is_made_above_the_file(tmp_path: Path) -> None:
    """STL701 names the module by the packages above the file: an ``__init__.py`` added there
    changes the finding, not the file, and the file asks the project nothing."""
    (tmp_path / "pkg").mkdir()
    main = "import uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n"
    (tmp_path / "pkg" / "main.py").write_text(main + 'if __name__ == "__main__":\n    uvicorn.run(app, reload=True)\n')

    def flake8(cache: str) -> str:
        return run_flake8("--select", "STL", "pkg", cwd=tmp_path, core=True,
                          env={"STARLETTE_LINT_CACHE_DIR": cache}).stdout

    assert '"main:app"' in flake8(str(tmp_path / "cache"))
    (tmp_path / "pkg" / "__init__.py").write_text("")
    again = flake8(str(tmp_path / "cache"))
    assert '"pkg.main:app"' in again
    assert again == flake8("")


def test_flake8_keeps_results_while_the_project_answers_the_same(tmp_path: Path) -> None:
    """flake8's later runs answer unchanged files from the result cache (beside the summary store).
    After an edit of another module, a file's result still holds when every question its analysis
    asked of the project gets the same answer (an edit the chain does not go through); when one
    answer differs (the helper no longer blocks), the file is analysed again."""
    blocking = _chain_project(tmp_path)
    cache = tmp_path / "cache"

    def flake8() -> str:
        return run_flake8("--select", "STL", "app", cwd=tmp_path, core=True,
                          env={"STARLETTE_LINT_CACHE_DIR": str(cache)}).stdout

    def mark() -> None:  # a hit is what the entry says: this proves the next run reads it
        for entry in (cache / "v1").rglob("*.json"):
            entry.write_text(entry.read_text().replace("blocking call chain", "CACHED chain"))

    first = flake8()
    assert "STL107" in first
    entries = list((cache / "v1").rglob("*.json"))
    assert entries  # main.py's result
    assert all(json.loads(e.read_text()).get("asked") is not None for e in entries)
    mark()
    cached = first.replace("blocking call chain", "CACHED chain")
    assert flake8() == cached
    (tmp_path / "app" / "helper.py").write_text(blocking + "\n\ndef other():\n    return 1\n")
    assert flake8() == cached  # the same answers: still held
    (tmp_path / "app" / "extra.py").write_text("import time\n\n\ndef nap():\n    time.sleep(1)\n")
    assert flake8() == cached  # a module main.py never asks about
    (tmp_path / "app" / "helper.py").write_text("def slow():\n    return None\n")
    assert "STL107" not in flake8()  # the helper no longer blocks: analysed again
    (tmp_path / "app" / "helper.py").write_text(blocking)
    assert flake8() == first  # analysed again: the chain is back
    assert run_flake8("--select", "STL", "app", cwd=tmp_path, core=True,
                      env={"STARLETTE_LINT_CACHE_DIR": ""}).stdout == first  # no cache: analysed
    for entry in (cache / "v1").rglob("*.json"):  # a log that is not one: never trusted
        data = json.loads(entry.read_text())
        if data.get("asked"):
            entry.write_text(json.dumps({**data, "project": "other", "asked": [["blocking_chain", 1]],
                                         "findings": []}))
    assert flake8() == first


def test_the_command_keeps_results_while_the_project_answers_the_same(tmp_path: Path) -> None:
    """The command's result cache in project mode, as flake8's: held while the answers are the same."""
    blocking = _chain_project(tmp_path)

    def check() -> str:
        return spawn_cli("check", "app", cwd=tmp_path).stdout

    first = check()
    assert "STL107" in first
    for entry in (tmp_path / ".starlette_lint_cache" / "v1").rglob("*.json"):
        entry.write_text(entry.read_text().replace("blocking call chain", "CACHED chain"))
    cached = first.replace("blocking call chain", "CACHED chain")
    assert check() == cached
    (tmp_path / "app" / "helper.py").write_text(blocking + "\n\ndef other():\n    return 1\n")
    assert check() == cached  # held: the same answers
    (tmp_path / "app" / "helper.py").write_text("def slow():\n    return None\n")
    assert "STL107" not in check()  # analysed again


def test_flake8_results_follow_the_releases_timeouts_and_links(tmp_path: Path) -> None:
    """What else decides a file's findings is in the key: the releases its project declares (a
    requirements file added), and the file's real path (a link repointed; per-file-ignores match
    real paths); a result cut short by the file-timeout is never kept, also when STL000 is ignored."""
    cache = {"STARLETTE_LINT_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.starlette-lint]\nproject-mode = false\nignore = ['STL000']\n"
        "per-file-ignores = {'legacy/*' = ['STL101']}\n")
    startup = ("from starlette.applications import Starlette\napp = Starlette()\n\n\n"
               "@app.on_event('startup')\nasync def s():\n    pass\n")
    (tmp_path / "events.py").write_text(startup)

    def flake8(*args: str) -> str:
        return run_flake8("--select", "STL", *args, cwd=tmp_path, core=True, env=cache).stdout

    assert "STL202" in flake8("events.py")  # removed in the installed Starlette 1.x
    (tmp_path / "requirements.txt").write_text("starlette==0.22.0\n")
    assert "STL202" not in flake8("events.py")  # still there in the 0.x the project pins
    sleepy = ("import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\n"
              "async def home():\n    time.sleep(1)\n    return {}\n")
    for folder in ("legacy", "new"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.py").write_text(sleepy)
    (tmp_path / "cur.py").symlink_to(tmp_path / "legacy" / "x.py")
    assert flake8("cur.py") == ""
    (tmp_path / "cur.py").unlink()
    (tmp_path / "cur.py").symlink_to(tmp_path / "new" / "x.py")
    assert "STL101" in flake8("cur.py")
    many = "import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n" + "".join(
        f"\n\n@app.get('/{i}')\nasync def h{i}():\n    time.sleep(1)\n" for i in range(300))
    (tmp_path / "big.py").write_text(many)
    assert flake8("--starlette-file-timeout", "0.01", "big.py").count("STL101") < 300  # cut short, STL000 hidden
    assert flake8("big.py").count("STL101") == 300  # analysed again, not the short result


def test_a_routes_list_served_elsewhere_is_judged_unless_a_mount_adds_parameters(tmp_path: Path) -> None:
    """STL605 on ``routes = [Route(...)]`` that no app of its module takes: judged when another
    module serves the list (and uses it no other way) and no Mount, Host or include_router of the
    project may put path parameters before it; a list nobody serves (a library's) is not."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "__init__.py").write_text("")
    pages = tmp_path / "site" / "pages.py"
    pages.write_text(
        "from starlette.responses import JSONResponse\nfrom starlette.routing import Route\n\n\n"
        "async def page(request):\n    return JSONResponse(request.path_params['org'])\n\n\n"
        "routes = [Route('/pages/{id}', page)]\n")
    main = tmp_path / "site" / "main.py"

    def codes() -> list[str]:
        view = ProjectView.of(ProjectIndex(tmp_path), str(pages))
        return [f.code for f in analyze_source(pages.read_text(), str(pages), elsewhere=view).findings]

    main.write_text("from starlette.applications import Starlette\n\napp = Starlette(routes=[])\n")
    assert codes() == []  # nobody serves the list: it may be mounted anywhere
    (tmp_path / "site" / "__init__.py").write_text("from .pages import routes\n")
    assert codes() == []  # re-exported for the package's users: still nobody serves it
    main.write_text("from starlette.applications import Starlette\nfrom site.pages import routes\n\n"
                    "app = Starlette(routes=[])\napp.router.routes.extend(routes)\n")
    assert codes() == []  # used some other way: unknown
    main.write_text("from starlette.applications import Starlette\nfrom starlette.routing import Mount\n"
                    "from site.pages import routes\n\napp = Starlette(routes=[Mount('/static', routes=[])] + routes)\n")
    assert ProjectIndex(tmp_path).mounts_add_parameters() is False
    assert codes() == ["STL605"]
    main.write_text("from starlette.applications import Starlette\nfrom site import pages\n\n"
                    "app = Starlette(routes=pages.routes)\n")
    assert codes() == ["STL605"]  # the module imported, then its attribute
    assert [f.code for f in analyze_source(pages.read_text(), str(pages)).findings] == []  # no project: not judged
    orgs = tmp_path / "site" / "orgs.py"
    for text in ("from starlette.routing import Mount\norgs = Mount('/orgs/{org}', routes=[])\n",
                 "from starlette.routing import Mount\nPREFIX = '/x'\norgs = Mount(PREFIX, routes=[])\n",
                 "from starlette.routing import Mount as M\norgs = M('/orgs', routes=[])\n",
                 "from starlette.routing import Mount\nclass TenantMount(Mount):\n    pass\n",
                 "import functools\nfrom starlette.routing import Mount\nmake = functools.partial(Mount, '/x')\n",
                 "from starlette.routing import Mount\nMount('/x', routes=[]\n"):  # does not parse
        orgs.write_text(text)
        assert ProjectIndex(tmp_path).mounts_add_parameters() is True, text
        assert codes() == [], text
    orgs.write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_orgs.py").write_text(
        "from starlette.routing import Mount\nfrom site.pages import routes\nMount('/t/{x}', routes=routes)\n")
    assert ProjectIndex(tmp_path).mounts_add_parameters() is True  # a test's Mount counts too (conservative)
    assert codes() == []


def test_a_src_layout_routes_list_sees_the_entry_point_beside_src(tmp_path: Path) -> None:
    """``src/site/pages.py`` served by ``main.py`` beside ``src``: its Mounts count, its imports too."""
    package = tmp_path / "src" / "site"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "pages.py").write_text(
        "from starlette.routing import Route\n\n\nasync def page(request):\n    return request.path_params['org']\n\n\n"
        "routes = [Route('/pages/{id}', page)]\n")
    (tmp_path / "main.py").write_text(
        "from starlette.applications import Starlette\nfrom starlette.routing import Mount\n"
        "from site.pages import routes\n\napp = Starlette(routes=[Mount('/orgs/{org}', routes=routes)])\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'site'\n")  # the folder is the project's
    index = ProjectIndex(tmp_path / "src")
    assert index.served_plainly("site.pages.routes") is True  # served by main.py, beside src
    assert index.mounts_add_parameters() is True  # under /orgs/{org}
    # no project marker above src (a /src folder in a container): the folder above is not read,
    # and a list nothing is seen serving is not judged
    (tmp_path / "pyproject.toml").unlink()
    assert ProjectIndex(tmp_path / "src").served_plainly("site.pages.routes") is False
