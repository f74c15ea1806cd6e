import time as clock

from fastapi import HTTPException
from shop import AuditedRouter
from starlette.concurrency import run_in_threadpool

from . import cycle_a
from .services import notify
from .services.tts import speak, speak_if_asked, speak_later

router = AuditedRouter(prefix="/speech")


@router.on_event("startup")  # error: STL202
async def warm():
    await cycle_a.ping()


@router.post("/say")
async def say(text: str):
    if not text:
        raise HTTPException(422)
    clock.sleep(0.1)  # error: STL101
    return speak(text)  # error: STL107


@router.post("/announce")
async def announce(text: str):
    notify.announce(text)  # error: STL107
    return {"ok": True}


@router.post("/later")
async def later(text: str):
    return await speak_later(text)  # ok: STL107 - an async helper, awaited


@router.post("/threaded")
async def threaded(text: str):
    return await run_in_threadpool(speak, text)  # ok: STL107 - the fix


@router.post("/maybe")
async def maybe(text: str):
    return speak_if_asked(text)  # ok: STL107 - it blocks only under an if


@router.post("/sometimes")
async def sometimes(text: str, loud: bool = False):
    if loud:
        return speak(text)  # ok: STL107 - called only on a condition
    return {"ok": True}


def sync_say(text: str):
    return speak(text)  # ok: STL107 - a plain def runs in the threadpool
