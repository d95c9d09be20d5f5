"""The database handle: async engine, transactions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from core.store.inline_sqlite import inline_creator

if TYPE_CHECKING:
    from core.sealed_secrets import SecretBox

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Returns the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Returns a datetime marked as UTC; SQLite drops the zone on the way back."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def sync_url(url: str) -> str:
    """Returns the synchronous driver URL for an async one (used by Alembic)."""
    parsed = make_url(url)
    driver = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql+psycopg"}.get(
        parsed.drivername, parsed.drivername
    )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _enable_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL survives an application crash; only an OS crash can lose the last commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


# Set while the current task is inside a SQLite transaction, to refuse a nested one.
_in_sqlite_transaction: ContextVar[bool] = ContextVar("in_sqlite_transaction", default=False)


class NestedTransactionError(RuntimeError):
    """A SQLite transaction was opened inside another: it would wait for itself forever."""


class Database:
    """Owns the async engine and hands out transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # SQLite statements run on the event loop's thread (see inline_sqlite), so one
        # transaction at a time: a second writer would otherwise block the loop on the first.
        self._sqlite_turn = asyncio.Lock()
        if self.is_sqlite:
            path = Path(make_url(url).database or "")
            path.parent.mkdir(parents=True, exist_ok=True)
            self.engine: AsyncEngine = create_async_engine(
                url, async_creator=inline_creator(path), hide_parameters=True
            )
            _enable_sqlite_pragmas(self.engine.sync_engine)
        else:
            # Parameters carry case bodies and credentials' hashes: errors and logs never show them.
            self.engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True)

    def migrate(self, box: SecretBox | None = None, revision: str = "head") -> None:
        """Brings the schema to an Alembic revision (the newest); `box` seals plaintext secrets."""
        config = Config()
        config.attributes["secret_box"] = box
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", sync_url(self.url).replace("%", "%%"))
        command.upgrade(config, revision)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """Yields a connection inside one transaction, committed on success."""
        if not self.is_sqlite:
            async with self.engine.begin() as conn:
                yield conn
            return
        if _in_sqlite_transaction.get():
            raise NestedTransactionError("a SQLite transaction was opened inside another")
        async with self._sqlite_turn:
            token = _in_sqlite_transaction.set(True)
            try:
                async with self.engine.begin() as conn:
                    yield conn
            finally:
                _in_sqlite_transaction.reset(token)

    async def dispose(self) -> None:
        """Closes every pooled connection."""
        await self.engine.dispose()
