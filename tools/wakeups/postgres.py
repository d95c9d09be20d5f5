"""PostgreSQL LISTEN on a dedicated connection: wakes the worker when any process commits outbox work.

The notification is only a hint. One that is lost (the connection dropped, the worker was busy
elsewhere) costs at most one poll interval, because the worker's poll still finds every due row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.wait import wait_exponential_jitter

from core.store.outbox import CHANNEL

log = logging.getLogger(__name__)

# Shown in pg_stat_activity, so an operator can tell the listener from the pooled connections.
APPLICATION_NAME = "triage-outbox-listener"


def conninfo_of(database_url: str) -> str:
    """Returns the libpq connection string of the listener for a SQLAlchemy PostgreSQL URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return make_conninfo(
        url.render_as_string(hide_password=False),
        application_name=APPLICATION_NAME,
        # An unanswered connect is retried like a refused one instead of hanging the listener.
        connect_timeout=10,
        # A silently dead peer (no FIN, e.g. a dropped network path) is noticed within a minute.
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    )


class PostgresListener:
    """LISTENs on the outbox channel and calls the wake-up per notification; reconnects with backoff."""

    def __init__(
        self, database_url: str, *, wait_initial_s: float = 0.5, wait_max_s: float = 30.0
    ) -> None:
        self._conninfo = conninfo_of(database_url)
        self._backoff = wait_exponential_jitter(
            multiplier=wait_initial_s, max=wait_max_s, jitter=wait_initial_s
        )
        self._away = False  # an outage was logged and the connection is not back yet

    async def listen(self, wake: Callable[[], None]) -> None:
        """Calls `wake` on every notification until cancelled, and once after each (re)connection."""
        while True:
            conn = await self._connect()
            try:
                # Notifications sent while nobody listened are gone: look once for their rows.
                wake()
                async for _notification in conn.notifies():
                    wake()
            except psycopg.Error as exc:
                self._report_outage(exc)
            finally:
                await conn.close()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        """Opens the listening connection, retrying with backoff for as long as it takes."""
        retrying = AsyncRetrying(
            wait=self._backoff,
            retry=retry_if_exception_type(psycopg.Error),
            before_sleep=self._before_retry,
        )
        conn: psycopg.AsyncConnection[Any] = await retrying(self._open)
        if self._away:
            log.info("the outbox listener is connected again")
            self._away = False
        return conn

    async def _open(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        except BaseException:
            await conn.close()
            raise
        return conn

    def _before_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, Exception):
            self._report_outage(error)

    def _report_outage(self, error: Exception) -> None:
        """Logs the first failure of an outage only: a retry every few seconds would flood the log."""
        if self._away:
            return
        self._away = True
        log.warning(
            "the outbox listener is not connected (%s); the worker polls until it is back",
            type(error).__name__,
        )
