import time as clock

from fastapi import HTTPException
from shop import AuditedRouter

from . import cycle_a
from .services.tts import speak

router = AuditedRouter(prefix="/speech")


@router.on_event("startup")
async def warm():
    await cycle_a.ping()


@router.post("/say")
async def say(text: str):
    if not text:
        raise HTTPException(422)
    clock.sleep(0.1)
    return speak(text)
