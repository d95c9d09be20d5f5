"""Which closed cases' checkpoints are old enough to delete, and which were deleted already."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.results import CaseStatus
from core.store.tables import audit, cases

PRUNED = "checkpoint.pruned"
CLOSED = (CaseStatus.resolved.value, CaseStatus.rejected.value)


async def prunable_cases(conn: AsyncConnection, closed_before: datetime, limit: int) -> list[str]:
    """Returns resolved or rejected cases last changed before a moment whose checkpoint remains."""
    # The audit row written on pruning marks the case done, so no column needs adding.
    already = exists().where(audit.c.case_id == cases.c.case_id, audit.c.kind == PRUNED)
    query = (
        select(cases.c.case_id)
        .where(cases.c.status.in_(CLOSED), cases.c.updated_at < closed_before, ~already)
        .order_by(cases.c.updated_at)
        .limit(limit)
    )
    return list((await conn.scalars(query)).all())
