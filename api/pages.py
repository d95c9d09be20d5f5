"""One page of a listing and the cursor of the next, in the shape /v1/cases answers with."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Cursor = Annotated[
    str | None, Query(description="The `next_cursor` of the previous page; none for the first.")
]


class Page(BaseModel, Generic[T]):
    """One page of items and the cursor of the next (null on the last page)."""

    items: list[T]
    next_cursor: str | None
