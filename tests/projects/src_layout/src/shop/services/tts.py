import requests
from starlette.concurrency import run_in_threadpool

from ...outside import nothing  # noqa: F401 - beyond the top-level package: ImportError at run time


def speak(text):
    return requests.post("https://tts.example", json={"text": text}, stream=True).content


def speak_if_asked(text, asked=False):
    if asked:
        return speak(text)
    return None


async def speak_later(text):
    return await run_in_threadpool(speak, text)
