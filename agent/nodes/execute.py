"""Execute: runs automatic actions when the gate decides, and approved ones after the interrupt.

Each action is audited as started before its side effect and as finished after it, so that an
action performed just before a crash is never missing from the audit; a re-run after the crash
finds it done through its idempotency key. ERP postings are not run here: the outbox delivers
them once their approval is complete.
"""

from __future__ import annotations

from typing import Any, Literal

from agent.deps import AgentDeps
from agent.state import TriageNode, TriageState
from core.approvals import ApprovalRecord, ApprovalStatus
from core.errors import IntegrationError
from core.results import PolicyDecision, ProposedAction
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.audit import AuditRow
from tools.actions.base import ActionRequest

Phase = Literal["automatic", "approved"]


def _automatic(state: TriageState, deps: AgentDeps) -> list[ActionRequest]:
    case_id = state["case"]["case_id"]
    proposals = {p["action"]: ProposedAction.model_validate(p) for p in state.get("proposals", [])}
    requests = []
    for raw in state.get("decisions", []):
        decision = PolicyDecision.model_validate(raw)
        proposal = proposals.get(decision.action)
        if decision.outcome == "auto" and proposal and not proposal.posts_to_erp:
            key = proposal.key(case_id)
            requests.append(
                _request(deps, case_id, proposal.action, proposal.params, key, "policy:auto")
            )
    return requests


def _approved(
    state: TriageState, deps: AgentDeps, records: list[ApprovalRecord]
) -> list[ActionRequest]:
    case_id = state["case"]["case_id"]
    requests = []
    for record in records:
        if record.status is not ApprovalStatus.approved or record.posts_to_erp:
            continue
        who = "person:" + ",".join(record.approvers())
        key = ProposedAction(action=record.action, posts_to_erp=False).key(case_id)
        requests.append(_request(deps, case_id, record.action, record.params, key, who))
    return requests


def _request(
    deps: AgentDeps, case_id: str, action: str, params: dict[str, Any], key: str, who: str
) -> ActionRequest:
    return ActionRequest.of(
        deps.taxonomy.action(action),
        case_id=case_id,
        params=params,
        idempotency_key=key,
        authorized_by=who,
    )


def _row(request: ActionRequest, kind: str, **detail: object) -> AuditRow:
    return {
        "case_id": request.case_id,
        "actor": "executor",
        "kind": kind,
        "detail": {
            "action": request.action,
            "authorized_by": request.authorized_by,
            "idempotency_key": request.idempotency_key,
            **detail,
        },
    }


async def run_actions(deps: AgentDeps, requests: list[ActionRequest]) -> list[str]:
    """Runs requests through the action tools, audited before and after; returns those that ran."""
    if not requests:
        return []
    async with deps.db.transaction() as conn:
        await audit.record_many(conn, [_row(r, "action.started") for r in requests])
    executed: list[str] = []
    rows: list[AuditRow] = []
    for request in requests:
        try:
            receipt = await deps.actions.run(request)
        except IntegrationError as exc:
            rows.append(_row(request, "action.failed", error=exc.message))
            continue
        executed.append(request.action)
        rows.append(
            _row(
                request,
                "action.executed",
                reference=receipt.reference,
                duplicate=receipt.duplicate,
            )
        )
    async with deps.db.transaction() as conn:
        await audit.record_many(conn, rows)
        await case_store.record_executed(conn, requests[0].case_id, executed)
    return executed


def make_execute(deps: AgentDeps, phase: Phase) -> TriageNode:
    """Builds the node that runs the automatic actions, or the approved ones."""

    async def execute(state: TriageState) -> dict[str, Any]:
        if phase == "automatic":
            return {"executed": await run_actions(deps, _automatic(state, deps))}
        async with deps.db.transaction() as conn:
            records = await approval_store.list_approvals(conn, case_id=state["case"]["case_id"])
        done = await run_actions(deps, _approved(state, deps, records))
        return {"executed": [*state.get("executed", []), *done]}

    return execute
