"""Started as ``uvicorn app.main:app``: ``app`` and ``app.services`` are namespace packages (no __init__.py)."""
from fastapi import FastAPI

from app.services.tts import speak

app = FastAPI()


@app.post("/say")
async def say(text: str):
    return speak(text)  # error: STL107
