"""The outbox: rows committed with the state change they belong to, delivered later with retries."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.store.db import as_utc, utcnow
from core.store.tables import outbox

OutboxKind = Literal["erp", "action", "slack"]

# The hot statements are built once; values travel as parameters.
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


def _row(data: Any) -> OutboxRow:
    values = dict(data)
    for key in ("next_attempt_at", "created_at", "delivered_at"):
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
    return True


async def due(
    conn: AsyncConnection, *, kind: str | None = None, case_id: str | None = None, limit: int = 50
) -> list[OutboxRow]:
    """Returns pending rows whose next attempt is due, oldest first."""
    query = (
        select(outbox)
        .where(outbox.c.status == OutboxStatus.pending.value, outbox.c.next_attempt_at <= utcnow())
        .order_by(outbox.c.outbox_id)
        .limit(limit)
    )
    if kind is not None:
        query = query.where(outbox.c.kind == kind)
    if case_id is not None:
        query = query.where(outbox.c.case_id == case_id)
    return [_row(r) for r in (await conn.execute(query)).mappings()]


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


async def mark_delivered(conn: AsyncConnection, outbox_id: int, attempts: int) -> None:
    """Marks a row delivered."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.outbox_id == outbox_id)
        .values(status=OutboxStatus.delivered.value, attempts=attempts, delivered_at=utcnow())
    )


async def mark_failed(
    conn: AsyncConnection, outbox_id: int, *, attempts: int, error: str, retry_in_s: float | None
) -> None:
    """Records a failed delivery: retried later, or dead-lettered when retry_in_s is None."""
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
    if retry_in_s is None:
        values["status"] = OutboxStatus.dead.value
    else:
        values["next_attempt_at"] = utcnow() + timedelta(seconds=retry_in_s)
    await conn.execute(update(outbox).where(outbox.c.outbox_id == outbox_id).values(**values))
