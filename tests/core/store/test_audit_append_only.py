"""The migrated audit table refuses UPDATE and DELETE, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from core.store import audit
from core.store.db import Database
from core.store.tables import audit as audit_table


async def _audit_refuses_changes(url: str) -> None:
    db = Database(url)
    try:
        await asyncio.to_thread(db.migrate)
        async with db.transaction() as conn:
            await audit.record(
                conn, case_id="C-1", actor="person:alice", kind="case.received", digest="0" * 64
            )
        attempts = [
            update(audit_table).values(actor="person:mallory"),
            update(audit_table).where(audit_table.c.case_id == "C-1").values(kind="x"),
            delete(audit_table),
            delete(audit_table).where(audit_table.c.case_id == "C-1"),
        ]
        for statement in attempts:
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.transaction() as conn:
                    await conn.execute(statement)
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as conn:
                await conn.execute(text("UPDATE audit SET detail = '{}'"))
        async with db.transaction() as conn:
            rows = (await conn.execute(select(audit_table))).mappings().all()
            await audit.record(
                conn, case_id=None, actor="learner", kind="history.imported", cases=1
            )
            count = (await conn.execute(select(func.count()).select_from(audit_table))).scalar()
        assert [(r["actor"], r["kind"]) for r in rows] == [("person:alice", "case.received")]
        assert count == 2
    finally:
        await db.dispose()


def test_the_audit_table_refuses_update_and_delete(database_url: str) -> None:
    """Every UPDATE or DELETE on audit fails in the database itself; inserts still work."""
    asyncio.run(_audit_refuses_changes(database_url))
