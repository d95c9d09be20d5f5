"""A run that died between the policy gate and its wait for people is finished, decided or not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core.results import CaseStatus
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.db import utcnow
from core.store.tables import cases
from tests.support.desk import ALICE, Desk, inventory_case


async def die_after_the_gate(desk: Desk, case_id: str) -> None:
    """Leaves the case as a SIGKILL after the policy gate does: approvals open, lease expired."""
    case = inventory_case(case_id)
    runtime = desk.runtime
    async with runtime.db.transaction() as conn:
        await case_store.insert_case(conn, case, "orchestrator")
        await case_store.claim_run(conn, case_id, "dead-process", 60.0)
    await runtime.service.graph.ainvoke(
        {"case": case.model_dump(mode="json"), "submitted_by": "orchestrator"},
        {"configurable": {"thread_id": case_id}},
        interrupt_after=["policy_gate"],
    )
    async with runtime.db.transaction() as conn:
        expired = utcnow() - timedelta(seconds=1)
        await conn.execute(
            update(cases).where(cases.c.case_id == case_id).values(run_lease_until=expired)
        )
    snapshot = await runtime.service.graph.aget_state({"configurable": {"thread_id": case_id}})
    assert snapshot.next == ("execute_automatic",)
    assert await desk.status(case_id) is CaseStatus.pending_approval


async def performed(desk: Desk, case_id: str) -> list[str]:
    """Returns the actions whose execution the audit records."""
    async with desk.runtime.db.transaction() as conn:
        rows = await audit.entries(conn, case_id, kind="action.executed")
    return [str(row.detail["action"]) for row in rows]


async def audit_count(desk: Desk, case_id: str, kind: str) -> int:
    """Returns how many audit rows of a kind the case has."""
    async with desk.runtime.db.transaction() as conn:
        return len(await audit.entries(conn, case_id, kind=kind))


async def pending_erp_approval(desk: Desk, case_id: str) -> str:
    """Returns the id of the case's pending ERP approval."""
    async with desk.runtime.db.transaction() as conn:
        records = await approval_store.list_approvals(conn, case_id=case_id)
    [record] = [r for r in records if r.posts_to_erp]
    return record.approval_id


async def test_recovery_runs_the_automatic_actions_while_people_still_decide(desk: Desk) -> None:
    await die_after_the_gate(desk, "CUT-1")
    assert await performed(desk, "CUT-1") == []
    assert await desk.runtime.service.recover() == 1
    assert await performed(desk, "CUT-1") == ["create_cycle_count"]
    assert await desk.status("CUT-1") is CaseStatus.pending_approval
    assert await desk.runtime.service.recover() == 0  # at its wait now: nothing left to take on


async def test_a_decision_taken_before_recovery_still_resumes_the_case(desk: Desk) -> None:
    await die_after_the_gate(desk, "CUT-2")
    approval_id = await pending_erp_approval(desk, "CUT-2")
    await desk.runtime.desk.decide(approval_id, ALICE, "approve", "count confirmed")
    await desk.runtime.outbox.deliver_due()
    assert await desk.status("CUT-2") is CaseStatus.resolved
    assert len(desk.erp.calls) == 1
    assert sorted(await performed(desk, "CUT-2")) == ["create_cycle_count"]


async def test_a_decision_resumes_a_case_whose_checkpoints_were_lost(desk: Desk) -> None:
    """Checkpoint writes still in flight die with the process: the stored body is triaged again."""
    await die_after_the_gate(desk, "CUT-3")
    checkpointer = desk.runtime.service.graph.checkpointer
    await checkpointer.adelete_thread("CUT-3")  # type: ignore[union-attr]
    approval_id = await pending_erp_approval(desk, "CUT-3")
    await desk.runtime.desk.decide(approval_id, ALICE, "approve", "count confirmed")
    await desk.runtime.outbox.deliver_due()
    assert await desk.status("CUT-3") is CaseStatus.resolved
    assert len(desk.erp.calls) == 1
    assert await performed(desk, "CUT-3") == ["create_cycle_count"]
    # Carried on from the gate's stored decision, not triaged afresh (which could open others).
    assert await audit_count(desk, "CUT-3", "case.classified") == 1
    assert await audit_count(desk, "CUT-3", "approval.requested") == 1


async def test_a_decision_resumes_a_case_whose_checkpoint_holds_only_its_input(desk: Desk) -> None:
    """A checkpoint with the input and no node's writes is no finished graph: triage again."""
    await die_after_the_gate(desk, "CUT-4")
    graph = desk.runtime.service.graph
    await graph.checkpointer.adelete_thread("CUT-4")  # type: ignore[union-attr]
    config = {"configurable": {"thread_id": "CUT-4"}}
    body = inventory_case("CUT-4").model_dump(mode="json")
    await graph.aupdate_state(
        config, {"case": body, "submitted_by": "orchestrator"}, as_node="close"
    )
    snapshot = await graph.aget_state(config)
    assert snapshot.next == ()
    assert "case" in snapshot.values
    assert "status" not in snapshot.values
    approval_id = await pending_erp_approval(desk, "CUT-4")
    await desk.runtime.desk.decide(approval_id, ALICE, "approve", "count confirmed")
    await desk.runtime.outbox.deliver_due()
    assert await desk.status("CUT-4") is CaseStatus.resolved
    assert len(desk.erp.calls) == 1
    assert await audit_count(desk, "CUT-4", "case.classified") == 1
