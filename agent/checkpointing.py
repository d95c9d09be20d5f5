"""Opens the LangGraph checkpointer of the configured store: SQLite file or PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from sqlalchemy.engine import make_url


def libpq_url(sqlalchemy_url: str) -> str:
    """Returns a plain postgresql:// URL for psycopg from a SQLAlchemy URL."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@asynccontextmanager
async def open_checkpointer(
    database_url: str, sqlite_path: Path
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Yields a ready checkpointer; PostgreSQL when the store is PostgreSQL, else a SQLite file."""
    if database_url.startswith("postgresql"):
        async with AsyncPostgresSaver.from_conn_string(libpq_url(database_url)) as saver:
            await saver.setup()
            yield saver
        return
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(sqlite_path)) as saver:
        yield saver
