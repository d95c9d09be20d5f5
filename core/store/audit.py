"""The append-only audit log: every state change, decision, vote and posting attempt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from pydantic import BaseModel, JsonValue
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.audit_events import AuditDetail, read_event, stored_detail
from core.store.db import as_utc, utcnow
from core.store.paging import id_page
from core.store.tables import audit


class AuditEntry(BaseModel):
    """One audit row."""

    entry_id: int
    case_id: str | None
    at: datetime
    actor: str
    kind: str
    detail: dict[str, JsonValue]

    def event(self) -> AuditDetail:
        """Returns the detail as its kind's catalogue model."""
        return read_event(self.kind, self.detail)


class AuditRow(TypedDict):
    """One row to append with record_many; its detail is checked against its kind's model."""

    case_id: str | None
    actor: str
    kind: str
    detail: Mapping[str, object]


# Built once: the values travel as parameters, which skips rebuilding the statement per row.
_INSERT = insert(audit)


async def record(
    conn: AsyncConnection, *, case_id: str | None, actor: str, kind: str, **detail: object
) -> None:
    """Appends one audit row inside the caller's transaction; AuditRejected if it breaks its kind."""
    row = {
        "case_id": case_id,
        "at": utcnow(),
        "actor": actor,
        "kind": kind,
        "detail": stored_detail(kind, detail),
    }
    await conn.execute(_INSERT, row)


async def record_many(conn: AsyncConnection, rows: Sequence[AuditRow]) -> None:
    """Appends several audit rows in one statement; any row breaking its kind refuses them all."""
    if rows:
        now = utcnow()
        checked = [
            {**row, "at": now, "detail": stored_detail(row["kind"], row["detail"])} for row in rows
        ]
        await conn.execute(_INSERT, checked)


async def entries(
    conn: AsyncConnection, case_id: str | None = None, kind: str | None = None
) -> list[AuditEntry]:
    """Returns audit rows in the order they were written, optionally for one case or kind."""
    query = select(audit).order_by(audit.c.entry_id)
    if case_id is not None:
        query = query.where(audit.c.case_id == case_id)
    if kind is not None:
        query = query.where(audit.c.kind == kind)
    rows = (await conn.execute(query)).mappings().all()
    return [_entry(row) for row in rows]


def _entry(row: Any) -> AuditEntry:
    return AuditEntry.model_validate({**row, "at": as_utc(row["at"])})


async def entries_page(
    conn: AsyncConnection, case_id: str, *, limit: int, cursor: str | None
) -> tuple[list[AuditEntry], str | None]:
    """Returns one page of a case's audit rows in the order written, and the next cursor."""
    query = select(audit).where(audit.c.case_id == case_id)
    found, next_cursor = await id_page(conn, query, audit.c.entry_id, limit=limit, cursor=cursor)
    return [_entry(row) for row in found], next_cursor
