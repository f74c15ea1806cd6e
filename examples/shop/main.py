"""The shop's API."""
import time

import requests
from fastapi import FastAPI, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .db import SessionLocal
from .errors import register_handlers
from .mail import send_confirmation

app = FastAPI(on_startup=[lambda: print("starting")])  # dropped silently once lifespan= is set (STL201)
register_handlers(app)
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)  # wildcard with credentials
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["shop.example.com"])  # its 400s carry no CORS headers


@app.get("/products/{product_id}")
async def get_product(product_id: int):
    db = SessionLocal()
    product = db.execute("SELECT * FROM products WHERE id = :id", {"id": product_id})  # sync DB on the loop
    time.sleep(0.1)  # blocks the event loop
    return {"product": product}


@app.post("/orders")
async def create_order(request: Request):
    order = request.json()  # a coroutine, never awaited
    rates = requests.get("https://rates.example.com/eur")  # blocking HTTP call, no timeout
    send_confirmation(order["email"], 1)  # blocks the loop in another module (smtplib)
    return {"order": order, "rates": rates.json()}
