"""Annotations the path operations of ``shop.types_api`` import."""
from typing import Annotated

from fastapi import Depends, Path
from pydantic import BaseModel


def get_session(session_id: int):
    return session_id


ItemId = Annotated[int, Path(gt=0)]
SessionDep = Annotated[int, Depends(get_session)]
WrappedId = SessionDep


class OrderRecord(BaseModel):
    total: int
