"""Setup functions called after the app has started."""
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .errors import install_guard, register_handlers


@asynccontextmanager
async def lifespan(app: FastAPI):
    register_handlers(app)  # error: STL405
    install_guard(app)  # error: STL301
    yield


app = FastAPI(lifespan=lifespan)
