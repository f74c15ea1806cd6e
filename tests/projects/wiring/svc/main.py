"""register_handlers() gives the app a JSON error format of its own, and nothing answers a crash."""
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from .errors import install_guard, install_timing, register_handlers

app = FastAPI()  # error: STL401, STL402
app.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])  # error: STL304
install_timing(app)  # builds no response: may wrap CORS
install_guard(app)  # answers itself (a redirect): wraps CORS
register_handlers(app)


@app.get("/items")
async def items():
    return {"items": []}
