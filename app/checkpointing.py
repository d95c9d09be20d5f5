"""Opens the LangGraph checkpointer of the configured store: SQLite file or PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
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

    A node's output writes commit with the checkpoint LangGraph saves right after them, in one
    commit instead of two: a crash between the two loses nothing that a crash just before the
    writes would not. Writes that no checkpoint follows (an interrupt, an error, a resume)
    commit at once.
    """

    # Per thread: a pruning thread's cursor must never see the event loop's deferral.
    _deferring = threading.local()

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        """Yields a cursor under the saver's lock; commits after it unless a commit is deferred."""
        with self.lock:
            self.setup()
            cur = self.conn.cursor()
            try:
                yield cur
            finally:
                if transaction and not getattr(self._deferring, "on", False):
                    self.conn.commit()
                cur.close()

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Stores a task's writes; a node's output waits for the checkpoint's commit."""
        followed_by_checkpoint = not any(channel in WRITES_IDX_MAP for channel, _ in writes)
        self._deferring.on = followed_by_checkpoint
        try:
            super().put_writes(config, writes, task_id, task_path)
        finally:
            self._deferring.on = False

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
