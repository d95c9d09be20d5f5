"""Opens the LangGraph checkpointer of the configured store: SQLite file or PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy.engine import make_url


def libpq_url(sqlalchemy_url: str) -> str:
    """Returns a plain postgresql:// URL for psycopg from a SQLAlchemy URL."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class InlineSqliteSaver(SqliteSaver):
    """SqliteSaver's own SQL, offered to the async graph without a thread hop per call.

    A checkpoint read or write takes well under a millisecond on a local file; sending each
    through aiosqlite's worker thread and back cost more than the SQL itself. The graph of a
    case is driven by one coroutine at a time (the service locks per case), and the saver's
    own lock serialises the connection.
    """

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Returns the checkpoint tuple for the config, or None."""
        return self.get_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Yields the matching checkpoints, newest first."""
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Stores a checkpoint and returns its config."""
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Stores a task's pending writes."""
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Deletes every checkpoint and write of a thread."""
        self.delete_thread(thread_id)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Returns the writes and seed of each delta channel."""
        return self.get_delta_channel_history(config=config, channels=channels)


@asynccontextmanager
async def open_checkpointer(
    database_url: str, sqlite_path: Path
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Yields a ready checkpointer; PostgreSQL when the store is PostgreSQL, else a SQLite file."""
    if database_url.startswith("postgresql"):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver  # psycopg only when used

        async with AsyncPostgresSaver.from_conn_string(libpq_url(database_url)) as postgres:
            await postgres.setup()
            yield postgres
        return
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(str(sqlite_path), check_same_thread=False)) as conn:
        # WAL with NORMAL survives an application crash, as the main store does.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        saver = InlineSqliteSaver(conn)
        saver.setup()
        yield saver
