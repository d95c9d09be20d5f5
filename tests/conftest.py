"""Fixtures shared across the tree: a migrated SQLite store and the local OpenAI stub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.store.db import Database
from tests.support.openai_stub import OpenAiStub, running_stub


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated SQLite store in the test's temporary directory."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'triage.db'}")
    database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
def stub() -> Iterator[OpenAiStub]:
    """A running OpenAI-compatible stub server, stopped after the test."""
    with running_stub() as server:
        yield server
