"""CORS added by a setup function, then a middleware that answers itself: CORS is not outermost."""
from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .errors import install_cors

app = FastAPI()
install_cors(app)  # error: STL304
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])


@app.get("/")
async def home():
    return {}
