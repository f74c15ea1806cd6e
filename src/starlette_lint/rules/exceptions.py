"""STL4xx: exception handlers.

The shared analysis (registrations, registration keys, what an app serves and
its error contract) lives in :mod:`..analysis.error_contract`.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ..analysis.error_contract import (
    BASE_EXC,
    HANDLER_METHODS,
    HTTP_EXCEPTIONS,
    JSON,
    NOT_EXC,
    OPAQUE,
    STATUS,
    AppView,
    classify_key,
    registrations,
    views,
)
from ..analysis.lifecycle import late_app_calls, late_contexts, late_setup_calls, listed
from ..finding import Report
from ..framework import Framework
from ..model import Model, arity_problem, argument, string_value
from .base import Rule

_JUDGED_DOC = """
    An app is judged within the body that builds it (the module, or an app
    factory), counting handlers given as `exception_handlers={...}` (a literal
    or a module constant dict), `add_exception_handler(...)` and
    `@app.exception_handler(...)`, also on the result of a same-module factory
    (`app = create_app()`). It is not judged (nothing is reported) when its
    handlers may be set where the module cannot see them:

    * the app is passed to any call (`setup(app)`, `register_handlers(app)`,
      `init_app(app)`, `Instrumentator().instrument(app)`), except calls that
      only serve or wrap it (`uvicorn.run`, `TestClient`, `Mount`, `Host`,
      `httpx.ASGITransport`, Starlette middleware classes, `Mangum`). In
      project mode (the default) a function of the project that the app is
      handed to is read instead: the handlers and middleware it registers,
      also through the project functions it hands the app on to, are the
      app's, and the app is judged. It stays unjudged when that function
      hands the app to anything else, touches `exception_handlers`, or
      registers inside a nested function, and when the call is not in the
      body that builds the app. A handler registered under a condition, or
      after an early `return`, counts as a handler but not as evidence of an
      error contract (`register_debug_handler(app)` that returns early in
      production);
    * `exception_handlers=` is not a readable dict (a function call, settings,
      a `**` splat, a module dict that is later mutated), the constructor gets
      `*args`/`**kwargs`, or a key is an unreadable value;
    * an object's `.exception_handlers` is read or changed in the module
      (importing `fastapi.exception_handlers` is not that);
    * the app's variable is bound more than once, the app class is a subclass
      defined in the module, the app is built in a lambda (a factory handed to
      someone else) or a class body, or in a pytest test, fixture or test
      module.

    Nor is an app that serves nothing of its own: no routes in the module (a
    stub, or configured elsewhere), or only mounted apps (`Mount(path,
    app=...)`, also `fastapi.routing.Mount`, `app.mount(...)`, `Host`),
    `StaticFiles`, websocket routes and redirect routes (an endpoint that only
    returns `RedirectResponse`). A mounted Starlette or FastAPI app answers its
    own errors with its own handlers, so each is judged on its own; the routes
    of a mounted `Router`, of `Mount(path, routes=[...])` and of included
    routers are the app's own.
"""

_CONTRACT_DOC = """
    The app must show an error contract, in the module: a custom exception
    handler (for any exception class or status) whose response is JSON or
    cannot be seen (an imported handler), or an endpoint that returns a JSON
    error body of the app's own shape (`JSONResponse({"error": ...},
    status_code=404)`: a dict literal with a literal 4xx/5xx status, whose keys
    are not also those of a success body of the module, and, on FastAPI, not
    just FastAPI's default `{"detail": ...}`). Handlers that answer plain text
    or pages (`PlainTextResponse`, `HTMLResponse`, templates) make text the
    contract, and handlers that delegate to `fastapi.exception_handlers` keep
    FastAPI's default shape: neither is a JSON contract. An app without such
    evidence (a tutorial, an internal health or metrics server) is left to the
    opt-in STL406.
"""


def _fastapi_default_fits(view: AppView) -> bool:
    """On FastAPI, HTTPException already answers ``{"detail": ...}``: it fits a contract with that key."""
    keys = view.contract.keys if view.contract is not None else None
    return view.app.kind == "fastapi" and (keys is None or "detail" in keys)


class MissingHttpExceptionHandler(Rule):
    __doc__ = """
    ## What it does
    Reports a Starlette or FastAPI app that answers its errors in a format of
    its own but has no handler for `HTTPException` (Starlette's or FastAPI's)
    nor for any 4xx status. The finding points at the app's construction.
    """ + _CONTRACT_DOC + """
    On FastAPI, whose default handler answers `HTTPException` as JSON
    `{"detail": ...}`, only a contract whose JSON has no `detail` key is
    judged. A handler for a subclass of `HTTPException`, or for an imported
    exception class the module cannot see, counts as one. An app with a
    catch-all `Mount("/", app=...)` of another app (not `StaticFiles`, whose
    404 the mounting app answers) is not judged: unknown paths reach the
    mounted app, so its own 404 never fires. On FastAPI, register the handler
    for Starlette's `HTTPException`: a handler for FastAPI's subclass does not
    see the routing 404/405.
    """ + _JUDGED_DOC + """
    ## Why is this bad?
    The app answers some errors in its own format, but `raise
    HTTPException(404, ...)`, unknown paths and wrong methods still get
    Starlette's `text/plain` body (`Not Found`), or FastAPI's
    `{"detail": ...}`: clients written for the app's error format fail to
    parse them.

    ## Example
    ```python
    async def domain_error(request, exc):
        return JSONResponse({"error": str(exc)}, status_code=400)

    app = Starlette(routes=routes, exception_handlers={DomainError: domain_error})
    ```

    ## Use instead
    ```python
    async def http_error(request, exc):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app = Starlette(routes=routes, exception_handlers={DomainError: domain_error, HTTPException: http_error})
    ```
    """

    code = "STL401"
    name = "missing-http-exception-handler"
    summary = "app with its own error format but no handler for `HTTPException` or any 4xx status"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for view in views(fw):
            contract = view.contract
            if view.has_4xx or contract is None or contract.kind not in (JSON, OPAQUE) or view.served.catch_all:
                continue
            if view.app.kind == "fastapi":
                if _fastapi_default_fits(view):
                    continue
                answer, handler = '{"detail": ...}', "starlette's HTTPException"
            else:
                answer, handler = "text/plain", "HTTPException"
            yield self.report(
                view.app.call,
                f"{view.label} {contract.describe()}, but HTTPException and unknown paths answer {answer}; "
                f"add an exception handler for {handler}",
            )


class MissingServerErrorHandler(Rule):
    __doc__ = """
    ## What it does
    Reports a Starlette or FastAPI app that answers its errors in a format of
    its own but has no handler for `Exception` or for status `500`. The
    finding points at the app's construction.
    """ + _CONTRACT_DOC + """
    An app with a middleware that may turn exceptions into responses (an
    `@app.middleware("http")` function or same-module middleware class with
    `except Exception:`, a middleware class the module cannot see,
    `ServerErrorMiddleware`), or whose every endpoint catches `Exception`
    itself (a proxy), is not judged.
    """ + _JUDGED_DOC + """
    ## Why is this bad?
    An unhandled exception becomes a bare `text/plain` `Internal Server
    Error` (or, with `debug=True`, a traceback page) instead of the format the
    app answers its other errors in: clients cannot parse it and nothing tags
    the failure.

    ## Example
    ```python
    app = FastAPI()

    @app.exception_handler(DomainError)
    async def domain_error(request, exc):
        return JSONResponse({"error": str(exc)}, status_code=400)
    ```

    ## Use instead
    ```python
    @app.exception_handler(Exception)
    async def server_error(request, exc):
        return JSONResponse({"error": "internal error"}, status_code=500)
    ```
    """

    code = "STL402"
    name = "missing-server-error-handler"
    summary = "app with its own error format but no handler for `Exception` / 500"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for view in views(fw):
            contract = view.contract
            if not view.judged_for_500 or contract is None or contract.kind not in (JSON, OPAQUE):
                continue
            yield self.report(
                view.app.call,
                f"{view.label} {contract.describe()}, but an unhandled exception becomes a text/plain 500; "
                f"add an exception handler for Exception",
            )


class NoExceptionHandlers(Rule):
    __doc__ = """
    ## What it does
    (Opt-in; production readiness, with STL703.) Reports a Starlette or
    FastAPI app with no handler for `Exception` or for status `500` when STL402
    does not apply because the app shows no error contract of its own: no
    custom exception handler (handlers that only delegate to
    `fastapi.exception_handlers` do not count) and no JSON error bodies of its
    own shape. Apps whose handlers answer plain text or pages, apps with a
    middleware that may turn exceptions into responses, and apps whose every
    endpoint catches `Exception` are not reported. The finding points at the
    app's construction.
    """ + _JUDGED_DOC + """
    ## Why is this bad?
    Nothing decides what a client gets when the code fails: an unhandled
    exception becomes Starlette's bare `text/plain` `Internal Server Error`,
    and FastAPI's JSON `{"detail": ...}` errors stop at the first bug. Fine for
    a tutorial or an internal server; a public API usually wants one error
    format (and one place to log failures).

    ## Example
    ```python
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        return await load(item_id)
    ```

    ## Use instead
    ```python
    async def server_error(request, exc):
        return JSONResponse({"detail": "internal error"}, status_code=500)

    app = FastAPI(exception_handlers={Exception: server_error})
    ```
    """

    code = "STL406"
    name = "no-exception-handlers"
    summary = "(opt-in) app without a handler for `Exception` / 500 and no error format of its own"
    opt_in = True

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for view in views(fw):
            if not view.judged_for_500 or view.contract is not None:
                continue
            yield self.report(
                view.app.call,
                f"{view.label} registers no exception handler for Exception or 500, so an unhandled exception "
                f"becomes a bare text/plain 500; add one to decide what clients get",
            )


# ------------------------------------------------------------------ STL403
class HandlerSignature(Rule):
    """
    ## What it does
    Reports an exception handler that cannot be called with exactly two
    positional arguments `(request, exc)`: too few or too many required
    parameters, or a required keyword-only parameter. Handlers named in
    `exception_handlers={...}`, `add_exception_handler(...)` and FastAPI's
    `@app.exception_handler(...)` are checked when they are functions or
    lambdas of this module; methods and otherwise decorated functions are not
    judged. Defaults and `*args` are taken into account.

    ## Why is this bad?
    Starlette calls `handler(request, exc)` only when the error happens. A
    wrong signature raises `TypeError` right then, and the error the handler
    was meant to shape becomes a bare 500.

    ## Example
    ```python
    async def not_found(request):
        return JSONResponse({"detail": "not found"}, status_code=404)

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    ```

    ## Use instead
    ```python
    async def not_found(request, exc):
        return JSONResponse({"detail": "not found"}, status_code=404)
    ```
    """

    code = "STL403"
    name = "exception-handler-signature"
    summary = "exception handler that cannot be called as `handler(request, exc)`"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        done: set[int] = set()
        for reg, scope in registrations(fw).items:
            key = model.snippet(reg.key) if reg.key is not None else "?"
            fn = reg.function
            if fn is not None:
                if id(fn.node) in done or fn.klass is not None:
                    continue
                allowed = 1 if reg.kind == "decorator" else 0
                if len(fn.decorators) != allowed:
                    continue
                problem = arity_problem(fn.node.params, 2)
                node: cst.CSTNode = fn.node
                name = fn.name
            elif isinstance(reg.handler, cst.Lambda):
                if id(reg.handler) in done:
                    continue
                problem = arity_problem(reg.handler.params, 2)
                node = reg.handler
                name = "lambda"
            else:
                continue
            if problem is None:
                continue
            done.add(id(node))
            yield self.report(
                node,
                f"exception handler {name} for {key} cannot be called as handler(request, exc): {problem}; "
                f"Starlette raises TypeError when the error happens and answers a bare 500; "
                f"take exactly (request, exc)",
            )


# ------------------------------------------------------------------ STL404
class HandlerKey(Rule):
    """
    ## What it does
    Reports an exception handler registered for something that is neither an
    exception class nor an HTTP error status: a status outside 400-599 (`200`,
    `302`, `True`), a string (`"404"`), `None`, a tuple, a function, a class of
    this module that is not an exception, or a `BaseException` that is not an
    `Exception` (`KeyboardInterrupt`). Imported names the module cannot see are
    not judged, nor is a non-error status that the module itself raises as
    `HTTPException(status)`. The finding points at the key.

    ## Why is this bad?
    Status handlers are only looked up for `HTTPException.status_code`: a
    handler for `200` is never called. Any other key that is not an
    `Exception` subclass is worse: Starlette checks `issubclass(key,
    Exception)` when it builds the middleware stack, so the first request (or
    the lifespan startup) fails with `TypeError: issubclass() arg 1 must be a
    class` or `AssertionError`, and the whole app is down.

    ## Example
    ```python
    app = Starlette(exception_handlers={"404": not_found, 200: log_ok})
    ```

    ## Use instead
    ```python
    app = Starlette(exception_handlers={404: not_found})
    ```
    """

    code = "STL404"
    name = "exception-handler-key"
    summary = "exception handler registered for something that is not an exception class or a 400-599 status"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        done: set[int] = set()
        raised: Optional[set[int]] = None
        for reg, scope in registrations(fw).items:
            expr = reg.key
            if expr is None or id(expr) in done:
                continue
            done.add(id(expr))
            k = classify_key(model, expr, scope)
            if k.kind == STATUS:
                if 400 <= (k.status or 0) <= 599:
                    continue
                if raised is None:
                    raised = _raised_statuses(model)
                if k.status in raised:
                    continue  # the module raises HTTPException(k.status): the handler can run
                yield self.report(
                    expr,
                    f"exception handler registered for status {k.status}: status handlers only run for an "
                    f"HTTPException with that status_code, and {k.status} is not an HTTP error status, so it is "
                    f"never called; register it for a status code in 400-599 or an Exception subclass",
                )
            elif k.kind in (NOT_EXC, BASE_EXC):
                if string_value(expr) is not None:
                    fix = "use the int status code"
                else:
                    fix = "register an Exception subclass or a status code in 400-599"
                yield self.report(
                    expr,
                    f"exception handler registered for {k.what}: keys must be Exception subclasses or int status "
                    f"codes, and Starlette rejects this one when it builds the middleware stack (TypeError or "
                    f"AssertionError on the first request or at startup), so the whole app fails; {fix}",
                )


def _raised_statuses(model: Model) -> set[int]:
    """Literal status codes of the ``HTTPException(...)`` objects the module builds."""
    out: set[int] = set()
    for site in model.calls_to(*HTTP_EXCEPTIONS):
        arg = argument(site.node, 0, "status_code")
        if arg is not None:
            k = classify_key(model, arg.value, site.scope)
            if k.kind == STATUS and k.status is not None:
                out.add(k.status)
    return out


# ------------------------------------------------------------------ STL405
class AddExceptionHandlerAfterStartup(Rule):
    """
    ## What it does
    Reports `app.add_exception_handler(...)` (and FastAPI's
    `@app.exception_handler(...)`) called where STL301 would report
    `add_middleware`: in an endpoint, lifespan, startup handler, middleware,
    exception handler, dependency, any other `async def`, or a plain `def`
    only those call. Module level and app factories are fine. In project
    mode, a call made there that hands the app to a project function which
    registers handlers (`register_handlers(app)` in a lifespan) is reported
    at the call, naming the handlers; registrations under a condition in
    that function are left out.

    ## Why is this bad?
    Starlette copies the handlers into its middleware stack when the stack is
    built (at the first ASGI call). Registering later changes a dict nobody
    reads any more: no error, the handler is silently never called.

    ## Example
    ```python
    @asynccontextmanager
    async def lifespan(app):
        app.add_exception_handler(DatabaseError, db_error)
        yield
    ```

    ## Use instead
    ```python
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={DatabaseError: db_error})
    ```
    """

    code = "STL405"
    name = "add-exception-handler-after-startup"
    summary = "`add_exception_handler()` called after the app has started (silently ignored)"

    def check(self, model: Model, fw: Framework) -> Iterator[Report]:
        for site, recv, fn, method in late_app_calls(fw, HANDLER_METHODS):
            ctx = late_contexts(fw).describe(fn)
            key = argument(site.node, 0, "exc_class_or_status_code")
            label = model.snippet(key.value) if key is not None else "..."
            if method == "exception_handler":
                if site.decorates is None or recv.fastapi is not True:
                    continue
                yield self.report(
                    site.node,
                    f"@{recv.label}.exception_handler({label}) inside {ctx} registers the handler after the "
                    f"application has started: it is silently never called; register it at module level, where "
                    f"the app is built",
                )
                continue
            yield self.report(
                site.node,
                f"{recv.label}.add_exception_handler({label}) in {ctx} runs after the application has started: "
                f"the handler is silently never called; register it where the app is built "
                f"(exception_handlers={{{label}: ...}})",
            )
        for site, call, ctx, setup in late_setup_calls(fw):
            shown = listed([h.label for h in setup.handlers if not h.conditional])
            if shown:
                yield self.report(
                    site.node,
                    f"{call} in {ctx} registers exception handlers (for {shown}, in {setup.label}) after the "
                    f"application has started: they are silently never called; call it where the app is built",
                )
