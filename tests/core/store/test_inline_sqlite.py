"""The embedded SQLite store runs statements on the event loop, one transaction at a time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.store.db import Database, NestedTransactionError
from core.store.inline_sqlite import InlineConnection


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        await conn.execute(
            text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent)")
        )
        await conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        await conn.execute(text("INSERT INTO counter VALUES (0)"))
    yield database
    await database.dispose()


async def test_statements_run_on_the_event_loop_thread_without_a_worker(db: Database) -> None:
    loop_thread = threading.get_ident()
    async with db.transaction() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, InlineConnection)
        seen: list[int] = []
        raw._conn.create_function("thread_id", 0, lambda: seen.append(threading.get_ident()) or 1)
        await conn.execute(text("SELECT thread_id()"))
    assert seen == [loop_thread]


async def test_the_connection_pragmas_still_apply(db: Database) -> None:
    async with db.transaction() as conn:
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO child VALUES (1, 99)"))


async def test_concurrent_transactions_take_turns_and_none_is_lost(db: Database) -> None:
    async def bump() -> None:
        async with db.transaction() as conn:
            n = (await conn.execute(text("SELECT n FROM counter"))).scalar_one()
            await asyncio.sleep(0)  # another task would read the same n without the turn lock
            await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(50)))
    async with db.transaction() as conn:
        assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 50


async def test_a_failed_transaction_rolls_back_and_releases_the_turn(db: Database) -> None:
    async def insert_then_fail() -> None:
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO parent VALUES (1)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await insert_then_fail()
    async with asyncio.timeout(5):
        async with db.transaction() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM parent"))).scalar_one() == 0


async def test_a_nested_transaction_is_refused_instead_of_waiting_forever(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(NestedTransactionError):
            async with db.transaction():
                pass
    async with db.transaction() as conn:  # the outer one released its turn
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
