"""A folder without __init__.py inside the shop package: still part of it (a namespace package)."""
from fastapi import APIRouter

from shop.services import extra

router = APIRouter()


@router.get("/items/nap")
async def nap():
    extra.nap()  # error: STL107
