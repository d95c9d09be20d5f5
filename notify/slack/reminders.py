"""SLA timers on pending approvals: a reminder at 80%, an escalation on breach, expiry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core import case_status
from core.approvals import ApprovalRecord, ApprovalStatus
from core.models import Case, CaseStatus
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.db import Database, utcnow
from notify.slack.blocks import case_url, escalation_message, reminder_message
from notify.slack.notifier import SlackNotifier, enqueue_post, slack_key

log = logging.getLogger(__name__)
ACTOR = "sla-timer"


@dataclass
class SlaReport:
    """What one check did."""

    reminded: int = 0
    escalated: int = 0
    expired: int = 0


def reminder_at(case: Case, record: ApprovalRecord, fraction: float) -> datetime | None:
    """Returns when the reminder is due: `fraction` of the way from detection to sla_due_at."""
    if case.sla_due_at is None:
        return None
    start = case.detected_at if case.detected_at < case.sla_due_at else record.created_at
    return start + (case.sla_due_at - start) * fraction


class SlaTimers:
    """Checks pending approvals against their SLA and expiry; every message goes via the outbox."""

    def __init__(self, db: Database, notifier: SlackNotifier) -> None:
        self.db = db
        self.notifier = notifier
        self.config = notifier.config

    async def check_sla(self, now: datetime | None = None) -> SlaReport:
        """Runs one round at `now` (default: the clock); safe to repeat, nothing is sent twice."""
        moment = now or utcnow()
        report = SlaReport()
        async with self.db.transaction() as conn:
            pending = await approval_store.list_approvals(conn, status=ApprovalStatus.pending.value)
        for record in pending:
            async with self.db.transaction() as conn:
                await self._check_one(conn, record, moment, report)
        return report

    async def _check_one(
        self, conn: AsyncConnection, record: ApprovalRecord, now: datetime, report: SlaReport
    ) -> None:
        case = (await case_store.get_case(conn, record.case_id)).case
        if now >= record.created_at + timedelta(hours=self.config.approval_expiry_hours):
            report.expired += await self._expire(conn, record)
        elif case.sla_due_at is not None and now >= case.sla_due_at:
            report.escalated += await self._announce(conn, case, record, escalate=True)
        else:
            due = reminder_at(case, record, self.config.reminder_fraction)
            if due is not None and now >= due:
                report.reminded += await self._announce(conn, case, record, escalate=False)

    async def _announce(
        self, conn: AsyncConnection, case: Case, record: ApprovalRecord, *, escalate: bool
    ) -> int:
        """Queues a reminder (or escalation) once per approval; returns 1 when it queued one."""
        kind = "escalation" if escalate else "reminder"
        build = escalation_message if escalate else reminder_message
        channel = (
            self.config.escalation_channel_for(case) if escalate else self.config.channel_for(case)
        )
        mention = self.config.mention_for(record.approver_role)
        text, blocks = build(
            case, record, mention, case_url(self.notifier.public_url, case.case_id)
        )
        queued = await enqueue_post(
            conn,
            case_id=case.case_id,
            action=f"slack.{kind}",
            key=slack_key(kind, record.approval_id),
            channel=channel or "",
            text=text,
            blocks=blocks,
        )
        if queued:
            await audit.record(
                conn,
                case_id=case.case_id,
                actor=ACTOR,
                kind=f"sla.{kind}",
                approval_id=record.approval_id,
                sla_due_at=case.sla_due_at.isoformat() if case.sla_due_at else None,
            )
        return int(queued)

    async def _expire(self, conn: AsyncConnection, record: ApprovalRecord) -> int:
        """Marks an approval expired and routes its case to a person; returns 1 when it did."""
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
            expiry_hours=self.config.approval_expiry_hours,
        )
        current = await case_status.lock(conn, record.case_id)
        if case_status.allowed(current, CaseStatus.routed):
            await case_status.move(conn, record.case_id, CaseStatus.routed, actor=ACTOR)
        await self.notifier.case_changed(conn, record.case_id, CaseStatus.routed.value)
        return 1

    async def run_forever(
        self, poll_s: float, stop: asyncio.Event, clock: Callable[[], datetime] = utcnow
    ) -> None:
        """Checks the timers every poll_s seconds until asked to stop."""
        while not stop.is_set():
            try:
                await self.check_sla(clock())
            except Exception:  # the loop must outlive a passing database error
                log.exception("SLA check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_s)
