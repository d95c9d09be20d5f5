"""The background worker: delivers the outbox, resumes decided cases, recovers stalled ones and
runs the timed jobs (approval expiry always; Slack reminders when the app registers them).

Any number of workers may run against PostgreSQL: outbox rows are claimed with SKIP LOCKED and
a lease, and case runs with a lease. SQLite allows one writer process, so there one worker at
most may beat: a second one refuses to start.

Work committed in this process wakes the loop through `wake`; work committed by another process
(PostgreSQL) wakes it through the wake source, a LISTEN on the outbox channel. Either is only a
hint: the poll every `poll_s` still finds every due row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from core.errors import ConfigurationError, RetryableIntegrationError
from core.logs import bound_request, new_request_id
from core.store import outbox as outbox_store
from core.store.db import Database, utcnow
from core.store.outbox import OutboxRow
from core.store.tables import workers
from tools.wakeups.base import WakeSource
from workflow.expiry import ApprovalExpiry
from workflow.intake import CaseBusy, TriageService
from workflow.outbox import Outbox
from workflow.pruning import CheckpointPruner

log = logging.getLogger(__name__)


def _report_listener_end(listener: asyncio.Task[None]) -> None:
    """Logs a wake source that ended with an error: from then on only the poll finds work."""
    if not listener.cancelled() and listener.exception() is not None:
        log.error("the wake-up listener stopped; polling only", exc_info=listener.exception())


def _alive(pid: int) -> bool:
    """Tells whether a process of this host is still running (a killed worker's is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class TimedJob:
    """A job the worker runs every `every_s` seconds; its failure is logged, never fatal."""

    name: str
    every_s: float
    run: Callable[[], Awaitable[object]]
    next_at: float = 0.0


class Worker:
    """Runs the outbox, the resume jobs, the recovery sweep and the timed jobs until asked to stop."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        service: TriageService,
        expiry: ApprovalExpiry,
        *,
        poll_s: float = 1.0,
        recover_every_s: float = 30.0,
        heartbeat_s: float = 5.0,
        pruner: CheckpointPruner | None = None,
        expire_every_s: float = 60.0,
        wakeups: WakeSource | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.service = service
        self.worker_id = outbox.worker_id
        self.poll_s = poll_s
        self.recover_every_s = recover_every_s
        self.heartbeat_s = heartbeat_s
        self.pruner = pruner
        self.wakeups = wakeups
        self._wake = asyncio.Event()
        self.jobs: list[TimedJob] = []
        outbox.register("resume", self._resume)
        self.every("approval expiry", expire_every_s, expiry.expire_due)

    def every(self, name: str, every_s: float, run: Callable[[], Awaitable[object]]) -> None:
        """Adds a job that the loop runs now and then every `every_s` seconds."""
        self.jobs.append(TimedJob(name, every_s, run))

    def wake(self) -> None:
        """Asks the loop to look at the outbox now instead of at its next poll."""
        self._wake.set()

    async def _resume(self, row: OutboxRow) -> dict[str, object]:
        try:
            resumed = await self.service.resume(row.case_id)
        except CaseBusy as busy:
            raise RetryableIntegrationError(busy.message, retry_after=1.0) from busy
        return {"resumed": resumed}

    async def start(self) -> None:
        """Registers this worker; on SQLite, refuses when another live worker already beats."""
        now = utcnow()
        async with self.db.transaction() as conn:
            stale = now - timedelta(seconds=3 * self.heartbeat_s)
            await conn.execute(delete(workers).where(workers.c.heartbeat_at < stale))
            rows = (
                await conn.execute(select(workers.c.worker_id, workers.c.host, workers.c.pid))
            ).all()
            dead = [w for w, host, pid in rows if host == socket.gethostname() and not _alive(pid)]
            await conn.execute(delete(workers).where(workers.c.worker_id.in_(dead)))
            live = [(w, pid) for w, _host, pid in rows if w not in dead]
            if self.db.is_sqlite and live:
                raise ConfigurationError(
                    f"SQLite allows one worker, and worker {live[0][0]} (pid {live[0][1]}) is "
                    "running; use PostgreSQL for several"
                )
            if self.db.is_sqlite:
                await outbox_store.release_claims(conn)  # claims of a killed worker are void
            await conn.execute(
                insert(workers).values(
                    worker_id=self.worker_id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                )
            )

    async def beat(self) -> None:
        """Records that this worker is alive."""
        async with self.db.transaction() as conn:
            await conn.execute(
                update(workers)
                .where(workers.c.worker_id == self.worker_id)
                .values(heartbeat_at=utcnow())
            )

    async def stop(self) -> None:
        """Removes this worker's registration."""
        async with self.db.transaction() as conn:
            await conn.execute(delete(workers).where(workers.c.worker_id == self.worker_id))

    async def run_once(self, *, recover: bool) -> int:
        """Delivers what is due and, when asked, recovers stalled cases and prunes; returns rows delivered."""
        delivered = await self.outbox.deliver_due()
        if recover:
            await self.service.recover()
            if self.pruner is not None:
                await self.pruner.prune()
        return delivered

    async def run_due_jobs(self, now: float) -> None:
        """Runs each timed job whose time has come; one failing job does not hold up the others."""
        for job in self.jobs:
            if now < job.next_at:
                continue
            job.next_at = now + job.every_s
            try:
                await job.run()
            except Exception:  # a passing database error must not end the worker
                log.exception("worker job %s failed", job.name)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        """Runs the wake source beside the loop; if it fails, the loop goes on polling."""
        if self.wakeups is None:
            yield
            return
        listener = asyncio.create_task(self.wakeups.listen(self.wake))
        listener.add_done_callback(_report_listener_end)
        try:
            yield
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Loops until `stop` is set; one failed round never ends the loop."""
        async with self._listening():
            await self._loop(stop)

    async def _loop(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_recovery = next_beat = loop.time()
        while not stop.is_set():
            self._wake.clear()
            now = loop.time()
            # Every line of one round shares an id, as the lines of one request do.
            with bound_request(f"worker-{new_request_id()}"):
                try:
                    if now >= next_beat:
                        await self.beat()
                        next_beat = now + self.heartbeat_s
                    await self.run_once(recover=now >= next_recovery)
                    if now >= next_recovery:
                        next_recovery = now + self.recover_every_s
                except Exception:  # a passing database error must not end the worker
                    log.exception("worker round failed")
                await self.run_due_jobs(now)
            with contextlib.suppress(TimeoutError):
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wake.wait()),
                ]
                try:
                    await asyncio.wait(
                        waiters, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    for waiter in waiters:
                        waiter.cancel()
