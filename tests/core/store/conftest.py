"""The store tests' shared fixture: a migrated SQLite store with one reviewer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.store import identity
from core.store.db import Database
from tests.support.service import PASSWORD


@pytest.fixture
async def alice_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite store with reviewer alice (buyer), whose password is PASSWORD."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'triage.db'}")
    await asyncio.to_thread(database.migrate)
    async with database.transaction() as conn:
        await identity.add_user(conn, "alice", PASSWORD, ["buyer"])
    yield database
    await database.dispose()
