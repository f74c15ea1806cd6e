import time as clock

from fastapi import HTTPException
from shop import AuditedRouter
from starlette.concurrency import run_in_threadpool

from . import cycle_a
from .services import extra, notify
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


@router.post("/nap")
async def nap():
    extra.nap()  # error: STL107


@router.post("/no-nap")
async def no_nap():
    extra.no_nap()  # ok: STL107 - time.sleep(0) does not block


@router.post("/factory")
async def factory():
    return extra.job_factory()  # ok: STL107 - the blocking call is in a nested function


@router.post("/shadow")
async def shadow():
    return extra.shadowed(None)  # ok: STL107 - a parameter named like a module


@router.post("/lazy")
async def lazy():
    return extra.lazy_urls(["u"])  # ok: STL107 - a generator expression, never consumed here


@router.post("/polled")
async def polled():
    return extra.polled(lambda: True)  # ok: STL107 - the sleep is in a while loop that may not run
