"""What a module shows of an app's error handling (shared by STL401-STL406).

* :class:`Registrations`: every exception handler registration, with its scope,
  and :func:`classify_key` (what a registration key is);
* :class:`AppErrors`: per app, whether it can be judged at all, which handlers
  it has, what it serves (its own HTTP endpoints, or only mounted apps,
  redirects, static files and websockets), whether something else already
  turns its exceptions into responses, and its *error contract*: the shape in
  which the app answers its errors (its handlers' responses, or the JSON error
  bodies its endpoints return), which an unhandled error then breaks.
"""

from __future__ import annotations

import builtins
import http
import re
from typing import Iterator, Literal, Optional

import libcst as cst

from .. import names as N
from ..framework import (
    EXCEPTION_HANDLER,
    PATH_OPERATION,
    App,
    AppSetup,
    ForeignHandler,
    Framework,
    HandlerReg,
    Route,
)
from ..model import (
    LOCAL,
    CallSite,
    ClassInfo,
    Function,
    Model,
    Scope,
    argument,
    int_value,
    iter_children,
    keyword,
    positional,
    string_value,
    walk,
)
from .lifecycle import app_receiver, is_test_function, top_level_statements

HTTP_EXCEPTIONS = frozenset({"starlette.exceptions.HTTPException", "fastapi.exceptions.HTTPException"})
_KNOWN_EXCEPTION_MODULES = ("starlette.exceptions.", "fastapi.exceptions.")
HANDLER_METHODS = frozenset({"add_exception_handler", "exception_handler"})
_MOUNTS = N.MOUNTS

# Middleware that turn exceptions into responses: an app wrapped in them may handle its 500s.
_ERROR_MIDDLEWARE = frozenset({"starlette.middleware.errors.ServerErrorMiddleware",
                               "starlette.middleware.exceptions.ExceptionMiddleware"})
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")
_REDIRECT = "starlette.responses.RedirectResponse"
_STATIC_FILES = "starlette.staticfiles.StaticFiles"
# Responses whose body is text or a page, not JSON.
_TEXT_RESPONSES = frozenset({"starlette.responses.PlainTextResponse", "starlette.responses.HTMLResponse",
                             _REDIRECT})
# FastAPI's own handlers: delegating to them keeps FastAPI's default {"detail": ...} shape.
_DEFAULT_HANDLERS = "fastapi.exception_handlers."

# Key kinds
KeyKind = Literal["http", "all", "exception", "status", "not_exception", "base_exception", "unknown_class", "unknown"]
HTTP_EXC: KeyKind = "http"  # HTTPException (or a subclass)
ALL: KeyKind = "all"  # Exception itself
EXC: KeyKind = "exception"  # another exception class
STATUS: KeyKind = "status"
NOT_EXC: KeyKind = "not_exception"
BASE_EXC: KeyKind = "base_exception"  # a BaseException that is not an Exception
UNKNOWN_CLASS: KeyKind = "unknown_class"  # an imported class we cannot see (surely not 500 / Exception)
UNKNOWN: KeyKind = "unknown"


class Key:
    __slots__ = ("kind", "status", "what")

    def __init__(self, kind: KeyKind, status: Optional[int] = None, what: str = "") -> None:
        self.kind = kind
        self.status = status
        self.what = what  # for NOT_EXC / BASE_EXC messages


def _builtin_key(name: str) -> Key:
    obj = getattr(builtins, name, None)
    if isinstance(obj, type):
        if issubclass(obj, Exception):
            return Key(ALL if obj is Exception else EXC)
        if issubclass(obj, BaseException):
            return Key(BASE_EXC, what=f"{name} (a BaseException, not an Exception)")
        return Key(NOT_EXC, what=f"the builtin type {name}")
    if obj is None:
        return Key(NOT_EXC, what="None")
    if isinstance(obj, bool):
        return Key(STATUS, int(obj))
    return Key(NOT_EXC, what=f"the builtin {name}")


def _local_class_key(model: Model, info: ClassInfo) -> Key:
    if model.base_cycle(info):
        return Key(UNKNOWN)  # a class that is its own ancestor is never built: not judged
    found: Optional[str] = None
    for cur in model.lineage(info):
        if len(cur.bases) != len(cur.node.bases):
            return Key(UNKNOWN)
        for base in cur.bases:
            if base.startswith(LOCAL + "."):
                if model.local_class(base) is None:
                    return Key(UNKNOWN)
                continue  # in the lineage
            elif base in HTTP_EXCEPTIONS:
                return Key(HTTP_EXC)
            elif base.startswith("builtins."):
                k = _builtin_key(base[len("builtins."):])
                if k.kind in (ALL, EXC):
                    found = EXC
                elif k.kind == BASE_EXC and found is None:
                    found = BASE_EXC
                elif base != "builtins.object":
                    return Key(UNKNOWN)
            elif base.startswith(_KNOWN_EXCEPTION_MODULES) and "(" not in base:
                found = EXC
            else:
                return Key(UNKNOWN)
    if found == EXC:
        return Key(EXC)
    if found == BASE_EXC:
        return Key(BASE_EXC, what=f"{info.name} (a BaseException, not an Exception)")
    return Key(NOT_EXC, what=f"the class {info.name}, which is not an exception")


def classify_key(model: Model, expr: Optional[cst.BaseExpression], scope: Scope, _depth: int = 0) -> Key:
    """What a handler registration key is."""
    if expr is None or _depth > 5:
        return Key(UNKNOWN)
    n = int_value(expr)
    if n is not None:
        return Key(STATUS, n)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        if isinstance(expr, cst.Name):
            lit = model.constant(expr, scope)
            if lit is not None and lit is not expr and not isinstance(lit, cst.Name):
                return classify_key(model, lit, scope, _depth + 1)
        q = model.qualname(expr, scope)
        if q is None:
            return Key(UNKNOWN)
        if q.startswith(LOCAL + ".") and "(" not in q:
            info = model.local_class(q)
            if info is not None:
                return _local_class_key(model, info)
            if model.resolve_function(expr, scope) is not None:
                return Key(NOT_EXC, what=f"the function {q[len(LOCAL) + 1:]}")
            return Key(UNKNOWN)
        return _name_key(q)
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        return Key(NOT_EXC, what=f"the string {model.snippet(expr)}")
    if isinstance(expr, cst.FormattedString):
        return Key(NOT_EXC, what="a string")
    if isinstance(expr, (cst.Float, cst.Imaginary)):
        return Key(NOT_EXC, what=f"the number {model.snippet(expr)}")
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set, cst.Dict)):
        return Key(NOT_EXC, what=f"the {type(expr).__name__.lower()} {model.snippet(expr)}")
    return Key(UNKNOWN)


def _name_key(q: str) -> Key:
    """What a key named by an absolute name is (not one of the module's own classes)."""
    if q.startswith("builtins.") and q.count(".") == 1:
        return _builtin_key(q[len("builtins."):])
    if q in HTTP_EXCEPTIONS:
        return Key(HTTP_EXC)
    m = re.match(r"^starlette\.status\.(?:HTTP|WS)_(\d{3,4})_", q)
    if m:
        return Key(STATUS, int(m.group(1)))
    if q.startswith("http.HTTPStatus."):
        member = http.HTTPStatus.__members__.get(q[len("http.HTTPStatus."):])
        return Key(STATUS, member.value) if member is not None else Key(UNKNOWN)
    if q.startswith(_KNOWN_EXCEPTION_MODULES) and "(" not in q:
        return Key(EXC)
    tail = q.rsplit(".", 1)[-1]
    if "(" not in q and tail[:1].isupper() and any(c.islower() for c in tail):
        return Key(UNKNOWN_CLASS)
    return Key(UNKNOWN)


def foreign_key(handler: ForeignHandler) -> Key:
    """What the key of a handler another module registers is: a status, a known name, or a project
    class judged by its ancestors (an ``HTTPException`` subclass; an ``Exception`` subclass)."""
    if handler.status is not None:
        return Key(STATUS, handler.status)
    if handler.key is None:
        return Key(UNKNOWN)
    if not handler.bases:
        return _name_key(handler.key)
    kinds = {_name_key(b).kind for b in handler.bases}
    if HTTP_EXC in kinds:
        return Key(HTTP_EXC)
    if kinds & {ALL, EXC} and kinds <= {ALL, EXC, BASE_EXC, NOT_EXC}:  # (NOT_EXC: ``object``, a mixin)
        return Key(EXC)
    return Key(UNKNOWN_CLASS)  # an ancestor this index cannot see: it may be an HTTPException


def _status(model: Model, expr: Optional[cst.BaseExpression], scope: Scope) -> Optional[int]:
    if expr is None:
        return None
    k = classify_key(model, expr, scope)
    return k.status if k.kind == STATUS else None


def _site_scope(model: Model, reg: HandlerReg) -> Optional[Scope]:
    if reg.kind == "dict":
        return reg.app.scope if reg.app is not None else None
    site = model.call_of.get(id(reg.node))
    return site.scope if site is not None else None


class Registrations:
    """Every exception handler registration the module shows, with its scope."""

    def __init__(self, fw: Framework) -> None:
        model = fw.model
        self.fw = fw
        self.items: list[tuple[HandlerReg, Scope]] = []
        known: set[int] = set()
        for reg in fw.handlers:
            scope = _site_scope(model, reg)
            if scope is not None:
                self.items.append((reg, scope))
            known.add(id(reg.node))
        # factories: ``app = create_app()`` then ``app.add_exception_handler(...)``
        self.factory_apps: dict[int, list[App]] = {}
        for app in fw.apps:
            if app.is_application and app.factory is not None:
                self.factory_apps.setdefault(id(app.factory), []).append(app)
        for site in model.calls:
            func = site.node.func
            if id(site.node) in known or not isinstance(func, cst.Attribute) or func.attr.value not in HANDLER_METHODS:
                continue
            apps = self.apps_of(model, func.value, site.scope)
            recv = None if apps else app_receiver(fw, func.value, site)
            if not apps and recv is None:
                continue
            call = site.node
            key = argument(call, 0, "exc_class_or_status_code")
            if func.attr.value == "exception_handler":
                if site.decorates is None:
                    continue
                fn = site.decorates if isinstance(site.decorates, Function) else None
                owners: list[Optional[App]] = list(apps) or [None]
                regs = [HandlerReg(a, "decorator", call, key.value if key else None, None, fn) for a in owners]
            else:
                h = argument(call, 1, "handler")
                fn = model.resolve_function(h.value, site.scope) if h is not None else None
                owners = list(apps) or [None]
                regs = [HandlerReg(a, "add", call, key.value if key else None, h.value if h else None, fn)
                        for a in owners]
            for reg in regs:
                self.items.append((reg, site.scope))

    def apps_of(self, model: Model, expr: cst.BaseExpression, scope: Scope) -> list[App]:
        """Apps an expression refers to: a construction, or the result of a same-module app factory."""
        app = self.fw.app_for(expr, scope)
        if app is not None:
            return [app] if app.is_application else []
        if not self.factory_apps:
            return []
        found = model.value_of(expr, scope) if isinstance(expr, cst.Name) else None
        call = found[0] if found is not None else expr
        if isinstance(call, cst.Call):
            fn = model.resolve_function(call.func, found[1] if found is not None else scope)
            if fn is not None:
                return list(self.factory_apps.get(id(fn), ()))
        return []


def registrations(fw: Framework) -> Registrations:
    """The module's exception handler registrations (found once per module)."""
    return fw.derived(Registrations)


def broad_except(model: Model, fn: Function) -> bool:
    """The function catches every exception (``except:``, ``except Exception``)."""
    for node in walk(fn.node):
        if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
            t = node.type
            if t is None:
                return True
            types = [e.value for e in t.elements] if isinstance(t, cst.Tuple) else [t]
            for e in types:
                if model.qualname(e, fn.scope) in ("builtins.Exception", "builtins.BaseException"):
                    return True
    return False


# ------------------------------------------------------------------ contract
AnswerKind = Literal["json", "text", "default", "opaque"]
JSON: AnswerKind = "json"  # JSON bodies (keys known or not)
TEXT: AnswerKind = "text"  # plain text, HTML pages, redirects
DEFAULT: AnswerKind = "default"  # FastAPI's own handlers: its default {"detail": ...} shape
OPAQUE: AnswerKind = "opaque"  # a handler whose answer the module does not show


# a handler of an app: (its key, the key expression, the handler expression, the handler function, where)
_Handler = tuple[Key, Optional[cst.BaseExpression], Optional[cst.BaseExpression], Optional[Function], Scope]


class Answer:
    """What a handler or endpoint answers: a kind, and the JSON keys when known."""

    __slots__ = ("kind", "keys")

    def __init__(self, kind: AnswerKind, keys: Optional[tuple[str, ...]] = None) -> None:
        self.kind = kind
        self.keys = keys


def _combine(answers: list[Answer]) -> Answer:
    for kind in (JSON, TEXT, OPAQUE, DEFAULT):
        found = [a for a in answers if a.kind == kind]
        if found:
            return next((a for a in found if a.keys), found[0])
    return Answer(OPAQUE)


def shape(keys: Optional[tuple[str, ...]]) -> str:
    """``{"error": ...}`` for messages (JSON when the keys are unknown)."""
    if not keys:
        return "JSON"
    shown = ", ".join(f'"{k}": ...' for k in keys[:2])
    return "{" + shown + (", ..." if len(keys) > 2 else "") + "}"


class Contract:
    """Evidence of the form in which an app answers its errors.

    ``kind`` is JSON (a handler or an endpoint answers errors with JSON bodies of
    the app's own shape), OPAQUE (custom handlers whose answers the module does
    not show) or TEXT (handlers answer text or pages: a text/plain 500 fits).
    ``source`` says where it was seen, for messages.
    """

    __slots__ = ("kind", "keys", "source")

    def __init__(self, kind: str, keys: Optional[tuple[str, ...]], source: str) -> None:
        self.kind = kind
        self.keys = keys
        self.source = source

    def describe(self) -> str:
        if self.kind == OPAQUE:
            return f"answers some errors with its own handlers ({self.source})"
        return f"answers its errors as {shape(self.keys)} ({self.source})"


class Served:
    """What an app serves itself, as far as the module shows."""

    __slots__ = ("http", "unknown", "catch_all")

    def __init__(self) -> None:
        self.http: list[Route] = []  # its own HTTP routes (not redirects)
        self.unknown = False  # routes or routers the module cannot read
        self.catch_all = False  # Mount("/", app=...) of another app: the app's own 404 never fires

    @property
    def own_http(self) -> bool:
        """Anything beyond mounted apps, redirects, static files and websockets."""
        return bool(self.http) or self.unknown


class SetupCall:
    """A call that hands an app to a project function configuring it (``register_handlers(app)``)."""

    __slots__ = ("site", "setup", "top")

    def __init__(self, site: CallSite, setup: AppSetup, top: bool) -> None:
        self.site = site
        self.setup = setup
        self.top = top  # a statement of its own in the body that builds the app: runs every time, in order


class AppView:
    """One app's error handling, for the rules."""

    __slots__ = ("app", "has_4xx", "has_500", "contract", "served", "errors_handled")

    def __init__(self, app: App, has_4xx: bool, has_500: bool, contract: Optional[Contract], served: Served,
                 errors_handled: bool) -> None:
        self.app = app
        self.has_4xx = has_4xx
        self.has_500 = has_500
        self.contract = contract  # None: no evidence of an own error format
        self.served = served
        self.errors_handled = errors_handled  # a middleware or every endpoint turns exceptions into responses

    @property
    def label(self) -> str:
        app = self.app
        label = f"app '{app.name}'" if app.name else f"app {'FastAPI' if app.kind == 'fastapi' else 'Starlette'}()"
        factory = app.factory
        return label + (f" (built in {factory.qualname})" if factory is not None else "")

    @property
    def judged_for_500(self) -> bool:
        """An own HTTP endpoint may raise into the app's ServerErrorMiddleware."""
        return self.served.own_http and not self.has_500 and not self.errors_handled


class AppErrors:
    """Which apps can be judged (none configured where the module cannot see), and their error handling."""

    def __init__(self, fw: Framework) -> None:
        self.model = model = fw.model
        self.fw = fw
        regs = registrations(fw)
        self.handed_over: set[int] = set()
        self.setups: dict[int, list[SetupCall]] = {}  # per app: project functions that configure it
        self._tops: dict[int, Optional[set[int]]] = {}
        self.regs: dict[int, list[tuple[HandlerReg, Scope]]] = {}
        for reg, scope in regs.items:
            if reg.app is None or reg.kind == "dict":
                continue
            self.regs.setdefault(id(reg.app), []).append((reg, scope))
        # Apps passed to a function that may configure them.
        for site in model.calls:
            args = site.node.args
            if not args:
                continue
            hits: list[App] = []
            for arg in args:
                v = arg.value
                if isinstance(v, cst.Call):
                    a = fw.app_by_call.get(id(v))
                    if a is not None:
                        hits.append(a)
                elif isinstance(v, cst.Name):
                    hits.extend(regs.apps_of(model, v, site.scope))
            if not hits or self._serves(site):
                continue
            for a in {id(h): h for h in hits}.values():
                setup = self._setup(site, a)
                if setup is None or setup.opaque:
                    self.handed_over.add(id(a))
                elif setup.handlers or setup.middleware:
                    if site.scope is not a.scope:
                        self.handed_over.add(id(a))  # configured later, or elsewhere: out of sight
                    else:
                        self.setups.setdefault(id(a), []).append(SetupCall(site, setup, self._top(site)))
        self.mutated_elsewhere = self._touches_handlers()
        self.candidates = [a for a in fw.apps if a.is_application]
        self._by_call = {id(r.node): r for r in fw.routes}
        self._router_parents: Optional[dict[int, list[App]]] = None
        self._bodies: Optional[dict[int, list[tuple[Function, int, tuple[str, ...]]]]] = None
        self._views: dict[int, Optional[AppView]] = {}

    # ------------------------------------------------------------ judgeable
    def _touches_handlers(self) -> bool:
        """``x.exception_handlers`` read or changed on an object (not the module ``fastapi.exception_handlers``)."""
        model = self.model
        if re.search(r"\.\s*exception_handlers\b", model.source) is None:
            return False
        stack: list[cst.CSTNode] = [model.module]
        while stack:
            node = stack.pop()
            if isinstance(node, (cst.Import, cst.ImportFrom)):
                continue
            if isinstance(node, cst.Attribute) and node.attr.value == "exception_handlers":
                q = model.qualname(node, model.scope)
                if q is None or "(" in q or not q.startswith(("fastapi.", "starlette.")):
                    return True
            stack.extend(iter_children(node))
        return False

    def _setup(self, site: CallSite, app: App) -> Optional[AppSetup]:
        """What the project function a call hands ``app`` to does to it (project mode), or None."""
        fw, model = self.fw, self.model
        for i, arg in enumerate(site.node.args):
            if arg.star:
                return None
            if fw.app_for(arg.value, site.scope) is app or (
                    isinstance(arg.value, cst.Name) and app in registrations(fw).apps_of(model, arg.value, site.scope)):
                return fw.setup_at(site, i)
        return None

    def _top(self, site: CallSite) -> bool:
        """A call written as a statement of its own directly in the body of its scope (runs every time)."""
        key = id(site.scope)
        if key not in self._tops:
            self._tops[key] = top_level_statements(site.scope)
        tops = self._tops[key]
        return tops is not None and id(site.parent) in tops

    def _serves(self, site: CallSite) -> bool:
        model = self.model
        q = model.call_qualname(site)
        if q in N.SERVE_OR_WRAP:
            return True
        if q and q.startswith(("starlette.middleware.", "uvicorn.middleware.")) and q.endswith("Middleware") \
                and q not in _ERROR_MIDDLEWARE:
            return True
        func = site.node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("mount", "host"):
            parent = self.fw.app_for(func.value, site.scope)
            return parent is not None
        return False

    def view(self, app: App) -> Optional[AppView]:
        """The app's error handling, or None when it cannot be judged."""
        if id(app) not in self._views:
            self._views[id(app)] = self._view(app)
        return self._views[id(app)]

    def _view(self, app: App) -> Optional[AppView]:
        model = self.model
        call = app.call
        if not app.is_application or app.cls.startswith(LOCAL + ".") or app.scope.kind in ("class", "lambda"):
            return None
        if self.mutated_elsewhere or id(app) in self.handed_over:
            return None
        if app.factory is not None and is_test_function(model, app.factory):
            return None
        if _TEST_FILE.search(model.filename.replace("\\", "/")):
            return None
        if any(arg.star for arg in call.args):
            return None
        if app.name is not None:
            bindings, _ = model.lookup(app.name, app.scope)
            if bindings is None or len(bindings) != 1:
                return None
        served = self._served(app)
        if not served.own_http:
            return None  # a stub, configured elsewhere, or only mounts / redirects / static files / websockets
        handlers: list[_Handler] = []
        for reg, scope in self.regs.get(id(app), ()):
            handlers.append((classify_key(model, reg.key, scope), reg.key, reg.handler, reg.function, scope))
        eh = app.kwarg("exception_handlers")
        if eh is None and app.kind == "starlette":
            eh = positional(call, 3)
        if eh is not None:
            lit = model.constant(eh.value, app.scope)
            if not isinstance(lit, cst.Dict):
                return None
            if isinstance(eh.value, cst.Name) and self._dict_mutated(eh.value.value):
                return None
            for el in lit.elements:
                if not isinstance(el, cst.DictElement):
                    return None
                fn = model.resolve_function(el.value, app.scope)
                handlers.append((classify_key(model, el.key, app.scope), el.key, el.value, fn, app.scope))
        keys = [h[0] for h in handlers]
        answers: list[tuple[Answer, str]] = []
        for _key, key_expr, handler, fn, scope in handlers:
            label = model.snippet(key_expr, 30) if key_expr is not None else "?"
            answers.append((self._handler_answer(fn, handler, scope), label))
        setups = self.setups.get(id(app), [])
        local = len(answers)
        via: list[str] = []  # the project functions that register handlers counted as evidence
        seen: set[tuple[str, str]] = set()
        for sc in setups:
            for h in sc.setup.handlers:
                keys.append(foreign_key(h))
                if sc.top and not h.conditional and (h.label, sc.setup.function) not in seen:
                    # evidence of a contract only when it always holds
                    seen.add((h.label, sc.setup.function))
                    label = h.label if not local else f"{h.label} in {sc.setup.label}"
                    answers.append((_combine([_response_answer(q, k) for q, k in h.answers]) if h.answers
                                    else Answer(OPAQUE), label))
                    via.append(sc.setup.label)
        if any(k.kind == UNKNOWN for k in keys):
            return None
        has_4xx = any(k.kind in (HTTP_EXC, UNKNOWN_CLASS) or (k.kind == STATUS and 400 <= (k.status or 0) <= 499)
                      for k in keys)
        has_500 = any(k.kind == ALL or (k.kind == STATUS and k.status == 500) for k in keys)
        errors_handled = self.middleware_may_handle_errors(app) or self._endpoints_catch_all(served) or any(
            (m.catches_all if m.function else self._may_handle(m.cls, None, app.scope))
            for sc in setups for m in sc.setup.middleware)
        contract = self._contract(app, answers)
        if contract is not None and via and not local and contract.source.startswith(("handler", "for ")):
            contract.source += ", registered by " + ", ".join(dict.fromkeys(via))
        return AppView(app, has_4xx, has_500, contract, served, errors_handled)

    # ------------------------------------------------------------ contract
    def _contract(self, app: App, answers: list[tuple[Answer, str]]) -> Optional[Contract]:
        """``answers``: what each handler answers, with its label for messages."""
        json_handlers = [(a, label) for a, label in answers if a.kind == JSON]
        if json_handlers:
            a = next((a for a, _ in json_handlers if a.keys), json_handlers[0][0])
            return Contract(JSON, a.keys, _handler_source([label for _, label in answers]))
        bodies = self._error_bodies().get(id(app))
        if bodies:
            fn, status, keys = bodies[0]
            return Contract(JSON, keys, f"{fn.name} returns it with {status}")
        if any(a.kind == TEXT for a, _ in answers):
            return Contract(TEXT, None, _handler_source([label for _, label in answers]))
        opaque = [label for a, label in answers if a.kind == OPAQUE]
        if opaque:
            return Contract(OPAQUE, None, "for " + ", ".join(opaque[:3]) + (", ..." if len(opaque) > 3 else ""))
        return None

    def _handler_answer(self, fn: Optional[Function], expr: Optional[cst.BaseExpression], scope: Scope) -> Answer:
        model = self.model
        if fn is not None:
            return self._function_answer(fn, 0)
        if isinstance(expr, cst.Lambda):
            return self._answer(expr.body, scope, 0)
        if expr is not None:
            q = model.qualname(expr, scope)
            if q is not None and q.startswith(_DEFAULT_HANDLERS):
                return Answer(DEFAULT)
        return Answer(OPAQUE)

    def _function_answer(self, fn: Function, depth: int) -> Answer:
        if depth > 3:
            return Answer(OPAQUE)
        answers = [self._answer(r.value, fn.scope, depth) for r in fn.returns if r.value is not None]
        return _combine(answers) if answers else Answer(OPAQUE)

    def _answer(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> Answer:
        model = self.model
        if isinstance(expr, cst.Await):
            expr = expr.expression
        if isinstance(expr, cst.Name):
            found = model.value_of(expr, scope)
            if found is None:
                return Answer(OPAQUE)
            expr, scope = found
        if not isinstance(expr, cst.Call):
            return Answer(OPAQUE)
        q = model.qualname(expr.func, scope)
        if q is None or q.startswith(LOCAL + "."):
            fn = model.resolve_function(expr.func, scope)
            return self._function_answer(fn, depth + 1) if fn is not None else Answer(OPAQUE)
        if _is_json_response(q):
            content = argument(expr, 0, "content")
            return Answer(JSON, self._dict_keys(content.value, scope) if content is not None else None)
        if q == "starlette.responses.Response":
            mt = keyword(expr, "media_type") or positional(expr, 3)
            value = string_value(model.constant(mt.value, scope)) if mt is not None else None
            if value is not None:
                return Answer(JSON if "json" in value else TEXT)
        return _response_answer(q, None)

    def _dict_keys(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Optional[tuple[str, ...]]:
        """String keys of the dict literal a response body is built from (through a name or a wrapping call)."""
        if depth > 3:
            return None
        if isinstance(expr, cst.Name):
            found = self.model.value_of(expr, scope)
            if found is None:
                return None
            expr, scope = found
        if isinstance(expr, cst.Call):
            first = positional(expr, 0)
            return self._dict_keys(first.value, scope, depth + 1) if first is not None else None
        if not isinstance(expr, cst.Dict):
            return None
        keys = []
        for el in expr.elements:
            if isinstance(el, cst.DictElement):
                k = string_value(el.key)
                if k is None:
                    return None
                keys.append(k)
        return tuple(keys) or None

    def _error_bodies(self) -> dict[int, list[tuple[Function, int, tuple[str, ...]]]]:
        """Per app, the JSON error bodies of its own shape the module's functions return.

        A body counts when it is a dict literal answered with a literal 4xx/5xx
        status, and its keys are neither FastAPI's default ``{"detail": ...}``
        (on a FastAPI app) nor the keys of a success body of the module (a
        health check answering ``{"message": ...}`` with 200 and 503 has no
        error format).
        """
        if self._bodies is not None:
            return self._bodies
        model = self.model
        errors: list[tuple[Function, int, tuple[str, ...]]] = []
        success: set[tuple[str, ...]] = set()
        handlers = {id(reg.function) for reg, _ in registrations(self.fw).items if reg.function is not None}
        for site in model.calls:
            q = model.call_qualname(site)
            if q is None or not _is_json_response(q):
                continue
            fn = site.function
            content = argument(site.node, 0, "content")
            keys = self._dict_keys(content.value, site.scope) if content is not None else None
            if fn is None or keys is None:
                continue
            st = argument(site.node, 1, "status_code")
            status = _status(model, st.value, site.scope) if st is not None else 200
            if status is None:
                continue
            if status < 400:
                success.add(tuple(sorted(keys)))
            elif status <= 599 and EXCEPTION_HANDLER not in self.fw.roles_of(fn) and id(fn) not in handlers:
                errors.append((fn, status, keys))
        for fn in model.functions:
            if PATH_OPERATION in self.fw.roles_of(fn):
                for r in fn.returns:
                    if isinstance(r.value, cst.Dict):
                        keys = self._dict_keys(r.value, fn.scope)
                        if keys:
                            success.add(tuple(sorted(keys)))
        out: dict[int, list[tuple[Function, int, tuple[str, ...]]]] = {}
        for fn, status, keys in errors:
            if tuple(sorted(keys)) in success:
                continue
            for app in self._apps_of_function(fn):
                if app.kind == "fastapi" and keys == ("detail",):
                    continue
                out.setdefault(id(app), []).append((fn, status, keys))
        self._bodies = out
        return out

    def _apps_of_function(self, fn: Function) -> list[App]:
        """The apps whose endpoint ``fn`` is; a helper (or an endpoint of an unknown router) goes to the only app."""
        out: list[App] = []
        for route in self.fw.routes_of(fn):
            for app in self._root_apps(route):
                if app not in out:
                    out.append(app)
        if out:
            return out
        return self.candidates if len(self.candidates) == 1 else []

    def _root_apps(self, route: Route) -> list[App]:
        node: Optional[Route] = route
        seen = 0
        while node is not None and seen < 20:
            if node.app is not None:
                return self._apps_above(node.app, 0)
            node = node.parent
            seen += 1
        return []

    def _apps_above(self, app: App, depth: int) -> list[App]:
        if app.is_application:
            return [app]
        if depth > 5:
            return []
        out: list[App] = []
        for parent in self._routers_parents().get(id(app), ()):
            out.extend(a for a in self._apps_above(parent, depth + 1) if a not in out)
        return out

    def _routers_parents(self) -> dict[int, list[App]]:
        """Router -> the apps and routers that include or mount it."""
        if self._router_parents is None:
            fw = self.fw
            parents: dict[int, list[App]] = {}
            pairs: set[tuple[int, int]] = set()
            for app in fw.apps:
                for ac in app.calls_named("include_router", "mount"):
                    arg = argument(ac.call, 0 if ac.method == "include_router" else 1,
                                   "router" if ac.method == "include_router" else "app")
                    sub = fw.app_for(arg.value, ac.site.scope) if arg is not None else None
                    if sub is not None and not sub.is_application:
                        _add_once(parents, sub, app, pairs)
                for call in app.route_calls:
                    r = self._by_call.get(id(call))
                    if r is not None and r.kind in ("mount", "host"):
                        sub = self._mounted(r)
                        if sub is not None and not sub.is_application:
                            _add_once(parents, sub, app, pairs)
            self._router_parents = parents
        return self._router_parents

    # ------------------------------------------------------------ what it serves
    def _mounted(self, r: Route) -> Optional[App]:
        site = self.model.call_of.get(id(r.node))
        target = argument(r.node, 1, "app")
        if site is None or target is None:
            return None
        return self.fw.app_for(target.value, site.scope)

    def _served(self, app: App) -> Served:
        served = Served()
        routes = app.kwarg("routes") or (positional(app.call, 1) if app.kind == "starlette" else None)
        if routes is not None and not self._readable_routes(routes.value, app.scope, 0):
            served.unknown = True
        self._collect(app, served, 0, set())
        return served

    def _readable_routes(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> bool:
        """A routes expression whose every element is a call the module shows (a literal, a constant, ``+``, ``*``)."""
        if depth > 5:
            return False
        if isinstance(expr, cst.Name):
            found = self.model.value_of(expr, scope)
            if found is None:
                return False
            expr, scope = found
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._readable_routes(expr.left, scope, depth + 1) and \
                self._readable_routes(expr.right, scope, depth + 1)
        if not isinstance(expr, (cst.List, cst.Tuple)):
            return False
        for el in expr.elements:
            if isinstance(el, cst.StarredElement):
                if not self._readable_routes(el.value, scope, depth + 1):
                    return False
            elif not isinstance(el.value, cst.Call):
                return False
        return True

    def _collect(self, owner: App, served: Served, depth: int, seen: set[int]) -> None:
        """The routes ``owner`` serves as its own (its routers' and inline Mounts' too)."""
        if id(owner) in seen or depth > 6:
            served.unknown = served.unknown or depth > 6
            return
        seen.add(id(owner))
        fw = self.fw
        for call in owner.route_calls:
            r = self._by_call.get(id(call))
            if r is None:
                served.unknown = True  # APIRoute(...), a custom route class
            else:
                self._route(r, served, depth, seen, top=depth == 0)
        for ac in owner.calls:
            if ac.method == "include_router":
                arg = argument(ac.call, 0, "router")
                sub = fw.app_for(arg.value, ac.site.scope) if arg is not None else None
                if sub is None or sub.is_application:
                    served.unknown = True
                else:
                    self._collect(sub, served, depth + 1, seen)
            elif ac.method == "host":
                continue  # another app, on another host
        routes = owner.kwarg("routes")
        if owner.kind in ("router", "apirouter") and routes is not None \
                and not self._readable_routes(routes.value, owner.scope, 0):
            served.unknown = True

    def _route(self, r: Route, served: Served, depth: int, seen: set[int], top: bool) -> None:
        model, fw = self.model, self.fw
        if r.kind == "websocket":
            return
        if r.kind == "http":
            if not self._redirects(r):
                served.http.append(r)
            return
        site = model.call_of.get(id(r.node))
        if site is None:
            served.unknown = True
            return
        inner = keyword(r.node, "routes") if r.kind == "mount" else None
        if inner is not None:
            if id(r) in seen:
                return  # read already (listed again, or inside itself: Mounts whose lists name each other)
            seen.add(id(r))
            children = fw.route_children(inner.value, site.scope)
            if not self._readable_routes(inner.value, site.scope, 0):
                served.unknown = True
            for child in children:
                cr = self._by_call.get(id(child))
                if cr is None:
                    served.unknown = True
                else:
                    self._route(cr, served, depth, seen, top=False)
            return
        sub = self._mounted(r)
        if sub is not None and not sub.is_application:
            self._collect(sub, served, depth + 1, seen)  # a mounted Router: its routes are the app's
            return
        # another app (Starlette, FastAPI, StaticFiles, any ASGI app): it answers for itself
        if top and r.kind == "mount" and r.path in ("", "/") and not self._static(r, site.scope):
            served.catch_all = True

    def _static(self, r: Route, scope: Scope) -> bool:
        """``Mount(path, StaticFiles(...))``: its 404 is an HTTPException the mounting app's handlers answer."""
        target = argument(r.node, 1, "app")
        return target is not None and self.model.qualname(target.value, scope) == _STATIC_FILES + "()"

    def _redirects(self, r: Route) -> bool:
        """An HTTP route whose endpoint only redirects (``lambda r: RedirectResponse(...)``, or a factory of one)."""
        model = self.model
        if r.function is not None:
            return self._redirect_function(r.function, 0)
        if r.endpoint_expr is None:
            return False
        site = model.call_of.get(id(r.node))
        return site is not None and self._redirect_expr(r.endpoint_expr, site.scope, 0)

    def _redirect_expr(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> bool:
        model = self.model
        if depth > 3:
            return False
        if isinstance(expr, cst.Lambda):
            return self._is_redirect_response(expr.body, scope)
        if isinstance(expr, cst.Call):
            fn = model.resolve_function(expr.func, scope)
            return fn is not None and self._redirect_function(fn, depth + 1)
        fn = model.resolve_function(expr, scope)
        return fn is not None and self._redirect_function(fn, depth + 1)

    def _redirect_function(self, fn: Function, depth: int) -> bool:
        """Every return is a RedirectResponse, or an endpoint (lambda, def) that redirects."""
        values = [r.value for r in fn.returns]
        if not values or any(v is None for v in values):
            return False
        return all(self._is_redirect_response(v, fn.scope) or self._redirect_expr(v, fn.scope, depth + 1)
                   for v in values if v is not None)

    def _is_redirect_response(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        return isinstance(expr, cst.Call) and self.model.qualname(expr.func, scope) == _REDIRECT

    def _endpoints_catch_all(self, served: Served) -> bool:
        """Every own endpoint catches ``Exception`` itself (a proxy): nothing reaches the app's 500."""
        if served.unknown or not served.http:
            return False
        return all(r.function is not None and broad_except(self.model, r.function) for r in served.http)

    # ------------------------------------------------------------ middleware
    def middleware_may_handle_errors(self, app: App) -> bool:
        model, fw = self.model, self.fw
        mw = app.kwarg("middleware")
        if mw is not None and not any(e.app is app and e.kind == "list" for e in fw.middleware_entries):
            lit = model.constant(mw.value, app.scope)
            if lit is None or not isinstance(lit, (cst.List, cst.Tuple)) or lit.elements:
                return True  # a list we cannot read
        for e in fw.middleware_entries:
            if e.app is not app:
                continue
            scope = app.scope if e.kind == "list" else model.call_of[id(e.node)].scope
            if self._may_handle(e.cls, e.node if isinstance(e.node, cst.Call) else None, scope):
                return True
        for ac in app.calls_named("middleware"):
            fn = ac.decorates if isinstance(ac.decorates, Function) else None
            if fn is None or broad_except(model, fn):
                return True
        return False

    def _may_handle(self, cls: Optional[str], call: Optional[cst.Call], scope: Scope) -> bool:
        model = self.model
        if cls is None:
            return True
        if cls in _ERROR_MIDDLEWARE:
            return True
        if cls == N.BASE_HTTP_MIDDLEWARE:
            d = keyword(call, "dispatch") if call is not None else None
            fn = model.resolve_function(d.value, scope) if d is not None else None
            return fn is None or broad_except(model, fn)
        if cls.startswith(("starlette.middleware.", "uvicorn.middleware.")):
            return False
        if cls.startswith(LOCAL + "."):
            info = model.local_class(cls)
            if info is None:
                return True
            for name in ("dispatch", "__call__"):
                fn = model._method(info, name)
                if fn is not None and broad_except(model, fn):
                    return True
            ancestors = model.class_ancestors(info)
            return any(not (b.startswith(LOCAL + ".") or b == "builtins.object" or b.startswith("starlette.middleware."))
                       for b in ancestors)
        return True

    def _dict_mutated(self, name: str) -> bool:
        pattern = r"\b" + re.escape(name) + r"\s*(\[|\.\s*(update|setdefault|__setitem__)\b)"
        return re.search(pattern, self.model.source) is not None


def _add_once(parents: dict[int, list[App]], sub: App, app: App, pairs: set[tuple[int, int]]) -> None:
    """A router included many times by the same parent has that parent once (no fan-out above it)."""
    if (id(sub), id(app)) not in pairs:
        pairs.add((id(sub), id(app)))
        parents.setdefault(id(sub), []).append(app)


def _response_answer(q: Optional[str], keys: Optional[tuple[str, ...]]) -> Answer:
    """What returning a call of ``q`` answers (``keys``: of the dict literal it is given first)."""
    if q is None:
        return Answer(OPAQUE)
    if _is_json_response(q):
        return Answer(JSON, keys)
    if q in _TEXT_RESPONSES or q.endswith(".TemplateResponse"):
        return Answer(TEXT)
    if q.startswith(_DEFAULT_HANDLERS):
        return Answer(DEFAULT)
    return Answer(OPAQUE)


def _is_json_response(q: str) -> bool:
    return q.startswith("starlette.responses.") and q.endswith("JSONResponse")


def _handler_source(labels: list[str]) -> str:
    shown = ", ".join(labels[:3]) + (", ..." if len(labels) > 3 else "")
    return ("handlers for " if len(labels) > 1 else "handler for ") + shown


def app_errors(fw: Framework) -> AppErrors:
    """The module's apps and their error handling (found once per module)."""
    return fw.derived(AppErrors)


def views(fw: Framework) -> Iterator[AppView]:
    """Every judgeable Starlette / FastAPI app of the module."""
    apps = fw.applications()
    if not apps:
        return
    errors = app_errors(fw)
    for app in apps:
        v = errors.view(app)
        if v is not None:
            yield v
