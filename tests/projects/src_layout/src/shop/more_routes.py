"""Routes on a router another module built, in a module that imports no web framework."""
from .accounts import router
from .services import extra


@router.get("/more")
async def more():
    extra.nap()  # error: STL107


def plain():
    extra.nap()  # ok: STL107 - not a route, not async
