"""Execute: runs automatic and approved actions through the tools and delivers ERP postings."""

from __future__ import annotations

from typing import Any

from agent.deps import AgentDeps
from agent.state import TriageNode, TriageState
from core.approvals import ApprovalStatus
from core.errors import IntegrationError
from core.models import PolicyDecision, ProposedAction
from core.store import approvals as approval_store
from core.store import audit
from core.store import outbox as outbox_store
from tools.actions.base import ActionRequest


def _requests(state: TriageState, deps: AgentDeps, approved: list[Any]) -> list[ActionRequest]:
    case_id = state["case"]["case_id"]
    proposals = {p["action"]: ProposedAction.model_validate(p) for p in state.get("proposals", [])}
    requests = []
    for raw in state.get("decisions", []):
        decision = PolicyDecision.model_validate(raw)
        proposal = proposals.get(decision.action)
        if decision.outcome == "auto" and proposal and not proposal.posts_to_erp:
            requests.append(
                _request(
                    deps,
                    case_id,
                    proposal.action,
                    proposal.params,
                    proposal.key(case_id),
                    "policy:auto",
                )
            )
    for record in approved:
        if record.posts_to_erp:
            continue
        who = "person:" + ",".join(record.approvers())
        key = ProposedAction(action=record.action, posts_to_erp=False).key(case_id)
        requests.append(_request(deps, case_id, record.action, record.params, key, who))
    return requests


def _request(
    deps: AgentDeps, case_id: str, action: str, params: dict[str, Any], key: str, who: str
) -> ActionRequest:
    spec = deps.taxonomy.action(action)
    return ActionRequest(
        case_id=case_id,
        action=action,
        target=spec.target,
        params=params,
        idempotency_key=key,
        authorized_by=who,
        posts_to_erp=spec.posts_to_erp,
    )


def make_execute(deps: AgentDeps) -> TriageNode:
    """Builds the execute node."""

    async def execute(state: TriageState) -> dict[str, Any]:
        case_id = state["case"]["case_id"]
        async with deps.db.transaction() as conn:
            records = await approval_store.list_approvals(conn, case_id=case_id)
        approved = [r for r in records if r.status is ApprovalStatus.approved]
        executed: list[str] = []
        rows: list[dict[str, Any]] = []
        for request in _requests(state, deps, approved):
            detail: dict[str, Any] = {
                "action": request.action,
                "authorized_by": request.authorized_by,
            }
            try:
                receipt = await deps.actions.run(request)
            except IntegrationError as exc:
                rows.append(
                    {
                        "case_id": case_id,
                        "actor": "executor",
                        "kind": "action.failed",
                        "detail": {**detail, "error": exc.message},
                    }
                )
                continue
            executed.append(request.action)
            rows.append(
                {
                    "case_id": case_id,
                    "actor": "executor",
                    "kind": "action.executed",
                    "detail": {
                        **detail,
                        "idempotency_key": request.idempotency_key,
                        "reference": receipt.reference,
                        "duplicate": receipt.duplicate,
                    },
                }
            )
        if any(r.posts_to_erp for r in approved):
            await deps.delivery.deliver(case_id)
        async with deps.db.transaction() as conn:
            await audit.record_many(conn, rows)
            erp_rows = await outbox_store.rows(conn, case_id=case_id)
        delivered = outbox_store.OutboxStatus.delivered
        executed += [r.action for r in erp_rows if r.kind == "erp" and r.status == delivered]
        return {"executed": executed}

    return execute
