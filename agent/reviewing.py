"""People's decisions on approvals: approve, reject or edit, each checked by the policy gate."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agent.deps import AgentDeps
from agent.service import TriageService
from core.approvals import ApprovalRecord, ApprovalStatus, VoteDecision
from core.errors import InvalidInput, PolicyRefusal
from core.models import Classification, ProposedAction
from core.principals import Principal
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store import outbox as outbox_store
from policies import PolicyContext, authorize_posting, check_vote, evaluate
from policies.gate import policy_inputs
from policies.votes import approvals_missing


class ReviewDesk:
    """Applies reviewers' decisions and resumes the case once nothing is left pending."""

    def __init__(self, deps: AgentDeps, service: TriageService) -> None:
        self.deps = deps
        self.service = service

    async def decide(
        self,
        approval_id: str,
        voter: Principal,
        decision: VoteDecision,
        reason: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> ApprovalRecord:
        """Records one decision; raises PolicyRefusal (audited) when the gate refuses the voter."""
        try:
            async with self.deps.db.transaction() as conn:
                record = await approval_store.get_approval(conn, approval_id)
                check_vote(record, voter, decision, reason)
                if decision == "edit":
                    await self._edit(conn, record, voter, reason, params)
                elif decision == "reject":
                    await self._reject(conn, record, voter, reason)
                else:
                    await self._approve(conn, record, voter, reason)
                pending = await approval_store.list_approvals(
                    conn, case_id=record.case_id, status=ApprovalStatus.pending.value
                )
        except PolicyRefusal as refusal:
            await self._audit_refusal(approval_id, voter, decision, refusal)
            raise
        if not pending:
            await self.service.resume(record.case_id)
        async with self.deps.db.transaction() as conn:
            return await approval_store.get_approval(conn, approval_id)

    async def _audit_refusal(
        self, approval_id: str, voter: Principal, decision: str, refusal: PolicyRefusal
    ) -> None:
        async with self.deps.db.transaction() as conn:
            record = await approval_store.get_approval(conn, approval_id)
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

    async def _approve(
        self, conn: AsyncConnection, record: ApprovalRecord, voter: Principal, reason: str | None
    ) -> None:
        await approval_store.add_vote(conn, record.approval_id, voter, "approve", reason, None)
        await audit.record(
            conn,
            case_id=record.case_id,
            actor=voter.label,
            kind="approval.approved",
            approval_id=record.approval_id,
            action=record.action,
            reason=reason,
        )
        updated = await approval_store.get_approval(conn, record.approval_id)
        if approvals_missing(updated) > 0:
            return
        await approval_store.set_approval_status(
            conn, record.approval_id, ApprovalStatus.approved, expect=ApprovalStatus.pending
        )
        await audit.record(
            conn,
            case_id=record.case_id,
            actor="policy-gate",
            kind="approval.complete",
            approval_id=record.approval_id,
            approvers=updated.approvers(),
        )
        if record.posts_to_erp:
            await self._queue_posting(conn, record.approval_id)

    async def _queue_posting(self, conn: AsyncConnection, approval_id: str) -> None:
        """Checks the complete record through the gate and commits its outbox row with the approval."""
        record = await approval_store.get_approval(conn, approval_id)
        _status, case_amount, _corrected = await case_store.case_facts(conn, record.case_id)
        key = ProposedAction(action=record.action, posts_to_erp=True).key(record.case_id)
        # authorize_posting takes the larger of this and any amount in the parameters.
        posting = authorize_posting(
            record, idempotency_key=key, amount=case_amount, config=self.deps.policy
        )
        await outbox_store.enqueue(
            conn,
            kind="erp",
            case_id=record.case_id,
            action=record.action,
            idempotency_key=key,
            payload=posting.payload(),
            approval_id=record.approval_id,
        )
        await audit.record(
            conn,
            case_id=record.case_id,
            actor="policy-gate",
            kind="posting.queued",
            approval_id=approval_id,
            action=record.action,
            idempotency_key=key,
        )

    async def _reject(
        self, conn: AsyncConnection, record: ApprovalRecord, voter: Principal, reason: str | None
    ) -> None:
        await approval_store.add_vote(conn, record.approval_id, voter, "reject", reason, None)
        await approval_store.set_approval_status(
            conn, record.approval_id, ApprovalStatus.rejected, expect=ApprovalStatus.pending
        )
        await audit.record(
            conn,
            case_id=record.case_id,
            actor=voter.label,
            kind="approval.rejected",
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
        new_params = {**record.params, **params}
        stored = await case_store.get_case(conn, record.case_id)
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
            reason=reason,
            outcome=decision.outcome,
            required_approvals=decision.required_approvals,
            rules_fired=decision.rules_fired,
        )
        if decision.outcome == "deny":
            await approval_store.set_approval_status(
                conn, record.approval_id, ApprovalStatus.rejected, expect=ApprovalStatus.pending
            )
