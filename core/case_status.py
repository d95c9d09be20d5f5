"""The one writer of a case's status: the table of allowed transitions and the function that moves.

| from             | to                                                            |
|------------------|---------------------------------------------------------------|
| triaging         | pending_approval, routed, executing, resolved, rejected, failed |
| pending_approval | routed, executing, resolved, rejected, failed                 |
| routed           | executing, resolved, rejected, failed                         |
| executing        | resolved, rejected, failed                                    |
| failed           | executing, resolved (a dead letter replayed and delivered)    |
| resolved         | (terminal)                                                    |
| rejected         | (terminal)                                                    |

Moving a case to the status it already has is allowed and changes nothing but its result: a
node re-run after a crash reaches the same status again. Every move takes the case row's lock
first, so two processes moving one case are serialised by the database. Every change also
appends its event to the case feed (core.store.events) in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import Conflict, NotFound
from core.results import CaseStatus, TriageResult
from core.store import audit, events
from core.store.db import utcnow
from core.store.tables import cases

S = CaseStatus
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.triaging: frozenset(
        {S.pending_approval, S.routed, S.executing, S.resolved, S.rejected, S.failed}
    ),
    S.pending_approval: frozenset({S.routed, S.executing, S.resolved, S.rejected, S.failed}),
    S.routed: frozenset({S.executing, S.resolved, S.rejected, S.failed}),
    S.executing: frozenset({S.resolved, S.rejected, S.failed}),
    S.failed: frozenset({S.executing, S.resolved}),
    S.resolved: frozenset(),
    S.rejected: frozenset(),
}
TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# Statuses whose graph run may still owe work: recovery looks at these.
UNFINISHED = frozenset({S.triaging, S.pending_approval, S.routed, S.executing})

_LOCK = (
    select(cases.c.status, cases.c.result)
    .where(cases.c.case_id == bindparam("id"))
    .with_for_update()
)
_UPDATE = update(cases).where(cases.c.case_id == bindparam("id"))


class IllegalTransition(Conflict):
    """Raised when a case would move to a status the transition table does not allow."""


def allowed(current: CaseStatus, to: CaseStatus) -> bool:
    """Tells whether a case may move from one status to another (staying put is allowed)."""
    return to is current or to in TRANSITIONS[current]


async def lock(conn: AsyncConnection, case_id: str) -> CaseStatus:
    """Locks the case row until the transaction ends (PostgreSQL) and returns its status."""
    row = (await conn.execute(_LOCK, {"id": case_id})).first()
    if row is None:
        raise NotFound(f"case {case_id} not found")
    return CaseStatus(row[0])


async def move(
    conn: AsyncConnection,
    case_id: str,
    to: CaseStatus,
    *,
    actor: str,
    result: TriageResult | None = None,
    event: events.EventType | None = None,
    **detail: Any,
) -> bool:
    """Moves a case to `to` inside the caller's transaction; returns whether the status changed.

    `event` names the feed event when the status alone does not (an expiry routes a case too).
    """
    row = (await conn.execute(_LOCK, {"id": case_id})).first()
    if row is None:
        raise NotFound(f"case {case_id} not found")
    current, stored = CaseStatus(row[0]), row[1]
    if not allowed(current, to):
        raise IllegalTransition(
            f"case {case_id} cannot move from {current.value} to {to.value}",
            case_id=case_id,
            current=current.value,
        )
    values: dict[str, Any] = {"id": case_id, "status": to.value, "updated_at": utcnow()}
    if result is not None:
        classification = result.classification
        values["cause"] = classification.cause if classification else None
        values["confidence"] = classification.confidence if classification else None
        values["result"] = result.model_copy(update={"status": to}).model_dump(mode="json")
    elif stored:
        values["result"] = {**stored, "status": to.value}
    await conn.execute(_UPDATE, values)
    if to is current:
        return False
    await audit.record(conn, case_id=case_id, actor=actor, kind="case.status", status=to, **detail)
    await events.status_changed(conn, case_id, current, to, values.get("result"), event=event)
    return True
