"""STL2xx: lifespan and startup/shutdown hooks."""

from __future__ import annotations

from typing import Iterator

from ..finding import Report
from ..framework import App
from ..model import Model
from .base import Rule


def _app_label(app: App) -> str:
    cls = {"starlette": "Starlette", "fastapi": "FastAPI", "router": "Router", "apirouter": "APIRouter"}[app.kind]
    return f"{cls}()" if app.name is None else f"{app.name} = {cls}()"


class OnStartupKwarg(Rule):
    """
    ## What it does
    Reports `on_startup=` and `on_shutdown=` passed to `Starlette()`,
    `Router()`, `FastAPI()` or `APIRouter()`.

    ## Why is this bad?
    Starlette 1.0 removed both parameters: `Starlette(on_startup=[...])` raises
    `TypeError: Starlette.__init__() got an unexpected keyword argument
    'on_startup'` when the module is imported. FastAPI still accepts them but
    they are deprecated, and they are silently ignored as soon as the app also
    gets a `lifespan=`.

    ## Example
    ```python
    app = Starlette(routes=routes, on_startup=[connect_db], on_shutdown=[close_db])
    ```

    ## Use instead
    ```python
    @contextlib.asynccontextmanager
    async def lifespan(app):
        await connect_db()
        try:
            yield
        finally:
            await close_db()

    app = Starlette(routes=routes, lifespan=lifespan)
    ```
    """

    code = "STL201"
    name = "startup-shutdown-kwarg"
    summary = "`on_startup=`/`on_shutdown=` passed to an app or router (removed in Starlette 1.0)"

    def check(self, model: Model) -> Iterator[Report]:
        for app in model.framework.apps:
            for kw in ("on_startup", "on_shutdown"):
                arg = app.kwarg(kw)
                if arg is None:
                    continue
                if app.is_fastapi:
                    why = "deprecated in FastAPI and ignored once the app has a lifespan="
                else:
                    why = "removed in Starlette 1.0 (TypeError at import)"
                yield self.report(
                    arg,
                    f"{kw}= on {_app_label(app)} is {why}; move the handlers into an "
                    f"@asynccontextmanager lifespan and pass lifespan=",
                )
