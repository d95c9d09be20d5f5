"""Approval expiry runs in the worker with no Slack at all, after the policy file's hours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.wiring import Overrides, Runtime, open_runtime
from core.approvals import ApprovalStatus
from core.errors import Conflict
from core.principals import Principal, PrincipalKind
from core.results import CaseStatus
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import audit
from core.store.db import utcnow
from core.store.tables import approvals
from policies.config import DEFAULT_POLICY_FILE
from tests.support.slack import FixedClassifier, make_slack_case, submit
from tools.actions.fake import FakeActions
from tools.embedding.fake import FakeEmbedder
from tools.erp.fake import FakeErp
from tools.retrieval.fake import FakeContextIndex
from workflow.worker import TimedJob

ALICE = Principal(name="alice", kind=PrincipalKind.person, roles=frozenset({"ops_supervisor"}))


def write_policy(directory: Path, hours: float) -> Path:
    """Writes the default policy with another approval_expiry_hours and returns its path."""
    text = DEFAULT_POLICY_FILE.read_text().replace(
        "approval_expiry_hours = 48", f"approval_expiry_hours = {hours}"
    )
    assert f"approval_expiry_hours = {hours}" in text
    path = directory / "policy.toml"
    path.write_text(text)
    return path


@asynccontextmanager
async def runtime_without_slack(
    tmp_path: Path, erp: FakeErp, actions: FakeActions
) -> AsyncIterator[Runtime]:
    """Opens a runtime on fakes with a two-hour expiry and no Slack setting of any kind."""
    settings = Settings(
        data_dir=tmp_path / "data",
        policy_file=write_policy(tmp_path, 2),
        outbox_poll_s=0.02,
        approval_timers_poll_s=0.02,
        learn_from_outcomes=False,
    )
    overrides = Overrides(erp=erp, actions=actions, index=FakeContextIndex(FakeEmbedder()))
    async with open_runtime(settings, overrides) as runtime:
        runtime.deps.classifiers.replace(FixedClassifier())
        yield runtime


async def backdate(runtime: Runtime, approval_id: str, hours: float) -> None:
    """Makes an approval look as if it had been opened `hours` ago."""
    async with runtime.db.transaction() as conn:
        await conn.execute(
            update(approvals)
            .where(approvals.c.approval_id == approval_id)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )


async def run_worker_until_routed(runtime: Runtime, case_id: str) -> None:
    """Runs the real worker loop until the case is routed (or fails after ten seconds)."""
    stop = asyncio.Event()
    await runtime.worker.start()
    loop = asyncio.create_task(runtime.worker.run(stop))
    try:
        for _ in range(500):
            if (await runtime.service.get(case_id)).status is CaseStatus.routed:
                return
            await asyncio.sleep(0.02)
        pytest.fail(f"the worker did not route {case_id}")
    finally:
        stop.set()
        await loop
        await runtime.worker.stop()


async def test_the_worker_expires_an_approval_older_than_the_policy_hours_without_slack(
    tmp_path: Path,
) -> None:
    erp, actions = FakeErp(), FakeActions()
    async with runtime_without_slack(tmp_path, erp, actions) as runtime:
        assert runtime.slack is None
        assert runtime.reminders is None
        [old] = await submit(runtime, make_slack_case("OLD"))
        [young] = await submit(runtime, make_slack_case("YOUNG"))
        await backdate(runtime, old, hours=2.5)  # past the policy's 2 h
        await backdate(runtime, young, hours=1.5)  # not yet
        ran_before = (len(erp.postings), len(actions.calls))
        await run_worker_until_routed(runtime, "OLD")
        async with runtime.db.transaction() as conn:
            old_record = await approval_store.get_approval(conn, old)
            young_record = await approval_store.get_approval(conn, young)
            [expired] = await audit.entries(conn, kind="approval.expired")
        assert old_record.status is ApprovalStatus.expired
        assert young_record.status is ApprovalStatus.pending
        assert (await runtime.service.get("YOUNG")).status is CaseStatus.pending_approval
        assert expired.case_id == "OLD"
        assert expired.detail["approval_id"] == old
        assert expired.detail["expiry_hours"] == 2

        # Nothing runs on an expired approval afterwards: not a late vote, resume or recovery.
        with pytest.raises(Conflict):
            await runtime.desk.decide(old, ALICE, "approve")
        assert await runtime.service.resume("OLD") is False
        await runtime.service.recover()
        await runtime.outbox.deliver_due()
        assert (await runtime.service.get("OLD")).status is CaseStatus.routed
        assert (len(erp.postings), len(actions.calls)) == ran_before


async def test_expiry_is_idempotent_and_counts_only_what_it_expired(tmp_path: Path) -> None:
    async with runtime_without_slack(tmp_path, FakeErp(), FakeActions()) as runtime:
        [approval_id] = await submit(runtime, make_slack_case("C-1"))
        assert await runtime.expiry.expire_due(utcnow() + timedelta(hours=1, minutes=59)) == 0
        later = utcnow() + timedelta(hours=2, minutes=1)
        assert await runtime.expiry.expire_due(later) == 1
        assert await runtime.expiry.expire_due(later) == 0
        async with runtime.db.transaction() as conn:
            [expired] = await audit.entries(conn, kind="approval.expired")
            statuses = [e.detail["status"] for e in await audit.entries(conn, kind="case.status")]
        assert expired.detail["approval_id"] == approval_id
        assert statuses[-1] == "routed"


async def test_a_decision_taken_before_expiry_wins(tmp_path: Path) -> None:
    async with runtime_without_slack(tmp_path, FakeErp(), FakeActions()) as runtime:
        [approval_id] = await submit(runtime, make_slack_case("C-1"))
        await runtime.desk.decide(approval_id, ALICE, "reject", reason="carrier found a slot")
        assert await runtime.expiry.expire_due(utcnow() + timedelta(hours=3)) == 0
        async with runtime.db.transaction() as conn:
            record = await approval_store.get_approval(conn, approval_id)
        assert record.status is ApprovalStatus.rejected


async def test_one_failing_timed_job_does_not_stop_the_expiry(tmp_path: Path) -> None:
    async with runtime_without_slack(tmp_path, FakeErp(), FakeActions()) as runtime:
        [approval_id] = await submit(runtime, make_slack_case("C-1"))
        await backdate(runtime, approval_id, hours=3)

        async def broken() -> None:
            raise RuntimeError("a passing failure")

        runtime.worker.jobs.insert(0, TimedJob("broken", 0.01, broken))
        await runtime.worker.run_due_jobs(asyncio.get_running_loop().time())
        assert (await runtime.service.get("C-1")).status is CaseStatus.routed
