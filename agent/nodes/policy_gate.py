"""Policy gate: evaluates every proposal, logs each decision and opens approvals, atomically."""

from __future__ import annotations

from typing import Any

from agent.deps import AgentDeps
from agent.results import result_from_state
from agent.state import TriageNode, TriageState
from core.models import Case, CaseStatus, Classification, ProposedAction, canonical_digest
from core.principals import AGENT
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from policies import PolicyContext, evaluate
from policies.gate import policy_inputs


def approval_id_for(decision_id: str, action: str) -> str:
    """Returns the approval id of an action; derived, so a re-run opens nothing twice."""
    return "AP-" + canonical_digest({"decision": decision_id, "action": action})[:20]


def gate_status(
    classification: Classification, approval_ids: list[str], unknown: str
) -> CaseStatus:
    """Returns the case status after the gate: routed, pending approval, or executing."""
    if not approval_ids:
        return CaseStatus.executing
    if classification.cause == unknown or classification.routed_reason:
        return CaseStatus.routed
    return CaseStatus.pending_approval


def make_policy_gate(deps: AgentDeps) -> TriageNode:
    """Builds the policy_gate node."""

    async def policy_gate(state: TriageState) -> dict[str, Any]:
        case = Case.model_validate(state["case"])
        classification = Classification.model_validate(state["classification"])
        context = PolicyContext.from_classification(deps.policy, deps.taxonomy, classification)
        proposals = [ProposedAction.model_validate(p) for p in state.get("proposals", [])]
        decisions, approval_ids = [], []
        async with deps.db.transaction() as conn:
            existing = {
                a.approval_id
                for a in await approval_store.list_approvals(conn, case_id=case.case_id)
            }
            await audit.record(
                conn,
                case_id=case.case_id,
                actor=AGENT.label,
                kind="case.classified",
                cause=classification.cause,
                top_cause=classification.top_cause,
                confidence=classification.confidence,
                prediction_set=classification.prediction_set,
                classifier=classification.classifier,
                routed_reason=classification.routed_reason,
                fallback_reason=classification.fallback_reason,
            )
            for proposal in proposals:
                decision = evaluate(case, proposal, context)
                decisions.append(decision)
                await approval_store.save_decision(
                    conn, decision, policy_inputs(case, proposal, context)
                )
                await audit.record(
                    conn,
                    case_id=case.case_id,
                    actor="policy-gate",
                    kind="policy.decision",
                    **decision.model_dump(exclude={"case_id"}),
                )
                if decision.outcome != "needs_approval":
                    continue
                approval_id = approval_id_for(decision.decision_id, proposal.action)
                approval_ids.append(approval_id)
                if approval_id in existing:
                    continue
                await approval_store.create_approval(
                    conn,
                    approval_id=approval_id,
                    decision=decision,
                    params=proposal.params,
                    posts_to_erp=proposal.posts_to_erp,
                    proposed_by=state.get("submitted_by", AGENT.label),
                )
                await audit.record(
                    conn,
                    case_id=case.case_id,
                    actor=AGENT.label,
                    kind="approval.requested",
                    approval_id=approval_id,
                    action=proposal.action,
                    required_approvals=decision.required_approvals,
                    approver_role=decision.approver_role,
                )
            update = {
                "decisions": [d.model_dump(mode="json") for d in decisions],
                "approval_ids": approval_ids,
            }
            status = gate_status(classification, approval_ids, deps.taxonomy.unknown_cause)
            await case_store.save_result(conn, result_from_state({**state, **update}, status))  # type: ignore[typeddict-item]
            await audit.record(
                conn,
                case_id=case.case_id,
                actor=AGENT.label,
                kind="case.status",
                status=status.value,
            )
            opened = [
                a
                for a in await approval_store.list_approvals(conn, case_id=case.case_id)
                if a.approval_id in approval_ids and a.approval_id not in existing
            ]
            if opened:
                await deps.notifier.approvals_opened(conn, case, opened)
        return {**update, "status": status.value}

    return policy_gate
