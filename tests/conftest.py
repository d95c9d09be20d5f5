"""Fixtures shared across the tree: stores of each kind and the local OpenAI stub."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.store.db import Database
from tests.support.openai_stub import OpenAiStub, running_stub
from tests.support.service import fresh_postgres

# In-process runtimes train in process: a spawned trainer would import scikit-learn again for
# every training of every test. Services started as processes (tests.support.processes) drop
# TRIAGE_* variables and train in a child, as served; tests/agent/test_training.py covers it.
os.environ.setdefault("TRIAGE_TRAIN_IN_CHILD", "false")


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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'triage.db'}"
        return
    with fresh_postgres() as url:
        yield url
