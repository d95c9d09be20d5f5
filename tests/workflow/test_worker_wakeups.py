"""The worker's wake source: work committed elsewhere is picked up at once, not at the next poll."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from core.results import CaseStatus
from tests.support.desk import ALICE, Desk
from tools.wakeups.fake import FakeWakeups
from workflow.worker import Worker

WAIT_S = 10.0


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Event]:
    """Runs the worker's loop; yields an event set after each of its rounds."""
    rounds = asyncio.Event()
    run_once = worker.run_once

    async def counted(*, recover: bool) -> int:
        try:
            return await run_once(recover=recover)
        finally:
            rounds.set()

    worker.run_once = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield rounds
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT_S)


async def wait_for_status(desk: Desk, case_id: str, status: CaseStatus) -> None:
    """Waits until the case reaches the status."""
    async with asyncio.timeout(WAIT_S):
        while await desk.status(case_id) is not status:
            await asyncio.sleep(0.02)


async def test_a_ring_wakes_the_worker_long_before_its_poll(desk: Desk) -> None:
    """A decision taken in another process (no in-process wake) is resumed as soon as it rings."""
    worker = desk.runtime.worker
    worker.poll_s = 60.0
    wakeups = FakeWakeups()
    worker.wakeups = wakeups
    desk.runtime.desk.wake = lambda: None  # the deciding process is not the worker's
    approval_id = await desk.pending("WF-RING")
    async with running(worker) as rounds:
        await wakeups.listening.wait()
        await rounds.wait()  # the first round is over: the loop now sleeps for its poll
        rounds.clear()
        await desk.runtime.desk.decide(approval_id, ALICE, "approve", "count confirmed")
        await asyncio.sleep(0.3)
        assert not rounds.is_set()
        assert await desk.rows("WF-RING") == [("erp", "pending"), ("resume", "pending")]
        wakeups.ring()
        await wait_for_status(desk, "WF-RING", CaseStatus.resolved)
    assert len(desk.erp.calls) == 1


async def test_a_failing_wake_source_leaves_the_worker_polling(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A listener that dies is logged; the loop goes on and its poll still finishes the case."""
    worker = desk.runtime.worker
    worker.poll_s = 0.05
    worker.wakeups = FakeWakeups(fail_with=RuntimeError("no notifications today"))
    desk.runtime.desk.wake = lambda: None
    approval_id = await desk.pending("WF-POLL")
    with caplog.at_level(logging.ERROR, logger="workflow.worker"):
        async with running(worker):
            await desk.runtime.desk.decide(approval_id, ALICE, "approve", "count confirmed")
            await wait_for_status(desk, "WF-POLL", CaseStatus.resolved)
    assert "the wake-up listener stopped; polling only" in caplog.text
    assert len(desk.erp.calls) == 1
