"""Close: settles the final status, audits it and feeds a resolved case back into history."""

from __future__ import annotations

from typing import Any

from agent.deps import AgentDeps
from agent.results import result_from_state
from agent.state import TriageNode, TriageState, case_of
from core import case_status
from core.approvals import ApprovalRecord, ApprovalStatus
from core.models import Resolution, ResolvedCase
from core.principals import AGENT
from core.results import CaseStatus
from core.store import approvals as approval_store
from core.store import cases as case_store
from core.store import outbox as outbox_store
from core.store.db import utcnow

OutboxStatus = outbox_store.OutboxStatus


def final_status(
    records: list[ApprovalRecord], erp_rows: list[outbox_store.OutboxRow]
) -> CaseStatus:
    """Returns failed (a dead letter), executing (postings due), rejected (all refused) or resolved."""
    if any(r.status is OutboxStatus.dead for r in erp_rows):
        return CaseStatus.failed
    if any(r.status is OutboxStatus.pending for r in erp_rows):
        return CaseStatus.executing
    if records and all(r.status is ApprovalStatus.rejected for r in records):
        return CaseStatus.rejected
    return CaseStatus.resolved


def make_close(deps: AgentDeps) -> TriageNode:
    """Builds the close node."""

    async def close(state: TriageState) -> dict[str, Any]:
        case = case_of(state)
        learned: ResolvedCase | None = None
        async with deps.db.transaction() as conn:
            # Under the case lock, so a posting delivered meanwhile is either seen here or settles after.
            await case_status.lock(conn, case.case_id)
            records = await approval_store.list_approvals(conn, case_id=case.case_id)
            erp_rows = [
                r for r in await outbox_store.rows(conn, case_id=case.case_id) if r.kind == "erp"
            ]
            posted = [r.action for r in erp_rows if r.status is OutboxStatus.delivered]
            executed = [*state.get("executed", []), *posted]
            status = final_status(records, erp_rows)
            # The outbox records each delivered posting on the stored result; keep them.
            postings = await case_store.postings_of(conn, case.case_id)
            result = result_from_state({**state, "executed": executed}, status).model_copy(
                update={"postings": postings}
            )
            await case_status.move(
                conn, case.case_id, status, actor=AGENT.label, result=result, executed=executed
            )
            await deps.notifier.case_changed(conn, case.case_id, status.value)
            _status, _amount, corrected = await case_store.case_facts(conn, case.case_id)
            cause = corrected or state["classification"]["cause"]
            learnable = deps.learn_from_outcomes and status is CaseStatus.resolved
            if learnable and cause != deps.taxonomy.unknown_cause:
                learned = ResolvedCase(
                    **case.model_dump(),
                    resolution=Resolution(
                        cause=cause,
                        actions=executed,
                        outcome=f"closed by triage: {', '.join(executed) or 'no action'}",
                        resolved_at=utcnow(),
                    ),
                )
        if learned is not None:
            await deps.memory.remember([learned], source="feedback")
        return {"status": status.value, "executed": executed}

    return close
