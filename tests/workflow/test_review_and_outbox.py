"""The review desk and the outbox on the fakes: commit first, post later, once, and replayably."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core.approvals import ApprovalStatus
from core.errors import Conflict
from core.results import CaseStatus
from core.store import approvals as approval_store
from core.store import audit
from core.store import outbox as outbox_store
from core.store.db import utcnow
from core.store.tables import outbox
from tests.support.desk import ALICE, BOB, Desk
from workflow.outbox import Outbox


async def test_a_decision_commits_its_posting_and_resume_without_posting(desk: Desk) -> None:
    """Approving returns with the ERP row and the resume job queued; nothing reached the ERP."""
    approval_id = await desk.pending("WF-1")
    decided = await desk.runtime.desk.decide(approval_id, ALICE, "approve", "count confirmed")
    assert decided.status is ApprovalStatus.approved
    assert desk.erp.calls == []
    assert await desk.rows("WF-1") == [("erp", "pending"), ("resume", "pending")]
    assert await desk.status("WF-1") is CaseStatus.pending_approval

    assert await desk.runtime.outbox.deliver_due() >= 2
    assert len(desk.erp.calls) == 1
    assert await desk.status("WF-1") is CaseStatus.resolved
    assert "post_inventory_adjustment" in (await desk.runtime.service.get("WF-1")).result.executed  # type: ignore[union-attr]


async def test_a_decided_approval_refuses_a_second_decision(desk: Desk) -> None:
    """The second decision on one approval is a Conflict, and casts no vote."""
    approval_id = await desk.pending("WF-2")
    await desk.runtime.desk.decide(approval_id, ALICE, "reject", "recount pending")
    with pytest.raises(Conflict):
        await desk.runtime.desk.decide(approval_id, BOB, "approve")
    async with desk.runtime.db.transaction() as conn:
        record = await approval_store.get_approval(conn, approval_id)
    assert [v.decision for v in record.votes] == ["reject"]
    await desk.runtime.outbox.deliver_due()
    assert desk.erp.calls == []
    assert await desk.status("WF-2") is CaseStatus.rejected


async def test_an_approval_of_parameters_edited_since_they_were_seen_is_refused(
    desk: Desk,
) -> None:
    """With seen_params, an edit between confirming and deciding is a Conflict, and no vote."""
    approval_id = await desk.pending("WF-SEEN")
    async with desk.runtime.db.transaction() as conn:
        seen = (await approval_store.get_approval(conn, approval_id)).params
    await desk.runtime.desk.decide(approval_id, BOB, "edit", "recount", {"quantity_delta": -5})
    with pytest.raises(Conflict, match="parameters changed"):
        await desk.runtime.desk.decide(approval_id, ALICE, "approve", seen_params=seen)
    async with desk.runtime.db.transaction() as conn:
        record = await approval_store.get_approval(conn, approval_id)
    assert [v.decision for v in record.votes] == ["edit"]
    decided = await desk.runtime.desk.decide(
        approval_id, ALICE, "approve", seen_params=record.params
    )
    assert decided.status is ApprovalStatus.approved


async def test_a_retryable_failure_is_retried_and_posts_once(desk: Desk) -> None:
    """A 5xx-like failure schedules a retry; the next round posts, once."""
    approval_id = await desk.pending("WF-3")
    desk.erp.fail_next(1)
    await desk.runtime.desk.decide(approval_id, ALICE, "approve")
    await desk.runtime.outbox.deliver_due()
    assert sorted(desk.erp.postings) == sorted(set(desk.erp.calls))
    assert len(desk.erp.calls) == 2
    assert len(desk.erp.postings) == 1
    assert await desk.status("WF-3") is CaseStatus.resolved


async def test_a_dead_letter_fails_the_case_and_a_replay_posts_it(desk: Desk) -> None:
    """A permanent failure dead-letters the posting; replay revives it and the case resolves."""
    approval_id = await desk.pending("WF-4")
    desk.erp.fail_next(1, permanent=True)
    await desk.runtime.desk.decide(approval_id, ALICE, "approve")
    await desk.runtime.outbox.deliver_due()
    assert ("erp", "dead") in await desk.rows("WF-4")
    assert await desk.status("WF-4") is CaseStatus.failed

    revived = await desk.runtime.outbox.replay("person:admin")
    assert [r.kind for r in revived] == ["erp"]
    assert await desk.status("WF-4") is CaseStatus.executing
    await desk.runtime.outbox.deliver_due()
    assert len(desk.erp.postings) == 1
    assert await desk.status("WF-4") is CaseStatus.resolved
    async with desk.runtime.db.transaction() as conn:
        kinds = [e.kind for e in await audit.entries(conn, "WF-4")]
    assert kinds.count("outbox.replayed") == 1


async def test_a_claimed_row_is_skipped_by_another_worker_until_its_lease_runs_out(
    desk: Desk,
) -> None:
    """Two workers: the second cannot take or settle the first's row while its lease holds."""
    approval_id = await desk.pending("WF-5")
    await desk.runtime.desk.decide(approval_id, ALICE, "approve")
    db = desk.runtime.db
    async with db.transaction() as conn:
        first = await outbox_store.claim(conn, "worker-1", lease_s=60, case_id="WF-5")
    assert [r.kind for r in first] == ["erp", "resume"]
    async with db.transaction() as conn:
        assert await outbox_store.claim(conn, "worker-2", lease_s=60, case_id="WF-5") == []
        assert not await outbox_store.mark_delivered(conn, first[0].outbox_id, 1, "worker-2")
    second = Outbox(db, desk.erp, desk.runtime.deps.policy, worker_id="worker-2", lease_s=60)
    second.handlers = desk.runtime.outbox.handlers  # the same resume job as the first worker's
    assert await second.deliver_due(case_id="WF-5") == 0
    assert desk.erp.calls == []

    async with db.transaction() as conn:  # worker-1 dies: its lease runs out
        await conn.execute(update(outbox).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert await second.deliver_due(case_id="WF-5") == 2
    assert len(desk.erp.calls) == 1
    assert await desk.status("WF-5") is CaseStatus.resolved
