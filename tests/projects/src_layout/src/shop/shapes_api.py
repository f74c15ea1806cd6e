from fastapi import APIRouter

from .services import shapes

router = APIRouter()


@router.get("/cached")
async def cached():
    return shapes.Cached().handle()  # ok: STL107 - Cached overrides load


@router.get("/base")
async def base():
    return shapes.Base().handle()  # error: STL107


@router.get("/point")
async def point():
    return shapes.Point(1, 2)  # ok: STL107 - a dataclass writes its own __init__


@router.get("/both")
async def both():
    return shapes.Both().ping()  # ok: STL107 - Left.ping comes first


@router.get("/helper")
async def helper():
    return shapes.helper()  # ok: STL107 - defined in two branches: unknown


@router.get("/all")
async def fetch_all():
    return shapes.fetch_all(["u"])  # error: STL107


@router.get("/existing")
async def fetch_existing():
    return shapes.fetch_existing(["p"])  # ok: STL107 - only for the elements the filter lets through


@router.get("/service")
async def service():
    return await shapes.service()  # error: STL107
