"""An aiosqlite-shaped SQLite connection that runs each statement on the calling thread.

aiosqlite sends every statement to a worker thread and back. For an embedded database whose
statements take microseconds, the two thread hops cost more than the SQL: they were about
half of a triage's time. This connection keeps SQLAlchemy's aiosqlite dialect (so SQL,
types and migrations are unchanged) but runs sqlite3 directly. It is safe only because
`Database` runs at most one SQLite transaction at a time per process, so a statement never
waits for a lock held by another coroutine on the same event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

# Another process (a CLI command beside the server) may hold the write lock for a moment.
BUSY_TIMEOUT_MS = 10_000


class InlineCursor:
    """The async cursor interface SQLAlchemy's aiosqlite adapter uses, over a sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        """The result columns of the last statement, as DB-API describes them."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """The rows the last statement changed."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """The row id of the last inserted row."""
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        """The default batch size of fetchmany."""
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        """Runs one statement."""
        self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InlineCursor:
        """Runs one statement once per parameter row."""
        self._cursor.executemany(sql, rows)
        return self

    async def fetchone(self) -> Any:
        """Returns the next row or None."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Returns up to size rows."""
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        """Returns the remaining rows."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Closes the cursor."""
        self._cursor.close()

    def __aiter__(self) -> InlineCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class _ImmediateQueue:
    """Stands in for aiosqlite's work queue: SQLAlchemy's isolation-level setter posts to it."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    """The async connection interface SQLAlchemy's aiosqlite adapter uses, over sqlite3."""

    def __init__(self, path: str) -> None:
        # check_same_thread=False: the pool may close a connection from another thread at exit.
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        self._tx = _ImmediateQueue()

    @property
    def _connection(self) -> sqlite3.Connection | None:
        # aiosqlite's name for the open sqlite3 connection; the adapter checks it before commit.
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        """The sqlite3 module's transaction mode."""
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        """Returns a new cursor (the adapter enters it as an async context)."""
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        """Runs one statement on a new cursor."""
        return InlineCursor(self._conn.execute(sql, parameters or ()))

    async def create_function(self, name: str, num_params: int, func: Any, **kw: Any) -> None:
        """Registers a Python function callable from SQL."""
        self._conn.create_function(name, num_params, func, **kw)

    async def commit(self) -> None:
        """Commits the open transaction."""
        self._conn.commit()

    async def rollback(self) -> None:
        """Rolls the open transaction back."""
        self._conn.rollback()

    async def close(self) -> None:
        """Closes the connection."""
        self._conn.close()

    def stop(self) -> None:
        """Closes the connection without waiting (SQLAlchemy's terminate)."""
        self._conn.close()


def inline_creator(path: Path | str) -> Callable[[], Any]:
    """Returns the async_creator for create_async_engine that opens an InlineConnection."""

    async def connect() -> InlineConnection:
        return InlineConnection(str(path))

    return connect
