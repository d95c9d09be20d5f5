"""Read-only queries behind the dashboard, in portable SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.store.db import as_utc, utcnow
from core.store.tables import approval_votes, approvals, cases

# Bucketing by day happens in Python: date functions differ between SQLite and PostgreSQL.
MAX_ROWS = 50_000


@dataclass(frozen=True)
class CaseFact:
    """The columns of one case that the dashboard aggregates."""

    case_id: str
    workflow: str
    site: str
    status: str
    cause: str | None
    confidence: float | None
    corrected_cause: str | None
    sla_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    detected_at: datetime | None = None  # when the orchestrator saw the stall, from the body


@dataclass(frozen=True)
class ApprovalTiming:
    """When an approval opened and when it was decided."""

    case_id: str
    status: str
    created_at: datetime
    decided_at: datetime | None


async def case_facts(conn: AsyncConnection, since: datetime) -> list[CaseFact]:
    """Returns the aggregated columns of cases created since a moment, oldest first."""
    query = (
        select(
            cases.c.case_id,
            cases.c.workflow,
            cases.c.site,
            cases.c.status,
            cases.c.cause,
            cases.c.confidence,
            cases.c.corrected_cause,
            cases.c.sla_due_at,
            cases.c.created_at,
            cases.c.updated_at,
            # A JSON path is portable SQLAlchemy: JSON_EXTRACT on SQLite, ->> on PostgreSQL.
            cases.c.body["detected_at"].as_string().label("detected_at"),
        )
        .where(cases.c.created_at >= since)
        .order_by(cases.c.created_at)
        .limit(MAX_ROWS)
    )
    rows = (await conn.execute(query)).mappings().all()
    return [
        CaseFact(
            **{k: row[k] for k in ("case_id", "workflow", "site", "status", "cause")},
            confidence=row["confidence"],
            corrected_cause=row["corrected_cause"],
            sla_due_at=as_utc(row["sla_due_at"]),
            created_at=as_utc(row["created_at"]) or utcnow(),
            updated_at=as_utc(row["updated_at"]) or utcnow(),
            detected_at=_instant(row["detected_at"]),
        )
        for row in rows
    ]


def _instant(text: str | None) -> datetime | None:
    """Parses a stored RFC 3339 time; a body the model wrote always has one, old rows may not."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment and moment.tzinfo else as_utc(moment)


async def approval_timings(conn: AsyncConnection, since: datetime) -> list[ApprovalTiming]:
    """Returns every approval opened since a moment, with its decision time."""
    query = (
        select(
            approvals.c.case_id, approvals.c.status, approvals.c.created_at, approvals.c.decided_at
        )
        .where(approvals.c.created_at >= since)
        .order_by(approvals.c.created_at)
        .limit(MAX_ROWS)
    )
    rows = (await conn.execute(query)).all()
    return [
        ApprovalTiming(case_id, status, as_utc(created) or utcnow(), as_utc(decided))
        for case_id, status, created, decided in rows
    ]


async def touched_case_ids(conn: AsyncConnection, since: datetime) -> set[str]:
    """Returns the cases on which a person cast at least one vote since a moment."""
    query = (
        select(approvals.c.case_id)
        .join(approval_votes, approval_votes.c.approval_id == approvals.c.approval_id)
        .where(approval_votes.c.actor_kind == "person", approval_votes.c.at >= since)
        .distinct()
    )
    return {case_id for (case_id,) in await conn.execute(query)}
