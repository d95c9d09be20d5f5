"""Policy gate: evaluates every proposal, logs each decision and opens approvals, atomically."""

from __future__ import annotations

from typing import Any

from agent.deps import AgentDeps
from agent.results import result_from_state
from agent.state import TriageNode, TriageState, case_of
from core import case_status
from core.models import canonical_digest
from core.principals import AGENT
from core.results import CaseStatus, Classification, PolicyDecision, ProposedAction
from core.store import approvals as approval_store
from core.store import audit
from core.store.audit import AuditRow
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


def _classified_row(case_id: str, classification: Classification) -> AuditRow:
    return {
        "case_id": case_id,
        "actor": AGENT.label,
        "kind": "case.classified",
        "detail": {
            "cause": classification.cause,
            "top_cause": classification.top_cause,
            "confidence": classification.confidence,
            "prediction_set": classification.prediction_set,
            "classifier": classification.classifier,
            "model": classification.model,
            "routed_reason": classification.routed_reason,
            "fallback_reason": classification.fallback_reason,
            "flags": classification.flags,
            "prompt_hash": classification.prompt_hash,
        },
    }


def _decision_row(decision: PolicyDecision) -> AuditRow:
    return {
        "case_id": decision.case_id,
        "actor": "policy-gate",
        "kind": "policy.decision",
        "detail": decision.model_dump(exclude={"case_id"}),
    }


def make_policy_gate(deps: AgentDeps) -> TriageNode:
    """Builds the policy_gate node."""

    async def policy_gate(state: TriageState) -> dict[str, Any]:
        case = case_of(state)
        classification = Classification.model_validate(state["classification"])
        context = PolicyContext.from_classification(deps.policy, deps.taxonomy, classification)
        proposals = [ProposedAction.model_validate(p) for p in state.get("proposals", [])]
        evaluated = [(p, evaluate(case, p, context)) for p in proposals]
        waiting = [(p, d) for p, d in evaluated if d.outcome == "needs_approval"]
        approval_ids = [approval_id_for(d.decision_id, p.action) for p, d in waiting]
        update: dict[str, Any] = {
            "decisions": [d.model_dump(mode="json") for _, d in evaluated],
            "approval_ids": approval_ids,
        }
        status = gate_status(classification, approval_ids, deps.taxonomy.unknown_cause)
        rows: list[AuditRow] = [_classified_row(case.case_id, classification)]
        rows += [_decision_row(d) for _, d in evaluated]
        async with deps.db.transaction() as conn:
            existing = {
                a.approval_id
                for a in await approval_store.list_approvals(conn, case_id=case.case_id)
            }
            await approval_store.save_decisions(
                conn, [(d, policy_inputs(case, p, context)) for p, d in evaluated]
            )
            opened = []
            for (proposal, decision), approval_id in zip(waiting, approval_ids, strict=True):
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
                opened.append(approval_id)
                rows.append(
                    {
                        "case_id": case.case_id,
                        "actor": AGENT.label,
                        "kind": "approval.requested",
                        "detail": {
                            "approval_id": approval_id,
                            "action": proposal.action,
                            "required_approvals": decision.required_approvals,
                            "approver_role": decision.approver_role,
                            "params": proposal.params,
                            "provenance": {
                                name: source.audit_form()
                                for name, source in proposal.provenance.items()
                            },
                        },
                    }
                )
            await audit.record_many(conn, rows)
            full: TriageState = {**state, **update}  # type: ignore[typeddict-item]
            await case_status.move(
                conn,
                case.case_id,
                status,
                actor=AGENT.label,
                result=result_from_state(full, status),
            )
            if opened:
                records = await approval_store.list_approvals(conn, case_id=case.case_id)
                await deps.notifier.approvals_opened(
                    conn, case, [r for r in records if r.approval_id in opened]
                )
        return {**update, "status": status.value}

    return policy_gate
