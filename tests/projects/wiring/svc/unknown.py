"""An app handed to a setup function that hands it on to a library is not judged."""
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from .errors import AppError, instrument
from .settings import DEBUG


async def on_error(request, exc):
    return JSONResponse({"error": str(exc)}, status_code=400)


app = FastAPI(exception_handlers={AppError: on_error})  # ok: STL401, STL402
instrument(app)


@app.get("/items")
async def items():
    return {"items": []}


other = FastAPI()  # ok: STL402 - the JSON format is registered only in debug
if DEBUG:
    from .errors import register_handlers

    register_handlers(other)


@other.get("/items")
async def other_items():
    return {"items": []}
