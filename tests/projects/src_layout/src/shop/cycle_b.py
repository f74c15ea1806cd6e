from .cycle_a import Ping as Pong
from . import cycle_a


def pong():
    return cycle_a
