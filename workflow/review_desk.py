"""People's decisions on approvals: approve, reject or edit, serialised per case and gate-checked.

A decision is one transaction. It locks the case row first, so racing decisions on one case
(two processes, or approve against reject) run one after the other: the second sees the first's
outcome and gets a 409. The completed approval, its outbox row and the job that resumes the
case commit together; the decision returns then, and a worker posts and resumes afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from agent.deps import AgentDeps
from core import case_status
from core.approvals import ApprovalRecord, ApprovalStatus, VoteDecision
from core.errors import Conflict, InvalidInput, PolicyRefusal
from core.logs import bound_case
from core.parameters import validate_params
from core.parameters.provenance import ParamSource
from core.principals import Principal
from core.results import Classification, ProposedAction
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.db import utcnow
from core.telemetry import NoTelemetry, Telemetry
from policies import PolicyContext, check_vote, evaluate
from policies.gate import policy_inputs
from policies.votes import approvals_missing
from workflow.outbox import queue_posting, queue_resume

log = logging.getLogger(__name__)


class ReviewDesk:
    """Applies reviewers' decisions and queues the case's resumption once nothing is pending."""

    def __init__(
        self,
        deps: AgentDeps,
        wake: Callable[[], None] = lambda: None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.deps = deps
        self.wake = wake
        self.telemetry = telemetry or NoTelemetry()

    async def decide(
        self,
        approval_id: str,
        voter: Principal,
        decision: VoteDecision,
        reason: str | None = None,
        params: dict[str, Any] | None = None,
        *,
        seen_params: dict[str, Any] | None = None,
    ) -> ApprovalRecord:
        """Records one decision; raises PolicyRefusal (audited) when the gate refuses the voter.

        With `seen_params`, the decision stands only if the parameters are still those the
        person confirmed; an edit in between is a Conflict.
        """
        try:
            async with self.deps.db.transaction() as conn:
                record = await approval_store.get_approval(conn, approval_id)
                await case_status.lock(conn, record.case_id)
                record = await approval_store.get_approval(conn, approval_id)  # as locked
                if seen_params is not None and record.params != seen_params:
                    raise Conflict("the parameters changed since you confirmed them")
                check_vote(record, voter, decision, reason)
                if decision == "edit":
                    await self._edit(conn, record, voter, reason, params)
                elif decision == "reject":
                    await self._reject(conn, record, voter, reason)
                else:
                    await self._approve(conn, record, voter, reason)
                await self._queue_resume_when_decided(conn, record.case_id)
                decided = await approval_store.get_approval(conn, approval_id)
        except PolicyRefusal as refusal:
            await self._audit_refusal(approval_id, voter, decision, refusal)
            raise
        self.wake()
        if decided.status is not ApprovalStatus.pending:  # this decision completed it
            finished = decided.decided_at or utcnow()
            self.telemetry.approval_completed(
                decided.status.value, (finished - decided.created_at).total_seconds()
            )
        return decided

    async def _queue_resume_when_decided(self, conn: AsyncConnection, case_id: str) -> None:
        records = await approval_store.list_approvals(conn, case_id=case_id)
        if records and all(r.status is not ApprovalStatus.pending for r in records):
            await queue_resume(conn, case_id, {r.approval_id: r.status.value for r in records})

    async def _audit_refusal(
        self, approval_id: str, voter: Principal, decision: str, refusal: PolicyRefusal
    ) -> None:
        async with self.deps.db.transaction() as conn:
            record = await approval_store.get_approval(conn, approval_id)
            with bound_case(record.case_id):
                log.info(
                    "%s refused on approval %s by rule %s", decision, approval_id, refusal.rule
                )
            await audit.record(
                conn,
                case_id=record.case_id,
                actor=voter.label,
                kind="approval.refused",
                approval_id=approval_id,
                decision=decision,
                rule=refusal.rule,
                reason=refusal.message,
            )

    async def _settle_status(
        self, conn: AsyncConnection, record: ApprovalRecord, status: ApprovalStatus
    ) -> None:
        """Moves a pending approval to its outcome; the case lock makes a lost race impossible."""
        moved = await approval_store.set_approval_status(
            conn, record.approval_id, status, expect=ApprovalStatus.pending
        )
        if not moved:
            raise Conflict(f"approval {record.approval_id} was decided by someone else")

    async def _approve(
        self, conn: AsyncConnection, record: ApprovalRecord, voter: Principal, reason: str | None
    ) -> None:
        await self._vote(conn, record, voter, "approve", reason)
        updated = await approval_store.get_approval(conn, record.approval_id)
        if approvals_missing(updated) > 0:
            return
        await self._settle_status(conn, record, ApprovalStatus.approved)
        await audit.record(
            conn,
            case_id=record.case_id,
            actor="policy-gate",
            kind="approval.complete",
            approval_id=record.approval_id,
            approvers=updated.approvers(),
        )
        if record.posts_to_erp:
            completed = await approval_store.get_approval(conn, record.approval_id)
            await queue_posting(conn, completed, self.deps.policy)

    async def _reject(
        self, conn: AsyncConnection, record: ApprovalRecord, voter: Principal, reason: str | None
    ) -> None:
        await self._vote(conn, record, voter, "reject", reason)
        await self._settle_status(conn, record, ApprovalStatus.rejected)

    async def _vote(
        self,
        conn: AsyncConnection,
        record: ApprovalRecord,
        voter: Principal,
        decision: Literal["approve", "reject"],
        reason: str | None,
    ) -> None:
        """Records a person's approving or rejecting vote and audits it with its reason."""
        await approval_store.add_vote(conn, record.approval_id, voter, decision, reason, None)
        await audit.record(
            conn,
            case_id=record.case_id,
            actor=voter.label,
            kind="approval.approved" if decision == "approve" else "approval.rejected",
            approval_id=record.approval_id,
            action=record.action,
            reason=reason,
        )

    async def _edit(
        self,
        conn: AsyncConnection,
        record: ApprovalRecord,
        voter: Principal,
        reason: str | None,
        params: dict[str, Any] | None,
    ) -> None:
        if not isinstance(params, dict) or not params:
            raise InvalidInput("an edit needs the new parameters", field="params")
        stored = await case_store.get_case(conn, record.case_id)
        # A person's edit meets the action's schema as any other source does: a 422 names the field.
        spec = self.deps.taxonomy.action(record.action)
        new_params = validate_params(spec, {**record.params, **params}, now=stored.case.detected_at)
        raw = stored.result.classification if stored.result else None
        if raw is None:
            raise InvalidInput("the case has no classification to re-check", field="approval_id")
        context = PolicyContext.from_classification(
            self.deps.policy, self.deps.taxonomy, Classification.model_validate(raw)
        )
        proposal = ProposedAction(
            action=record.action, params=new_params, posts_to_erp=record.posts_to_erp
        )
        decision = evaluate(stored.case, proposal, context)
        await approval_store.save_decision(
            conn, decision, policy_inputs(stored.case, proposal, context)
        )
        await approval_store.add_vote(conn, record.approval_id, voter, "edit", reason, params)
        await approval_store.apply_edit(
            conn,
            record.approval_id,
            params=new_params,
            decision=decision,
            editor=voter.name,
            edited_by=record.edited_by,
        )
        await audit.record(
            conn,
            case_id=record.case_id,
            actor=voter.label,
            kind="approval.edited",
            approval_id=record.approval_id,
            before=record.params,
            after=new_params,
            provenance={
                name: ParamSource(kind="person", by=voter.name, span=str(typed)[:200]).audit_form()
                for name, typed in params.items()
            },
            reason=reason,
            outcome=decision.outcome,
            required_approvals=decision.required_approvals,
            rules_fired=decision.rules_fired,
        )
        if decision.outcome == "deny":
            await self._settle_status(conn, record, ApprovalStatus.rejected)
