"""Slack SLA reminders on pending approvals: a reminder at 80% of the SLA, an escalation on breach.

Expiry is not here: it is a domain rule (workflow/expiry.py, hours from the policy file) and
runs without Slack. An approval past its expiry is left to it and never reminded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.approvals import ApprovalRecord, ApprovalStatus
from core.models import Case
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.db import Database, utcnow
from notify.slack.blocks import case_url, escalation_message, reminder_message
from notify.slack.notifier import SlackNotifier, enqueue_post, slack_key
from workflow.expiry import ApprovalExpiry

ACTOR = "sla-timer"


@dataclass
class SlaReport:
    """What one check did."""

    reminded: int = 0
    escalated: int = 0


def reminder_at(case: Case, record: ApprovalRecord, fraction: float) -> datetime | None:
    """Returns when the reminder is due: `fraction` of the way from detection to sla_due_at."""
    if case.sla_due_at is None:
        return None
    start = case.detected_at if case.detected_at < case.sla_due_at else record.created_at
    return start + (case.sla_due_at - start) * fraction


class SlackReminders:
    """Checks pending approvals against their case's SLA; every message goes via the outbox."""

    def __init__(self, db: Database, notifier: SlackNotifier, expiry: ApprovalExpiry) -> None:
        self.db = db
        self.notifier = notifier
        self.config = notifier.config
        self.expiry = expiry

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
        if self.expiry.is_due(record, now):
            return  # the worker's expiry job routes it; a reminder now would go stale at once
        case = (await case_store.get_case(conn, record.case_id)).case
        if case.sla_due_at is not None and now >= case.sla_due_at:
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
