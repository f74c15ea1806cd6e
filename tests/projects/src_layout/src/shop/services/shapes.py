"""Shapes where following calls naively would be wrong (each has its endpoint in shop/shapes_api.py)."""
import os
import sys
from dataclasses import dataclass

import requests


class Base:
    def handle(self):
        return self.load()

    def load(self):
        return requests.get("https://origin.example")


class Cached(Base):
    def load(self):  # overrides the blocking load: Cached().handle() does not block
        return {"cached": True}


class Configurable:
    def __init__(self):
        self.config = open("/etc/shop.toml").read()


@dataclass
class Point(Configurable):  # the generated __init__ never calls Configurable.__init__
    x: int
    y: int


class Left:
    def ping(self):
        return None


class Right:
    def ping(self):
        return requests.get("https://right.example")


class Both(Left, Right):  # Python looks in Left first: Both().ping() does not block
    pass


if sys.version_info >= (3, 9):
    def helper():
        return 1
else:
    def helper():  # never the one that runs here: the name is ambiguous, so it is not followed
        return requests.get("https://old.example")


def fetch_all(urls):
    return [requests.get(u) for u in urls]


def fetch_existing(paths):
    return [requests.get(p) for p in paths if os.path.exists(p)]  # only for files that exist


def load():
    return requests.get("https://repo.example")


async def service():
    """An async service calling a sync repository function that blocks."""
    return load()
