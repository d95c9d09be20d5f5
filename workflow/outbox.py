"""The outbox: seal and enqueue a posting with its approval, then claim, deliver and settle it.

A posting's whole life is here. `queue_posting` runs inside the reviewer's transaction, so the
completed approval and its outbox row commit together. A worker later claims due rows under a
lease, delivers them (an ERP posting is re-authorised through the policy code first), and
settles the case. A row that keeps failing becomes a dead letter, which `replay` revives.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from core import case_status
from core.approvals import ApprovalRecord
from core.errors import IntegrationError, PolicyRefusal, RetryableIntegrationError
from core.faults import FaultPoints
from core.logs import bound_case
from core.models import canonical_digest
from core.results import CaseStatus, Posting, ProposedAction
from core.store import approvals as approval_store
from core.store import audit, events
from core.store import cases as case_store
from core.store import outbox as outbox_store
from core.store.db import Database, utcnow
from core.store.outbox import OutboxRow, OutboxStatus
from policies import PolicyConfig, authorize_posting
from policies.postings import ApprovedPosting
from tools.erp.base import ErpPoster

log = logging.getLogger(__name__)

RowHandler = Callable[[OutboxRow], Awaitable[dict[str, object]]]
ACTOR = "outbox"


async def queue_posting(
    conn: AsyncConnection, record: ApprovalRecord, policy: PolicyConfig
) -> None:
    """Seals a complete approval through the gate and commits its ERP row in the caller's transaction."""
    key = ProposedAction(action=record.action, posts_to_erp=True).key(record.case_id)
    posting = await _seal(conn, record, key, policy)
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
        approval_id=record.approval_id,
        action=record.action,
        idempotency_key=key,
    )


async def _seal(
    conn: AsyncConnection, record: ApprovalRecord, key: str, policy: PolicyConfig
) -> ApprovedPosting:
    """Has the policy code check a complete record against the case and seal its posting."""
    case = (await case_store.get_case(conn, record.case_id)).case
    return authorize_posting(
        record,
        idempotency_key=key,
        amount=case.amount.value if case.amount else 0.0,
        config=policy,
        case_currency=case.amount.currency if case.amount else None,
        now=case.detected_at,
    )


async def queue_resume(conn: AsyncConnection, case_id: str, decided: dict[str, str]) -> bool:
    """Commits a job to resume the case's graph once every approval is decided; once per outcome."""
    key = canonical_digest({"resume": case_id, "decided": decided})
    return await outbox_store.enqueue(
        conn,
        kind="resume",
        case_id=case_id,
        action="resume",
        idempotency_key=key,
        payload={"decided": decided},
    )


class Outbox:
    """Delivers claimed rows: ERP postings through the gate's seal, other kinds through handlers."""

    def __init__(
        self,
        db: Database,
        erp: ErpPoster,
        policy: PolicyConfig,
        *,
        worker_id: str,
        lease_s: float = 300.0,
        max_attempts: int = 8,
        max_backoff_s: float = 300.0,
        faults: FaultPoints | None = None,
    ) -> None:
        self.db = db
        self.erp = erp
        self.policy = policy
        self.worker_id = worker_id
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.max_backoff_s = max_backoff_s
        self.faults = faults or FaultPoints()
        self.handlers: dict[str, RowHandler] = {}

    def register(self, kind: str, handler: RowHandler) -> None:
        """Adds a delivery handler for another kind of row (Slack messages, case resumes)."""
        self.handlers[kind] = handler

    async def deliver_due(self, limit: int = 50, case_id: str | None = None) -> int:
        """Claims and delivers due rows (of one case, or all) until none is left; returns the count."""
        delivered = 0
        while True:
            async with self.db.transaction() as conn:
                rows = await outbox_store.claim(
                    conn, self.worker_id, lease_s=self.lease_s, limit=limit, case_id=case_id
                )
            if not rows:
                return delivered
            for row in rows:
                with bound_case(row.case_id):
                    delivered += await self._deliver_one(
                        row
                    )  # may queue more: a resume closes a case

    async def replay(self, actor: str, outbox_id: int | None = None) -> list[OutboxRow]:
        """Puts dead letters back in the queue (one, or all) and audits each replay."""
        async with self.db.transaction() as conn:
            if outbox_id is not None:
                await outbox_store.get(conn, outbox_id)  # NotFound names a wrong id
            revived = await outbox_store.revive(conn, outbox_id)
            for row in revived:
                await audit.record(
                    conn,
                    case_id=row.case_id,
                    actor=actor,
                    kind="outbox.replayed",
                    outbox_id=row.outbox_id,
                    action=row.action,
                    idempotency_key=row.idempotency_key,
                )
                if row.kind == "erp":
                    await _reopen(conn, row.case_id, actor)
        return revived

    async def _post_to_erp(self, row: OutboxRow) -> dict[str, object]:
        async with self.db.transaction() as conn:
            record = await approval_store.get_approval(conn, row.approval_id or "")
            # The record is read again and re-checked: a rejected or voided approval never posts.
            posting = await _seal(conn, record, row.idempotency_key, self.policy)
        receipt = await self.erp.post(posting)
        self.faults.reach("outbox.posted", row.case_id)
        return {
            "adapter": self.erp.name,
            "reference": receipt.reference,
            "attempts": receipt.attempts,
            "attempt_errors": receipt.attempt_errors,
            "duplicate": receipt.duplicate,
            "approvers": list(posting.approvers),
        }

    async def _deliver_one(self, row: OutboxRow) -> int:
        attempts = row.attempts + 1
        try:
            if row.kind == "erp":
                detail = await self._post_to_erp(row)
            else:
                detail = await self.handlers[row.kind](row)
        except (IntegrationError, PolicyRefusal, KeyError) as exc:
            await self._record_failure(row, attempts, exc)
            return 0
        async with self.db.transaction() as conn:
            if row.kind == "erp":
                await case_status.lock(conn, row.case_id)  # settle after close, never beside it
            if not await outbox_store.mark_delivered(conn, row.outbox_id, attempts, self.worker_id):
                log.warning("outbox row %s was reclaimed before it settled", row.outbox_id)
                return 0
            await audit.record(
                conn,
                case_id=row.case_id,
                actor="dispatcher",
                kind=f"{row.kind}.delivered",
                action=row.action,
                idempotency_key=row.idempotency_key,
                outbox_attempt=attempts,
                **detail,
            )
            if row.kind == "erp":
                await _settle(conn, row, detail)
        return 1

    async def _record_failure(self, row: OutboxRow, attempts: int, exc: Exception) -> None:
        retryable = isinstance(exc, RetryableIntegrationError)
        dead = not retryable or attempts >= self.max_attempts
        retry_in = None if dead else min(self.max_backoff_s, 2.0**attempts)
        if isinstance(exc, RetryableIntegrationError) and exc.retry_after and retry_in:
            retry_in = max(retry_in, exc.retry_after)
        message = getattr(exc, "message", str(exc))
        # The error text stays in the audit: an ERP's answer may quote the posting it refused.
        log.warning(
            "outbox row %s (%s %s) failed on attempt %d with %s; %s",
            row.outbox_id,
            row.kind,
            row.action,
            attempts,
            type(exc).__name__,
            "dead-lettered" if dead else f"retrying in {retry_in:.0f} s",
        )
        async with self.db.transaction() as conn:
            held = await outbox_store.mark_failed(
                conn,
                row.outbox_id,
                worker=self.worker_id,
                attempts=attempts,
                error=message,
                retry_in_s=retry_in,
            )
            if not held:
                return
            # A dead letter has no next attempt, so only a scheduled retry says when.
            await audit.record(
                conn,
                case_id=row.case_id,
                actor="dispatcher",
                kind=f"{row.kind}.dead_lettered" if dead else f"{row.kind}.retry_scheduled",
                action=row.action,
                idempotency_key=row.idempotency_key,
                outbox_attempt=attempts,
                error=message,
                **({} if retry_in is None else {"retry_in_s": retry_in}),
            )
            if dead and row.kind == "erp":
                await case_status.move(conn, row.case_id, CaseStatus.failed, actor="dispatcher")


async def _settle(conn: AsyncConnection, row: OutboxRow, detail: dict[str, object]) -> None:
    """Shows the delivered posting on the case and in its feed; resolves a case that waited on it."""
    reference, approvers = detail.get("reference"), detail.get("approvers")
    posting = Posting(
        action=row.action,
        idempotency_key=row.idempotency_key,
        reference=None if reference is None else str(reference),
        posted_at=utcnow(),
        approvers=[str(a) for a in approvers] if isinstance(approvers, list) else [],
        approval_id=row.approval_id,
    )
    await case_store.record_posted(conn, row.case_id, posting)
    await events.posted(conn, row.case_id, row.action, str(reference))
    status, _amount, _corrected = await case_store.case_facts(conn, row.case_id)
    if status not in (CaseStatus.executing, CaseStatus.failed):
        return  # the graph's close settles a case that has not reached it yet
    pending = await outbox_store.rows(conn, case_id=row.case_id)
    if any(r.kind == "erp" and r.status is not OutboxStatus.delivered for r in pending):
        return
    await case_status.move(conn, row.case_id, CaseStatus.resolved, actor="dispatcher")


async def _reopen(conn: AsyncConnection, case_id: str, actor: str) -> None:
    """Moves a case that failed on a dead letter back to executing while the letter is retried."""
    status, _amount, _corrected = await case_store.case_facts(conn, case_id)
    if status is CaseStatus.failed:
        await case_status.move(conn, case_id, CaseStatus.executing, actor=actor)
