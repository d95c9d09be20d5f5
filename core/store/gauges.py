"""The counts behind the metrics' gauges, read at scrape time in portable SQLAlchemy Core."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.approvals import ApprovalStatus
from core.results import CaseStatus
from core.store.db import utcnow
from core.store.outbox import OutboxStatus
from core.store.tables import approvals, cases, outbox

_SETTLED = (CaseStatus.resolved.value, CaseStatus.rejected.value)


@dataclass(frozen=True)
class StoreGauges:
    """What the store holds right now, as the metrics report it."""

    cases: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, cause)
    pending_approvals: int = 0
    sla_breaches: int = 0
    outbox_pending: dict[str, int] = field(default_factory=dict)  # by kind
    dead_letters: dict[str, int] = field(default_factory=dict)  # by kind


async def read_gauges(conn: AsyncConnection) -> StoreGauges:
    """Returns the current counts: cases by status and cause, approvals, breaches and the outbox."""
    by_case = await conn.execute(
        select(cases.c.status, cases.c.cause, func.count()).group_by(cases.c.status, cases.c.cause)
    )
    pending = await conn.scalar(
        select(func.count())
        .select_from(approvals)
        .where(approvals.c.status == ApprovalStatus.pending.value)
    )
    breaches = await conn.scalar(
        select(func.count())
        .select_from(cases)
        .where(cases.c.sla_due_at < utcnow(), cases.c.status.not_in(_SETTLED))
    )
    by_outbox = await conn.execute(
        select(outbox.c.status, outbox.c.kind, func.count())
        .where(outbox.c.status.in_([OutboxStatus.pending.value, OutboxStatus.dead.value]))
        .group_by(outbox.c.status, outbox.c.kind)
    )
    queued: dict[str, dict[str, int]] = {
        OutboxStatus.pending.value: {},
        OutboxStatus.dead.value: {},
    }
    for status, kind, count in by_outbox:
        queued[status][kind] = count
    return StoreGauges(
        cases={(status, cause or "none"): count for status, cause, count in by_case},
        pending_approvals=pending or 0,
        sla_breaches=breaches or 0,
        outbox_pending=queued[OutboxStatus.pending.value],
        dead_letters=queued[OutboxStatus.dead.value],
    )
