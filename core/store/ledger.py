"""The sandbox ERP's ledger, read-only: what the embedded default posted, for people to inspect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.store.db import as_utc
from core.store.paging import id_page
from core.store.tables import sandbox_postings


def posting_record(row: Any) -> dict[str, Any]:
    """Returns a ledger row as a plain dict with its time in UTC."""
    record = dict(row)
    record["posted_at"] = as_utc(record["posted_at"])
    return record


async def sandbox_postings_of(
    conn: AsyncConnection, case_id: str | None = None
) -> list[dict[str, Any]]:
    """Returns the recorded postings, oldest first, optionally for one case."""
    query = select(sandbox_postings).order_by(sandbox_postings.c.posting_id)
    if case_id is not None:
        query = query.where(sandbox_postings.c.case_id == case_id)
    return [posting_record(row) for row in (await conn.execute(query)).mappings()]


async def sandbox_postings_page(
    conn: AsyncConnection, case_id: str | None, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Returns one page of recorded postings, oldest first, and the cursor of the next page."""
    query = select(sandbox_postings)
    if case_id is not None:
        query = query.where(sandbox_postings.c.case_id == case_id)
    found, next_cursor = await id_page(
        conn, query, sandbox_postings.c.posting_id, limit=limit, cursor=cursor
    )
    return [posting_record(row) for row in found], next_cursor
