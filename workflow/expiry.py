"""Approval expiry: a pending approval older than the policy's limit expires and routes its case.

This is a domain rule, so it runs in the worker whether or not anyone is told through Slack.
An expired approval is never resumed into execution (`TriageService.resume` refuses it); the
case waits, routed, for a person.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from agent.deps import ApprovalNotifier
from core import case_status
from core.approvals import ApprovalRecord, ApprovalStatus
from core.results import CaseStatus
from core.store import approvals as approval_store
from core.store import audit
from core.store.db import Database, utcnow

ACTOR = "approval-expiry"


class ApprovalExpiry:
    """Expires pending approvals older than `hours` (the policy's approval_expiry_hours), once each."""

    def __init__(self, db: Database, notifier: ApprovalNotifier, hours: float) -> None:
        self.db = db
        self.notifier = notifier
        self.hours = hours

    def is_due(self, record: ApprovalRecord, now: datetime) -> bool:
        """Tells whether an approval has been pending for the expiry period or longer at `now`."""
        return now >= record.created_at + timedelta(hours=self.hours)

    async def expire_due(self, now: datetime | None = None) -> int:
        """Expires every due pending approval at `now` (default: the clock); returns how many."""
        moment = now or utcnow()
        async with self.db.transaction() as conn:
            pending = await approval_store.list_approvals(conn, status=ApprovalStatus.pending.value)
        expired = 0
        for record in pending:
            if self.is_due(record, moment):
                async with self.db.transaction() as conn:
                    expired += await self._expire(conn, record)
        return expired

    async def _expire(self, conn: AsyncConnection, record: ApprovalRecord) -> int:
        """Marks one approval expired and routes its case; returns 0 when a decision came first."""
        # The case lock comes first, as in the review desk: one lock order, so no deadlock, and a
        # reviewer's decision on this case either commits before us or sees the approval expired.
        current = await case_status.lock(conn, record.case_id)
        moved = await approval_store.set_approval_status(
            conn, record.approval_id, ApprovalStatus.expired, expect=ApprovalStatus.pending
        )
        if not moved:
            return 0
        await audit.record(
            conn,
            case_id=record.case_id,
            actor=ACTOR,
            kind="approval.expired",
            approval_id=record.approval_id,
            action=record.action,
            expiry_hours=self.hours,
        )
        if case_status.allowed(current, CaseStatus.routed):
            await case_status.move(conn, record.case_id, CaseStatus.routed, actor=ACTOR)
            await self.notifier.case_changed(conn, record.case_id, CaseStatus.routed.value)
        return 1
