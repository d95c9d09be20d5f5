"""The outbox: rows committed with the state change they belong to, delivered later with retries."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import NotFound
from core.store.db import as_utc, utcnow
from core.store.paging import id_page
from core.store.tables import outbox

OutboxKind = Literal["erp", "action", "slack", "resume", "webhook"]

# Workers on PostgreSQL LISTEN here. PostgreSQL delivers a notification when its transaction
# commits (never on rollback) and folds a transaction's identical ones into one.
CHANNEL = "triage_outbox"

# The hot statements are built once; values travel as parameters.
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")
_KEY_EXISTS = select(outbox.c.outbox_id).where(outbox.c.idempotency_key == bindparam("key"))
_INSERT = insert(outbox)
_OF_CASE = (
    select(outbox).where(outbox.c.case_id == bindparam("case_id")).order_by(outbox.c.outbox_id)
)


class OutboxStatus(StrEnum):
    """Where an outbox row is in its delivery."""

    pending = "pending"
    delivered = "delivered"
    dead = "dead"


class OutboxRow(BaseModel):
    """One message waiting for (or done with) delivery."""

    outbox_id: int
    kind: str
    case_id: str
    action: str
    idempotency_key: str
    approval_id: str | None
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    claimed_by: str | None = None
    lease_until: datetime | None = None


def _row(data: Any) -> OutboxRow:
    values = dict(data)
    for key in ("next_attempt_at", "created_at", "delivered_at", "lease_until"):
        values[key] = as_utc(values[key])
    return OutboxRow.model_validate(values)


async def enqueue(
    conn: AsyncConnection,
    *,
    kind: OutboxKind,
    case_id: str,
    action: str,
    idempotency_key: str,
    payload: dict[str, Any],
    approval_id: str | None = None,
) -> bool:
    """Adds a row unless one with the same idempotency key exists; returns whether it added one."""
    if (await conn.execute(_KEY_EXISTS, {"key": idempotency_key})).first():
        return False
    now = utcnow()
    await conn.execute(
        _INSERT,
        {
            "kind": kind,
            "case_id": case_id,
            "action": action,
            "idempotency_key": idempotency_key,
            "approval_id": approval_id,
            "payload": payload,
            "status": OutboxStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    await _announce(conn)
    return True


async def _announce(conn: AsyncConnection) -> None:
    """Tells the listening workers, once this transaction commits, that a row is due now."""
    # On SQLite one process holds the worker, and the caller's in-process wake-up reaches it.
    if conn.dialect.name == "postgresql":
        await conn.execute(_NOTIFY)


async def claim(
    conn: AsyncConnection,
    worker: str,
    *,
    lease_s: float,
    limit: int = 50,
    case_id: str | None = None,
) -> list[OutboxRow]:
    """Claims due rows for one worker for `lease_s` seconds, oldest first; others skip them.

    On PostgreSQL the rows are chosen with FOR UPDATE SKIP LOCKED, so two workers claiming at
    once never take the same row; SQLite serialises writers, which gives the same guarantee.
    """
    now = utcnow()
    chosen = (
        select(outbox.c.outbox_id)
        .where(
            outbox.c.status == OutboxStatus.pending.value,
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        )
        .order_by(outbox.c.outbox_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if case_id is not None:
        chosen = chosen.where(outbox.c.case_id == case_id)
    claimed = (
        update(outbox)
        .where(outbox.c.outbox_id.in_(chosen.scalar_subquery()))
        .values(claimed_by=worker, lease_until=now + timedelta(seconds=lease_s))
        .returning(*outbox.c)
    )
    found = [_row(r) for r in (await conn.execute(claimed)).mappings()]
    return sorted(found, key=lambda row: row.outbox_id)


async def rows(
    conn: AsyncConnection, *, case_id: str | None = None, status: str | None = None
) -> list[OutboxRow]:
    """Returns outbox rows, optionally for one case or status."""
    if case_id is not None and status is None:
        return [_row(r) for r in (await conn.execute(_OF_CASE, {"case_id": case_id})).mappings()]
    query = select(outbox).order_by(outbox.c.outbox_id)
    if case_id is not None:
        query = query.where(outbox.c.case_id == case_id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    return [_row(r) for r in (await conn.execute(query)).mappings()]


async def page(
    conn: AsyncConnection,
    *,
    case_id: str | None = None,
    status: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[OutboxRow], str | None]:
    """Returns one page of outbox rows in id order, and the cursor of the next page."""
    query = select(outbox)
    if case_id is not None:
        query = query.where(outbox.c.case_id == case_id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    found, next_cursor = await id_page(conn, query, outbox.c.outbox_id, limit=limit, cursor=cursor)
    return [_row(r) for r in found], next_cursor


def _held_by(outbox_id: int, worker: str) -> Any:
    return (
        (outbox.c.outbox_id == outbox_id)
        & (outbox.c.claimed_by == worker)
        & (outbox.c.status == OutboxStatus.pending.value)
    )


async def mark_delivered(conn: AsyncConnection, outbox_id: int, attempts: int, worker: str) -> bool:
    """Marks a row this worker holds delivered; returns False when the claim was lost."""
    result = await conn.execute(
        update(outbox)
        .where(_held_by(outbox_id, worker))
        .values(
            status=OutboxStatus.delivered.value,
            attempts=attempts,
            delivered_at=utcnow(),
            claimed_by=None,
            lease_until=None,
        )
    )
    return bool(result.rowcount)


async def mark_failed(
    conn: AsyncConnection,
    outbox_id: int,
    *,
    worker: str,
    attempts: int,
    error: str,
    retry_in_s: float | None,
) -> bool:
    """Records a failed delivery: retried later, or dead-lettered when retry_in_s is None."""
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_error": error[:2000],
        "claimed_by": None,
        "lease_until": None,
    }
    if retry_in_s is None:
        values["status"] = OutboxStatus.dead.value
    else:
        values["next_attempt_at"] = utcnow() + timedelta(seconds=retry_in_s)
    result = await conn.execute(update(outbox).where(_held_by(outbox_id, worker)).values(**values))
    return bool(result.rowcount)


async def revive(conn: AsyncConnection, outbox_id: int | None = None) -> list[OutboxRow]:
    """Puts dead letters (one, or all) back in the queue with fresh attempts; returns them."""
    query = update(outbox).where(outbox.c.status == OutboxStatus.dead.value)
    if outbox_id is not None:
        query = query.where(outbox.c.outbox_id == outbox_id)
    revived = query.values(
        status=OutboxStatus.pending.value,
        attempts=0,
        next_attempt_at=utcnow(),
        claimed_by=None,
        lease_until=None,
    ).returning(*outbox.c)
    found = [_row(r) for r in (await conn.execute(revived)).mappings()]
    if found:
        await _announce(conn)
    return found


async def get(conn: AsyncConnection, outbox_id: int) -> OutboxRow:
    """Returns one outbox row or raises NotFound."""
    row = (await conn.execute(select(outbox).where(outbox.c.outbox_id == outbox_id))).mappings()
    found = row.first()
    if found is None:
        raise NotFound(f"outbox row {outbox_id} not found")
    return _row(found)


async def release_claims(conn: AsyncConnection) -> None:
    """Voids every claim: only for a store that one process alone may use (SQLite)."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.claimed_by.is_not(None))
        .values(claimed_by=None, lease_until=None)
    )
