"""The PostgreSQL listener wakes the worker per notification and survives losing its connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy.engine import make_url

from core.store.outbox import CHANNEL
from tests.support.service import PG_ADMIN_URL, fresh_postgres
from tools.wakeups.postgres import APPLICATION_NAME, PostgresListener, conninfo_of

pytestmark = pytest.mark.postgres
WAIT_S = 10.0


@dataclass
class Wakes:
    """Counts the listener's calls of the worker's wake-up."""

    count: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """Stands in for `Worker.wake`."""
        self.count += 1
        self.changed.set()

    async def reach(self, count: int) -> None:
        """Waits until the wake-up was called `count` times in all."""
        async with asyncio.timeout(WAIT_S):
            while self.count < count:
                self.changed.clear()
                await self.changed.wait()
        assert self.count == count


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (the listener needs no schema)."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture
async def wakes(database_url: str) -> AsyncIterator[Wakes]:
    """A running listener on the database whose wake-ups are counted; cancelled afterwards."""
    counted = Wakes()
    listener = PostgresListener(database_url, wait_initial_s=0.05, wait_max_s=0.5)
    task = asyncio.create_task(listener.listen(counted.wake))
    try:
        yield counted
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()  # nothing but cancellation ended it


def notify(database_url: str) -> None:
    """Sends one notification on the channel from another connection, as a committing API does."""
    with psycopg.connect(conninfo_of(database_url), autocommit=True) as conn:
        conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def listener_pids(database_url: str) -> list[int]:
    """Returns the server pids of the listener's connections to the database."""
    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(query, (make_url(database_url).database, APPLICATION_NAME)).fetchall()
    return [int(row[0]) for row in rows]


def terminate(pid: int) -> None:
    """Ends one server backend, as an administrator or a failover would."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


async def test_each_notification_wakes_the_worker(database_url: str, wakes: Wakes) -> None:
    """Once on connecting (to catch up), then once per notification from another connection."""
    await wakes.reach(1)
    for expected in (2, 3):
        await asyncio.to_thread(notify, database_url)
        await wakes.reach(expected)


async def test_the_listener_reconnects_after_its_connection_is_terminated(
    database_url: str, wakes: Wakes, caplog: pytest.LogCaptureFixture
) -> None:
    """After pg_terminate_backend it listens on a new connection, wakes to catch up, logs once."""
    await wakes.reach(1)
    (first,) = await asyncio.to_thread(listener_pids, database_url)
    with caplog.at_level(logging.INFO, logger="tools.wakeups.postgres"):
        await asyncio.to_thread(terminate, first)
        await wakes.reach(2)  # the catch-up after reconnecting
        (second,) = await asyncio.to_thread(listener_pids, database_url)
        assert second != first
        await asyncio.to_thread(notify, database_url)
        await wakes.reach(3)
    levels = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records]
    assert levels == [
        ("WARNING", "the outbox listener is not connected"),
        ("INFO", "the outbox listener is connected again"),
    ]


async def test_the_listener_waits_out_an_unreachable_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """While the database cannot be reached it retries with backoff and logs one warning only."""
    counted = Wakes()
    # A port nobody listens on: every attempt fails at once, so many retries fit in a second.
    listener = PostgresListener(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", wait_initial_s=0.01, wait_max_s=0.05
    )
    with caplog.at_level(logging.INFO, logger="tools.wakeups.postgres"):
        task = asyncio.create_task(listener.listen(counted.wake))
        await asyncio.sleep(1.0)
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert counted.count == 0
    assert [r.levelname for r in caplog.records] == ["WARNING"]
