"""The case event feed: one row per status change or delivered posting, and its callback rows.

Events are appended in the transaction that made the change, so a committed change always has
its event and a rolled-back one never does. Each event whose case has a callback target also
gets exactly one `webhook` outbox row in that transaction, keyed by the event and the target.
On PostgreSQL appends are serialised by a transaction-scoped advisory lock, so event ids
become visible in the order they were taken and a reader resuming after id N never skips one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import InvalidInput, NotFound
from core.models import canonical_digest
from core.results import CaseStatus
from core.store import identity
from core.store import outbox as outbox_store
from core.store.db import as_utc, utcnow
from core.store.tables import case_events, cases

EventType = Literal[
    "case.triaged",
    "case.pending_approval",
    "case.routed",
    "case.expired",
    "case.executing",
    "case.posted",
    "case.resolved",
    "case.rejected",
    "case.failed",
]
_APPEND_LOCK = 0x7472675F65767473  # any constant shared by every appender ("trg_evts")
_INSERT = insert(case_events).returning(case_events.c.event_id)
_OWNER = select(cases.c.submitted_by, cases.c.callback_url).where(
    cases.c.case_id == bindparam("case_id")
)
_STATUS_AND_RESULT = select(cases.c.status, cases.c.result).where(
    cases.c.case_id == bindparam("case_id")
)


class CaseEvent(BaseModel):
    """One event of the feed: what happened to which case, in order."""

    event_id: int
    case_id: str
    type: str
    submitted_by: str
    payload: dict[str, Any]
    created_at: datetime


def status_event(current: CaseStatus, to: CaseStatus) -> EventType:
    """Names the event of a status change: leaving triage to run actions is `case.triaged`."""
    if to is CaseStatus.executing and current is CaseStatus.triaging:
        return "case.triaged"
    return {
        CaseStatus.pending_approval: "case.pending_approval",
        CaseStatus.routed: "case.routed",
        CaseStatus.executing: "case.executing",
        CaseStatus.resolved: "case.resolved",
        CaseStatus.rejected: "case.rejected",
        CaseStatus.failed: "case.failed",
    }[to]  # type: ignore[return-value]


def _facts(status: str, result: dict[str, Any] | None) -> dict[str, Any]:
    classification = (result or {}).get("classification") or {}
    return {
        "status": status,
        "cause": classification.get("cause"),
        "executed": list((result or {}).get("executed", [])),
    }


async def status_changed(
    conn: AsyncConnection,
    case_id: str,
    current: CaseStatus,
    to: CaseStatus,
    result: dict[str, Any] | None,
    *,
    event: EventType | None = None,
) -> int:
    """Appends the event of a status change (named by `event` when the cause is known)."""
    payload = {"case_id": case_id, **_facts(to.value, result), "previous_status": current.value}
    return await append(conn, case_id, event or status_event(current, to), payload)


async def posted(conn: AsyncConnection, case_id: str, action: str, reference: str) -> int:
    """Appends `case.posted` for an ERP posting delivered in the caller's transaction."""
    row = (await conn.execute(_STATUS_AND_RESULT, {"case_id": case_id})).first()
    if row is None:
        raise NotFound(f"case {case_id} not found")
    payload = {"case_id": case_id, **_facts(row[0], row[1]), "action": action}
    return await append(conn, case_id, "case.posted", {**payload, "reference": reference})


async def append(
    conn: AsyncConnection, case_id: str, type_: EventType, payload: dict[str, Any]
) -> int:
    """Appends one event and queues its callback, in the caller's transaction; returns its id."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _APPEND_LOCK})
    owner = (await conn.execute(_OWNER, {"case_id": case_id})).first()
    if owner is None:
        raise NotFound(f"case {case_id} not found")
    submitted_by, case_url = owner
    values = {"case_id": case_id, "type": type_, "submitted_by": submitted_by, "payload": payload}
    event_id = int((await conn.execute(_INSERT, {**values, "created_at": utcnow()})).scalar_one())
    target = await identity.callback_of(conn, submitted_by)
    url = case_url or (target.url if target else None)
    if target is not None and target.sealed_secret and url:
        await outbox_store.enqueue(
            conn,
            kind="webhook",
            case_id=case_id,
            action=type_,
            idempotency_key="webhook-" + canonical_digest([event_id, url])[:48],
            payload={"event_id": event_id, "url": url, "key_name": target.key_name},
        )
    return event_id


def _event(row: Any) -> CaseEvent:
    return CaseEvent.model_validate({**row, "created_at": as_utc(row["created_at"])})


async def get(conn: AsyncConnection, event_id: int) -> CaseEvent:
    """Returns one event or raises NotFound."""
    row = (
        (await conn.execute(select(case_events).where(case_events.c.event_id == event_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"event {event_id} not found")
    return _event(row)


def parse_cursor(cursor: str | None) -> int:
    """Returns the event id a feed cursor stands for (0 before the first event)."""
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidInput("cursor is not one this service issued", field="after")
    return int(cursor)


async def after(
    conn: AsyncConnection, cursor: int, limit: int, submitted_by: str | None = None
) -> list[CaseEvent]:
    """Returns up to `limit` events after the cursor in order, optionally of one submitter."""
    query = select(case_events).where(case_events.c.event_id > cursor)
    if submitted_by is not None:
        query = query.where(case_events.c.submitted_by == submitted_by)
    query = query.order_by(case_events.c.event_id).limit(limit)
    return [_event(row) for row in (await conn.execute(query)).mappings()]
