"""The reviewer queue: pending approvals with their cases, prioritised, filtered and counted."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.approvals import ApprovalRecord, ApprovalStatus
from core.errors import PolicyRefusal
from core.principals import Principal
from core.store import approvals as approval_store
from core.store import cases as case_store
from core.store.cases import StoredCase
from core.store.search import finds
from policies import PolicyConfig, amount_at_stake
from policies.votes import eligible_approvers

# Weights of the priority: the SLA dominates, money at stake comes next, doubt breaks ties.
SLA_WEIGHT, AMOUNT_WEIGHT, DOUBT_WEIGHT = 0.55, 0.30, 0.15
SLA_HALF_LIFE_H = 4.0
NO_SLA_URGENCY = 0.2


@dataclass(frozen=True)
class QueueFilter:
    """The filters a reviewer can set on the queue; None means any."""

    site: str | None = None
    workflow: str | None = None
    cause: str | None = None
    role: str | None = None
    queue: str | None = None
    q: str | None = None  # a case id or a ref value, or the start of one

    def query(self, **over: str | None) -> dict[str, str]:
        """Returns the filter as query parameters, with some values replaced."""
        values = {**self.__dict__, **over}
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class QueueRow:
    """One pending approval as the queue shows it."""

    approval: ApprovalRecord
    stored: StoredCase
    cause: str | None
    top_cause: str | None
    confidence: float | None
    sla_left: timedelta | None
    priority: float
    approvals_done: int
    amount: float | None = None  # what the action puts at stake, in the case currency

    @property
    def case_id(self) -> str:
        """Returns the case id."""
        return self.stored.case.case_id

    @property
    def routed(self) -> bool:
        """Tells whether the case was routed to a person rather than proposed with confidence."""
        return self.stored.status.value == "routed"

    @property
    def four_eyes(self) -> bool:
        """Tells whether this approval needs more than one approver."""
        return self.approval.required_approvals > 1

    def queues(self, roles: frozenset[str]) -> list[str]:
        """Returns the queues this row is counted in, `mine` when one of these roles may decide."""
        role = self.approval.approver_role
        names = ["all", role or "unassigned"]
        names += ["mine"] if role is None or role in roles else []
        names += ["routed"] if self.routed else []
        names += ["four_eyes"] if self.four_eyes else []
        names += (
            ["breached"] if self.sla_left is not None and self.sla_left.total_seconds() < 0 else []
        )
        return names


def priority(sla_left: timedelta | None, amount: float | None, confidence: float | None) -> float:
    """Returns a 0-100 priority: less SLA time left, more money and less confidence rank higher."""
    if sla_left is None:
        urgency = NO_SLA_URGENCY
    else:
        hours = sla_left.total_seconds() / 3600
        urgency = 1.0 if hours <= 0 else math.pow(0.5, hours / SLA_HALF_LIFE_H)
    money = min(1.0, math.log10(1 + max(amount or 0.0, 0.0)) / 6)  # 1,000,000 saturates
    doubt = 1.0 - (confidence if confidence is not None else 0.0)
    return round(100 * (SLA_WEIGHT * urgency + AMOUNT_WEIGHT * money + DOUBT_WEIGHT * doubt), 1)


def sla_text(sla_left: timedelta | None) -> str:
    """Returns a countdown such as `2h 14m left` or `breached 35m ago`."""
    if sla_left is None:
        return "no SLA"
    seconds = int(sla_left.total_seconds())
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    span = f"{days}d {hours}h" if days else (f"{hours}h {mins}m" if hours else f"{mins}m")
    return f"{span} left" if seconds >= 0 else f"breached {span} ago"


def action_amount(record: ApprovalRecord, stored: StoredCase, policy: PolicyConfig) -> float | None:
    """Returns the amount the approval's action puts at stake (its own, else the case's)."""
    case_amount = stored.case.amount.value if stored.case.amount else None
    try:
        return amount_at_stake(stored.case, record.action, record.params, policy)
    except PolicyRefusal:
        return case_amount  # no conversion rate: the gate refuses it; the queue still lists it


def _row(
    record: ApprovalRecord, stored: StoredCase, now: datetime, policy: PolicyConfig
) -> QueueRow:
    classification = stored.result.classification if stored.result else None
    due = stored.case.sla_due_at
    sla_left = due - now if due else None
    amount = action_amount(record, stored, policy) if stored.case.amount else None
    confidence = classification.confidence if classification else None
    return QueueRow(
        approval=record,
        stored=stored,
        cause=stored.corrected_cause or (classification.cause if classification else None),
        top_cause=classification.top_cause if classification else None,
        confidence=confidence,
        sla_left=sla_left,
        priority=priority(sla_left, amount, confidence),
        approvals_done=len(eligible_approvers(record)),
        amount=amount,
    )


async def load_queue(conn: AsyncConnection, now: datetime, policy: PolicyConfig) -> list[QueueRow]:
    """Returns every pending approval with its case, highest priority first."""
    records = await approval_store.list_approvals(conn, status=ApprovalStatus.pending.value)
    cases: dict[str, StoredCase] = {}
    for record in records:
        if record.case_id not in cases:
            cases[record.case_id] = await case_store.get_case(conn, record.case_id)
    rows = [_row(r, cases[r.case_id], now, policy) for r in records]
    return sorted(rows, key=lambda r: (-r.priority, r.stored.created_at, r.approval.approval_id))


def matches(row: QueueRow, wanted: QueueFilter, me: Principal) -> bool:
    """Tells whether a row passes the filters."""
    case = row.stored.case
    checks = (
        (wanted.site, case.site),
        (wanted.workflow, case.workflow.value),
        (wanted.cause, row.cause),
        (wanted.role, row.approval.approver_role),
    )
    if any(want and want != have for want, have in checks):
        return False
    if wanted.q and not finds(case, wanted.q):
        return False
    return not wanted.queue or wanted.queue in row.queues(me.roles)


def queue_counts(rows: list[QueueRow], me: Principal) -> dict[str, int]:
    """Returns how many rows each queue holds, with `mine` for the reviewer's own roles."""
    counts: dict[str, int] = {"all": 0, "mine": 0, "routed": 0, "four_eyes": 0, "breached": 0}
    for row in rows:
        for name in row.queues(me.roles):
            counts[name] = counts.get(name, 0) + 1
    return counts


def facets(rows: list[QueueRow]) -> dict[str, list[str]]:
    """Returns the distinct values each filter can take in the current queue."""
    return {
        "site": sorted({r.stored.case.site for r in rows}),
        "workflow": sorted({r.stored.case.workflow.value for r in rows}),
        "cause": sorted({r.cause for r in rows if r.cause}),
        "role": sorted({r.approval.approver_role for r in rows if r.approval.approver_role}),
    }
