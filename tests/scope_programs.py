"""Valid programs heavy on scopes, whose names point back at each other: input for the termination tests.

A program is composed from pieces that are legal Python but make name
resolution and the framework analysis walk in circles: ``global`` at module
level, self-aliases (``app = app``), loops of aliases and of class bases
(``Base = Child`` then ``class Child(Base)``), (mutual) recursion, star imports,
``del``, comprehension and class scopes, ``nonlocal`` chains, walrus, lambdas,
decorators, nested functions, and app / route / Mount / middleware /
exception-handler / lifespan wiring. Every name comes from a small pool, so
the same few names are bound many ways and refer to one another. Each program
imports fastapi and starlette (the prefilter lets it through) and compiles.

* :func:`program` builds one from a ``random.Random`` (a fixed seed gives a fixed batch);
* :func:`scope_programs` is the same generator as a hypothesis strategy (it shrinks).
"""

from __future__ import annotations

import random
from typing import Optional

from hypothesis import strategies as st

__all__ = ["program", "programs", "scope_programs"]

# One pool for every kind of name: functions, classes, apps, lists and locals collide on purpose.
POOL = ("app", "api", "router", "routes", "handlers", "middleware", "lifespan", "helper", "ping", "pong",
        "Base", "Child", "Error", "deco", "client", "sleep", "a", "b", "request", "state", "gen", "wrap")
# Names only ever declared ``global`` at module level after statements (the shape), never used before.
LATE_GLOBALS = ("counter", "total", "cache")
KNOWN_BASES = ("BaseHTTPMiddleware", "HTTPEndpoint", "Exception", "HTTPException", "object", "Starlette", "APIRouter")
PATHS = ('"/"', '"/items"', '"/users/{id}"', '"/health"', '"x"', '""', '"/a/{id:int}"')

HEADER = """\
import asyncio
import contextlib
import functools
import time

import httpx
import requests
import uvicorn
from contextlib import asynccontextmanager
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute
"""

# Statements that may start a module after the header (imports of the module itself, star imports).
EXTRA_IMPORTS = ("from time import *", "from starlette.routing import *", "from fastapi import *",
                 "import gen", "from gen import app", "from gen import *", "from . import gen",
                 "from . import gen as app", "import gen as router", "from gen import helper as helper")


class _Scope:
    """What the generator knows of the scope it writes in (enough to keep global/nonlocal/await legal)."""

    def __init__(self, kind: str, parent: Optional["_Scope"], is_async: bool = False,
                 params: frozenset[str] = frozenset()) -> None:
        self.kind = kind  # module | function | class
        self.parent = parent
        self.is_async = is_async
        self.params = params
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.bound: set[str] = set(params)  # local bindings (and nonlocals): what an inner nonlocal may name
        self.generator = False

    def function_above(self) -> Optional["_Scope"]:
        """The nearest enclosing function scope (class scopes are skipped, as Python does)."""
        s = self.parent
        while s is not None and s.kind == "class":
            s = s.parent
        return s if s is not None and s.kind == "function" else None

    def bind(self, name: str) -> None:
        if name not in self.globals:
            self.bound.add(name)


class _Writer:
    def __init__(self, rnd: random.Random, statements: int) -> None:
        self.rnd = rnd
        self.lines: list[str] = []
        self.budget = statements
        k = rnd.randint(4, 9)
        self.names = rnd.sample(POOL, k)  # few names per program: many bindings of each
        self.late: set[str] = set()  # LATE_GLOBALS written so far

    # ------------------------------------------------------------------ helpers
    def name(self) -> str:
        return self.rnd.choice(self.names)

    def emit(self, indent: int, text: str) -> None:
        for line in text.split("\n"):
            self.lines.append("    " * indent + line)

    def chance(self, p: float) -> bool:
        return self.rnd.random() < p

    # -------------------------------------------------------------- expressions
    def expr(self, scope: _Scope, depth: int = 0, can_await: bool = False) -> str:
        r, n = self.rnd, self.name
        if depth > 1:
            return r.choice([n(), n(), f"{n()}.{n()}", r.choice(PATHS), "1", "None"])
        sub = lambda: self.expr(scope, depth + 1, can_await)  # noqa: E731
        kind = r.randrange(22)
        if kind < 4:
            return n()
        if kind == 4:
            return f"{n()}.{n()}"
        if kind == 5:
            return f"{n()}({sub()})"
        if kind == 6:
            return f"{n()}.{r.choice(['get', 'post', 'state', 'session', 'app', 'router', 'include_router'])}({sub()})"
        if kind == 7:
            return f"[{sub()}, *{n()}, {sub()}]"
        if kind == 8:
            return f"{{500: {n()}, Exception: {sub()}, {n()}: {n()}}}"
        if kind == 9:
            p = n()
            return f"lambda {p}: {n()}({p})"
        if kind == 10:
            return f"{n()} + {n()}"
        if kind == 11:
            return f"{n()} / {r.choice(PATHS)}"
        if kind == 12:
            return f"[{n()} for {n()} in {n()}]"
        if kind == 13:
            return f"{{{n()}: {n()} for {n()} in {n()} if {n()}}}"
        if kind == 14 and can_await:
            return f"await {n()}({sub()})"
        if kind == 15:
            return self.route()
        if kind == 16:
            return self.app_call()
        if kind == 17:
            return f"Middleware({n()}, dispatch={n()})"
        if kind == 18:
            return r.choice(PATHS)
        if kind == 19:
            return f"{n()}[{r.choice(['500', 'Exception', repr('k')])}]"
        if kind == 20:
            return f"({n()} if {n()} else {sub()})"
        return r.choice(["1", "None", "True", "time.sleep", "requests.get", "{}", "[]"])

    def route(self) -> str:
        r, n = self.rnd, self.name
        kind = r.randrange(6)
        path = r.choice(PATHS)
        if kind == 0:
            return f"Route({path}, {n()})"
        if kind == 1:
            return f"Route({path}, endpoint={n()}, methods=[\"GET\", \"POST\"])"
        if kind == 2:
            return f"Mount({path}, routes={n()})"
        if kind == 3:
            return f"Mount({path}, app={n()})"
        if kind == 4:
            return f"Host(\"example.com\", app={n()})"
        return f"WebSocketRoute({path}, {n()})"

    def app_call(self) -> str:
        r, n = self.rnd, self.name
        cls = r.choice(["FastAPI", "Starlette", "APIRouter", "Router"])
        kwargs = {}
        for key in r.sample(["routes", "middleware", "exception_handlers", "lifespan", "on_startup", "prefix",
                             "debug", "dependencies"], r.randint(0, 3)):
            kwargs[key] = {
                "routes": lambda: r.choice([n(), f"[{self.route()}, {self.route()}]", f"[*{n()}, {self.route()}]"]),
                "middleware": lambda: r.choice([n(), f"[Middleware({n()}), Middleware(CORSMiddleware, allow_origins=[\"*\"])]"]),
                "exception_handlers": lambda: r.choice([n(), f"{{500: {n()}, {n()}: {n()}, HTTPException: {n()}}}"]),
                "lifespan": n,
                "on_startup": lambda: f"[{n()}, {n()}]",
                "prefix": lambda: r.choice(PATHS),
                "debug": lambda: "True",
                "dependencies": lambda: f"[Depends({n()})]",
            }[key]()
        return f"{cls}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"

    # -------------------------------------------------------------- statements
    def module_statement(self, scope: _Scope, indent: int) -> None:
        r, n = self.rnd, self.name
        kind = r.randrange(30)
        if kind < 3:  # aliases: a = b, app = app, a = b = a, a, b = b, a
            target = n()
            self.emit(indent, r.choice([f"{target} = {n()}", f"{target} = {target}", f"{target} = {n()} = {target}",
                                        f"{target}, {n()} = {n()}, {target}", f"{target} = {n()}.{target}"]))
        elif kind < 6:
            self.emit(indent, f"{n()} = {self.app_call()}")
        elif kind == 6:
            self.emit(indent, f"{n()} = [{', '.join(self.route() for _ in range(r.randint(0, 3)))}]")
        elif kind == 7:
            target = n()
            self.emit(indent, r.choice([f"{target}.append(Mount({r.choice(PATHS)}, routes={target}))",
                                        f"{target} += {n()}", f"{target} = {n()} + {target}",
                                        f"{target}.extend({target})", f"{target} = [*{target}, *{n()}, *{target}]"]))
        elif kind == 8:
            target = n()
            self.emit(indent, r.choice([f"{target} = {{500: {n()}, Exception: {n()}, HTTPException: {n()}}}",
                                        f"{target}[500] = {target}", f"{target}.update({target})",
                                        f"{target} = {{{n()}: {target}}}"]))
        elif kind == 9:
            self.emit(indent, f"{n()} = [Middleware({n()}), Middleware(BaseHTTPMiddleware, dispatch={n()}), "
                              f"Middleware(SessionMiddleware, secret_key={n()})]")
        elif kind < 13:
            owner, other, path = n(), n(), r.choice(PATHS)
            self.emit(indent, r.choice([
                f"{owner}.include_router({other}, prefix={path})", f"{owner}.include_router({owner})",
                f"{owner}.mount({path}, {other})", f"{owner}.mount({path}, {owner})",
                f"{owner}.add_route({path}, {other})", f"{owner}.add_exception_handler(500, {other})",
                f"{owner}.add_exception_handler({other}, {owner})", f"{owner}.add_event_handler(\"startup\", {other})",
                f"{owner}.add_middleware({other})", f"{owner}.add_middleware({owner}, dispatch={other})",
                f"{owner}.state.{other} = httpx.AsyncClient()", f"{owner}.router.lifespan_context = {other}",
                f"{owner}.routes.append({self.route()})"]))
        elif kind < 19:
            self.function(scope, indent, depth=0)
        elif kind < 22:
            self.klass(scope, indent, depth=0)
        elif kind == 22:
            self.lifespan(scope, indent)
        elif kind == 23:
            self.emit(indent, f"del {n()}" if self.chance(0.7) else f"del {n()}, {n()}")
        elif kind == 24:  # a comprehension scope at module level (its variable shadows a module name)
            it = n()
            opening, closing = r.choice([("[", "]"), ("{", "}"), ("(", ")")])
            self.emit(indent, f"{n()} = {opening}{it} for {it} in {n()} if {it} is not {n()}{closing}")
        elif kind == 25:
            self.emit(indent, f"if ({n()} := {self.expr(scope)}):")
            self.module_statement(scope, indent + 1)
        elif kind == 26:
            target = n()
            self.emit(indent, f"{target} = lambda {n()}=None: {target}({n()})")
        elif kind == 27 and len(self.late) < len(LATE_GLOBALS):
            # the shape: global at module level after other statements, then bound and used
            # (each name once: a second ``global`` after the binding would be a SyntaxError)
            late = r.choice([x for x in LATE_GLOBALS if x not in self.late])
            self.late.add(late)
            self.emit(indent, f"global {late}\n{late} = {r.choice(['0', n()])}\n{late}.bit_length()")
        elif kind == 28:
            self.emit(indent, "if __name__ == \"__main__\":")
            self.emit(indent + 1, f"uvicorn.run({n()})")
        else:
            self.emit(indent, "try:")
            self.module_statement(scope, indent + 1)
            self.emit(indent, f"except Exception as {n()}:")
            self.emit(indent + 1, f"{n()} = {n()}")

    def decorators(self, indent: int, in_class: bool) -> None:
        r, n = self.rnd, self.name
        for _ in range(r.choice([0, 0, 1, 1, 2])):
            self.emit(indent, "@" + r.choice([
                n(), f"{n()}({n()})", f"{n()}.get({r.choice(PATHS)})", f"{n()}.post({r.choice(PATHS)})",
                f"{n()}.route({r.choice(PATHS)})", f"{n()}.middleware(\"http\")", f"{n()}.exception_handler(500)",
                f"{n()}.on_event(\"startup\")", f"functools.wraps({n()})", "asynccontextmanager",
                f"{n()}.websocket({r.choice(PATHS)})", "staticmethod" if in_class else "functools.lru_cache"]))

    def params(self, in_class: bool) -> list[str]:
        r = self.rnd
        names = r.sample(self.names, r.randint(0, min(3, len(self.names))))
        if in_class:
            names = ["self"] + [p for p in names if p != "self"]
        return names

    def function(self, parent: _Scope, indent: int, depth: int, name: Optional[str] = None,
                 is_async: Optional[bool] = None, params: Optional[list[str]] = None) -> None:
        r, n = self.rnd, self.name
        in_class = parent.kind == "class"
        name = name or n()
        is_async = r.random() < 0.6 if is_async is None else is_async
        params = self.params(in_class) if params is None else params
        self.decorators(indent, in_class)
        shown = []
        for i, p in enumerate(params):
            if p == "request" and self.chance(0.5):
                shown.append("request: Request")
            elif i == len(params) - 1 and p != "self" and self.chance(0.3):
                shown.append(f"{p}=Depends({n()})" if self.chance(0.5) else f"{p}={n()}")
            else:
                shown.append(p)
        self.emit(indent, f"{'async ' if is_async else ''}def {name}({', '.join(shown)}):")
        parent.bind(name)
        scope = _Scope("function", parent, is_async, frozenset(params))
        body = indent + 1
        # global and nonlocal first: a name used or bound before its declaration is a SyntaxError
        free = [x for x in self.names if x not in params]
        for g in r.sample(free, min(len(free), r.choice([0, 0, 1, 2]))):
            scope.globals.add(g)
        if scope.globals:
            self.emit(body, f"global {', '.join(sorted(scope.globals))}")
        outer = scope.function_above()
        if outer is not None:
            candidates = sorted(outer.bound - outer.globals - set(params) - scope.globals)
            for v in r.sample(candidates, min(len(candidates), r.choice([0, 1, 1, 2]))):
                scope.nonlocals.add(v)
                scope.bound.add(v)
            if scope.nonlocals:
                self.emit(body, f"nonlocal {', '.join(sorted(scope.nonlocals))}")
        for _ in range(r.randint(1, 4)):
            self.body_statement(scope, body, depth)
        if self.chance(0.7):
            if is_async and scope.generator:
                self.emit(body, "return")
            else:
                self.emit(body, f"return {self.expr(scope, can_await=is_async)}")

    def body_statement(self, scope: _Scope, indent: int, depth: int) -> None:
        r, n = self.rnd, self.name
        self.budget -= 1
        kind = r.randrange(26) if self.budget > 0 and depth < 3 else r.randrange(12)
        aw = scope.is_async
        if kind < 3:
            target = n()
            self.emit(indent, r.choice([f"{target} = {self.expr(scope, can_await=aw)}", f"{target} = {target}",
                                        f"{target} = {n()} = {target}"]))
            scope.bind(target)
        elif kind < 5:
            self.emit(indent, f"{n()}({self.expr(scope, can_await=aw)})")
        elif kind == 5:
            self.emit(indent, r.choice(["time.sleep(1)", "requests.get(\"https://example.com\")",
                                        "open(\"data.txt\").read()", f"{n()}.session[\"cart\"].append({n()})"]))
        elif kind == 6:
            self.emit(indent, f"await {n()}({n()})" if aw else f"{n()}({n()}, {n()})")
        elif kind == 7:
            target = n()
            self.emit(indent, f"del {target}")
            scope.bind(target)
        elif kind == 8:
            target, it = n(), n()
            self.emit(indent, f"{target} = [{it} for {it} in {n()} if {it}]")
            scope.bind(target)
        elif kind == 9:
            target, p = n(), n()
            self.emit(indent, f"{target} = lambda {p}: {n()}({p})")
            scope.bind(target)
        elif kind == 10:
            self.emit(indent, f"{n()}.{n()} = {n()}")
        elif kind == 11:
            self.emit(indent, "yield" if self.chance(0.5) else f"yield {n()}")
            scope.generator = True
        elif kind == 12:
            target = n()
            self.emit(indent, f"if ({target} := {self.expr(scope, can_await=aw)}):")
            scope.bind(target)
            self.body_statement(scope, indent + 1, depth + 1)
        elif kind == 13:
            target = n()
            head = r.choice(["async with", "with"]) if aw else "with"
            self.emit(indent, f"{head} {n()}({n()}) as {target}:")
            scope.bind(target)
            self.body_statement(scope, indent + 1, depth + 1)
        elif kind == 14:
            target = n()
            head = r.choice(["async for", "for"]) if aw else "for"
            self.emit(indent, f"{head} {target} in {n()}:")
            scope.bind(target)
            self.body_statement(scope, indent + 1, depth + 1)
        elif kind == 15:
            target = n()
            self.emit(indent, "try:")
            self.body_statement(scope, indent + 1, depth + 1)
            self.emit(indent, f"except Exception as {target}:")
            scope.bind(target)
            self.emit(indent + 1, f"raise {n()}")
        elif kind < 20:  # nested function: recursion, nonlocal chains, closures
            self.function(scope, indent, depth + 1)
        elif kind < 22:
            self.klass(scope, indent, depth + 1)
        elif kind == 22:  # mutual recursion between two nested helpers
            first, second = n(), n()
            self.emit(indent, f"def {first}({n()}=None):\n    return {second}({first})")
            self.emit(indent, f"def {second}({n()}=None):\n    return {first}({second})")
            scope.bind(first)
            scope.bind(second)
        elif kind == 23:
            self.emit(indent, f"while {n()}:")
            self.body_statement(scope, indent + 1, depth + 1)
            self.emit(indent + 1, "break")
        elif kind == 24:
            self.emit(indent, f"{n()}.add_middleware({n()})" if self.chance(0.5)
                      else f"{n()}.include_router({n()})")
        else:
            self.emit(indent, f"assert {n()}, {n()}")

    def klass(self, parent: _Scope, indent: int, depth: int) -> None:
        r, n = self.rnd, self.name
        name = n()
        if self.chance(0.4):  # the base is the class itself, through an alias written first
            alias = n()
            self.emit(indent, f"{alias} = {name}")
            parent.bind(alias)
        bases = [r.choice([n(), n(), r.choice(KNOWN_BASES)]) for _ in range(r.randint(0, 2))]
        self.decorators(indent, False)
        self.emit(indent, f"class {name}({', '.join(bases)}):")
        parent.bind(name)
        scope = _Scope("class", parent)
        body = indent + 1
        if self.chance(0.15):
            g = n()
            scope.globals.add(g)
            self.emit(body, f"global {g}")
        wrote = False
        for _ in range(r.randint(0, 3)):
            kind = r.randrange(6)
            wrote = True
            if kind == 0:
                self.function(scope, body, depth + 1, name="dispatch", is_async=self.chance(0.8),
                              params=["self", "request", "call_next"])
            elif kind == 1:
                self.function(scope, body, depth + 1, name="__call__", is_async=True,
                              params=["self", "scope", "receive", "send"])
            elif kind == 2:
                self.function(scope, body, depth + 1, name=r.choice(["get", "post", "__init__"]),
                              params=["self"] + ([n()] if self.chance(0.7) else []))
            elif kind == 3:
                target = n()
                self.emit(body, f"{target} = {n()}")
                scope.bind(target)
            elif kind == 4:
                target, it = n(), n()
                self.emit(body, f"{target} = [{it} for {it} in {n()}]")
            else:
                self.function(scope, body, depth + 1)
        if not wrote:
            self.emit(body, "pass")

    def lifespan(self, parent: _Scope, indent: int) -> None:
        r, n = self.rnd, self.name
        name, other = n(), n()
        self.emit(indent, r.choice(["@asynccontextmanager", "@contextlib.asynccontextmanager", f"@{n()}"]))
        self.emit(indent, f"async def {name}({n()}):")
        parent.bind(name)
        self.emit(indent + 1, r.choice([f"async with {other}({name}) as {n()}:\n    yield {n()}",
                                        f"async with {name}({other}):\n    yield",
                                        f"async for {n()} in {name}({other}):\n    yield",
                                        f"yield {{{n()!r}: {other}}}"]))


def program(rnd: random.Random, size: int = 1) -> str:
    """One valid module (it compiles; asserted): ``size`` times 4 to 12 module-level pieces."""
    w = _Writer(rnd, 24 * size)
    top: list[str] = []
    early = rnd.sample(w.names, rnd.choice([0, 1, 2]))
    if early:  # module-level global before anything is bound: legal, a no-op
        top.append(f"global {', '.join(early)}")
    top.append(HEADER.rstrip("\n"))
    for extra in rnd.sample(EXTRA_IMPORTS, rnd.choice([0, 1, 2, 3])):
        top.append(extra)
    module = _Scope("module", None)
    for _ in range(rnd.randint(4, 12) * size):
        w.module_statement(module, 0)
    source = "\n".join(top + w.lines) + "\n"
    compile(source, "gen.py", "exec", dont_inherit=True)  # a SyntaxError here is a bug of this generator
    return source


def programs(count: int, seed: int = 0) -> list[str]:
    """A fixed batch: the same ``count`` programs for the same seed."""
    rnd = random.Random(seed)
    return [program(rnd) for _ in range(count)]


@st.composite
def scope_programs(draw, size: int = 1) -> str:
    """:func:`program` as a hypothesis strategy (its random choices are drawn, so failures shrink)."""
    return program(draw(st.randoms(use_true_random=False)), size)
