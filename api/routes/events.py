"""The event feed: every status change and delivered posting of the caller's cases, in order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.access import CaseReader, owner_filter
from api.auth import runtime_of
from core.store import events
from core.store.events import CaseEvent

router = APIRouter(prefix="/v1/events", tags=["events"])


class EventFeed(BaseModel):
    """Events after the cursor, oldest first, and the cursor to resume from (never null)."""

    items: list[CaseEvent]
    next_cursor: str


@router.get("", response_model=EventFeed)
async def list_events(
    request: Request,
    caller: CaseReader,
    after: Annotated[str | None, Query(description="The `next_cursor` of the last call.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventFeed:
    """Returns the events after `after` in order; an empty page means the caller is caught up."""
    cursor = events.parse_cursor(after)
    async with runtime_of(request).db.transaction() as conn:
        found = await events.after(conn, cursor, limit, owner_filter(caller))
    # The cursor is the last event id returned: the same call with it resumes exactly there.
    return EventFeed(items=found, next_cursor=str(found[-1].event_id if found else cursor))
