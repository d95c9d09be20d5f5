"""UI sessions live in a migrated table on SQLite and PostgreSQL; revoked ones stop at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from core.store import identity, sessions
from core.store.db import Database
from core.store.tables import users


async def _session_lifecycle(url: str) -> None:
    db = Database(url)
    try:
        await asyncio.to_thread(db.migrate)
        async with db.transaction() as conn:
            await identity.add_user(conn, "alice", "correct-horse", ["buyer"])
            kept = await sessions.open_session(conn, "alice", 3600)
            ended = await sessions.open_session(conn, "alice", 3600)
            stale = await sessions.open_session(conn, "alice", -1)
        async with db.transaction() as conn:
            await sessions.revoke_session(conn, ended)
            assert (await sessions.session_person(conn, kept)) is not None
            assert await sessions.session_person(conn, ended) is None
            assert await sessions.session_person(conn, stale) is None
            assert await sessions.session_person(conn, "never-issued") is None
            await conn.execute(update(users).values(active=False))
            assert await sessions.session_person(conn, kept) is None
            await conn.execute(update(users).values(active=True))
            await identity.add_user(conn, "alice", "a-new-password", ["buyer"])
            assert await sessions.session_person(conn, kept) is None
    finally:
        await db.dispose()


def test_sessions_end_on_logout_expiry_disabling_and_a_new_password(database_url: str) -> None:
    """Only an unrevoked, unexpired session of an active reviewer with an unchanged password counts."""
    asyncio.run(_session_lifecycle(database_url))
