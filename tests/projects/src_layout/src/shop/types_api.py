"""STL610 through annotations imported from another module of the project (project mode)."""
from fastapi import FastAPI

from .services.types import ItemId, OrderRecord, SessionDep, WrappedId

router = FastAPI()  # an application: nothing between its routes and the app may take path values


@router.get("/items/{item_id}")  # error: STL610
async def plain_alias(item: ItemId):
    return {"item": item}


@router.get("/orders/{order_id}")  # error: STL610
async def project_class(order: OrderRecord):
    return {}


@router.get("/sessions/{session_id}")  # ok: STL610
async def alias_with_a_dependency(db: SessionDep):
    return {}


@router.get("/wrapped/{wrapped_id}")  # ok: STL610
async def alias_of_an_alias(value: WrappedId):
    return {}
