"""Setup functions that take the app: exception handlers and middleware registered on it."""
from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.middleware.cors import CORSMiddleware

from .settings import ORIGINS, metrics


class AppError(Exception):
    pass


class Missing(HTTPException):
    pass


async def on_app_error(request: Request, exc: AppError):
    return JSONResponse({"error": str(exc), "code": "app"}, status_code=400)


def register_handlers(app):
    """A JSON error format of its own, for AppError only."""
    app.add_exception_handler(AppError, on_app_error)


def register_all(app):
    register_handlers(app)

    @app.exception_handler(Missing)
    async def missing(request, exc):
        return JSONResponse({"error": exc.detail, "code": "missing"}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def crashed(request, exc):
        return JSONResponse({"error": "internal", "code": "crash"}, status_code=500)


def instrument(app):
    """Hands the app to a library: what it registers is out of sight."""
    metrics.instrument(app)


def install_guard(app):
    @app.middleware("http")
    async def guard(request: Request, call_next):
        if request.client is None:
            return RedirectResponse("/login")
        return await call_next(request)


def install_timing(app):
    @app.middleware("http")
    async def timing(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Time"] = "1"
        return response


def install_cors(app):
    app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
