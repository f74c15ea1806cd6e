from . import cycle_b
from .cycle_b import Pong as Ping


async def ping():
    return cycle_b.pong()
