"""The application: routers of other modules included with prefixes, in a factory."""
from fastapi import FastAPI

from . import accounts
from .api import router as speech


def create_app() -> FastAPI:
    app = FastAPI()
    app.include_router(accounts.router, prefix="/accounts")
    app.include_router(speech, prefix="/v1")
    return app
