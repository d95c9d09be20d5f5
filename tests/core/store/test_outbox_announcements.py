"""On PostgreSQL a new or replayed outbox row is announced to listening workers when it commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.store import outbox as outbox_store
from core.store.db import Database
from core.store.tables import outbox
from tests.support.service import fresh_postgres
from tools.wakeups.postgres import conninfo_of

pytestmark = pytest.mark.postgres
QUIET_S = 1.0  # how long a test waits for a notification that must not come


@pytest.fixture
async def store() -> AsyncIterator[Database]:
    """A freshly migrated PostgreSQL store."""
    with fresh_postgres() as url:
        db = Database(url)
        await asyncio.to_thread(db.migrate)
        try:
            yield db
        finally:
            await db.dispose()


@asynccontextmanager
async def listening(db: Database) -> AsyncIterator[psycopg.AsyncConnection]:
    """A separate connection that LISTENs on the workers' channel, as a worker does."""
    async with await psycopg.AsyncConnection.connect(conninfo_of(db.url), autocommit=True) as conn:
        await conn.execute(f"LISTEN {outbox_store.CHANNEL}")
        yield conn


async def received(conn: psycopg.AsyncConnection, within_s: float = QUIET_S) -> list[str]:
    """Returns the channels of the notifications that arrive within the time."""
    return [n.channel async for n in conn.notifies(timeout=within_s)]


async def enqueue(conn: AsyncConnection, key: str) -> bool:
    """Adds one resume row with the given idempotency key."""
    return await outbox_store.enqueue(
        conn,
        kind="resume",
        case_id="case-1",
        action="resume",
        idempotency_key=key,
        payload={},
    )


async def test_a_committed_transaction_announces_its_rows_once(store: Database) -> None:
    """Two rows in one transaction reach a listener as one notification, after the commit."""
    async with listening(store) as listener:
        async with store.transaction() as conn:
            await enqueue(conn, "key-1")
            await enqueue(conn, "key-2")
            assert await received(listener, 0.2) == []  # not before the commit
        assert await received(listener) == [outbox_store.CHANNEL]


async def test_a_rolled_back_row_is_never_announced(store: Database) -> None:
    """A transaction that fails after queueing a row tells no worker about it."""

    async def queue_then_fail() -> None:
        async with store.transaction() as conn:
            await enqueue(conn, "key-1")
            raise RuntimeError("the state change failed")

    async with listening(store) as listener:
        with pytest.raises(RuntimeError):
            await queue_then_fail()
        assert await received(listener) == []


async def test_a_row_already_queued_is_not_announced_again(store: Database) -> None:
    """Queueing an idempotency key that exists adds nothing and wakes nobody."""
    async with store.transaction() as conn:
        assert await enqueue(conn, "key-1")
    async with listening(store) as listener:
        async with store.transaction() as conn:
            assert not await enqueue(conn, "key-1")
        assert await received(listener) == []


async def test_a_replayed_dead_letter_is_announced(store: Database) -> None:
    """Reviving a dead letter wakes the workers, as a new row does."""
    async with store.transaction() as conn:
        await enqueue(conn, "key-1")
        await conn.execute(update(outbox).values(status=outbox_store.OutboxStatus.dead.value))
    async with listening(store) as listener:
        async with store.transaction() as conn:
            assert len(await outbox_store.revive(conn)) == 1
        assert await received(listener) == [outbox_store.CHANNEL]
