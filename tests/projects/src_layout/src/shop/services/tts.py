import requests

from ...outside import nothing  # beyond the top-level package: ImportError at run time


def speak(text):
    return requests.post("https://tts.example", json={"text": text}, stream=True).content


async def speak_later(text):
    return await run_in_threadpool(speak, text)  # noqa: F821
