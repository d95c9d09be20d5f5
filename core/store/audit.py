"""The append-only audit log: every state change, decision, vote and posting attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

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
    detail: dict[str, Any]


# Built once: the values travel as parameters, which skips rebuilding the statement per row.
_INSERT = insert(audit)


async def record(
    conn: AsyncConnection, *, case_id: str | None, actor: str, kind: str, **detail: Any
) -> None:
    """Appends one audit row inside the caller's transaction."""
    row = {"case_id": case_id, "at": utcnow(), "actor": actor, "kind": kind, "detail": detail}
    await conn.execute(_INSERT, row)


async def record_many(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Appends several audit rows (dicts of case_id, actor, kind, detail) in one statement."""
    if rows:
        now = utcnow()
        await conn.execute(_INSERT, [{"at": now, **row} for row in rows])


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
