"""Stored approvals, their votes and the policy decisions behind them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.approvals import ApprovalRecord, ApprovalStatus, Vote
from core.errors import InvalidInput, NotFound
from core.principals import Principal
from core.results import PolicyDecision
from core.store.db import as_utc, utcnow
from core.store.paging import decode_cursor, encode_cursor
from core.store.tables import approval_votes, approvals, policy_decisions

# The hot statements are built once; values travel as parameters, so SQLAlchemy neither
# rebuilds nor re-keys them per call. An approval is read with its votes in one statement.
_VOTE_COLUMNS = [c for c in approval_votes.c if c.name not in ("vote_id", "approval_id")]
_WITH_VOTES = (
    select(approvals, *(c.label(f"vote_{c.name}") for c in _VOTE_COLUMNS))
    .outerjoin(approval_votes, approval_votes.c.approval_id == approvals.c.approval_id)
    .order_by(approvals.c.created_at, approvals.c.approval_id, approval_votes.c.vote_id)
)
_BY_ID = _WITH_VOTES.where(approvals.c.approval_id == bindparam("approval_id"))
_OF_CASE = _WITH_VOTES.where(approvals.c.case_id == bindparam("case_id"))
_OF_CASE_WITH_STATUS = _OF_CASE.where(approvals.c.status == bindparam("status"))
_INSERT_APPROVAL = insert(approvals)
# A re-run of the gate computes the same decision ids: the key conflict skips them in the same
# statement, instead of a read before the write.
_INSERT_NEW_DECISIONS = {
    name: dialect_insert(policy_decisions).on_conflict_do_nothing(
        index_elements=[policy_decisions.c.decision_id]
    )
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_INSERT_VOTE = insert(approval_votes)


async def save_decision(
    conn: AsyncConnection, decision: PolicyDecision, inputs: dict[str, Any]
) -> None:
    """Logs a policy decision once; the same inputs give the same id, so re-runs add nothing."""
    exists = (
        await conn.execute(
            select(policy_decisions.c.decision_id).where(
                policy_decisions.c.decision_id == decision.decision_id
            )
        )
    ).first()
    if exists:
        return
    await conn.execute(
        insert(policy_decisions).values(**decision.model_dump(), inputs=inputs, created_at=utcnow())
    )


async def save_decisions(
    conn: AsyncConnection, decisions: list[tuple[PolicyDecision, dict[str, Any]]]
) -> None:
    """Logs several policy decisions in one statement, skipping ids already logged."""
    if not decisions:
        return
    now = utcnow()
    fresh = {
        decision.decision_id: {**decision.model_dump(), "inputs": inputs, "created_at": now}
        for decision, inputs in decisions
    }
    await conn.execute(_INSERT_NEW_DECISIONS[conn.dialect.name], list(fresh.values()))


async def create_approval(
    conn: AsyncConnection,
    *,
    approval_id: str,
    decision: PolicyDecision,
    params: dict[str, Any],
    posts_to_erp: bool,
    proposed_by: str,
) -> None:
    """Opens an approval for an action the gate sent to people."""
    await conn.execute(
        _INSERT_APPROVAL,
        {
            "approval_id": approval_id,
            "case_id": decision.case_id,
            "action": decision.action,
            "params": params,
            "posts_to_erp": posts_to_erp,
            "approver_role": decision.approver_role,
            "required_approvals": max(1, decision.required_approvals),
            "status": ApprovalStatus.pending.value,
            "decision_id": decision.decision_id,
            "proposed_by": proposed_by,
            "edited_by": [],
            "created_at": utcnow(),
        },
    )


def _records(rows: Sequence[Any]) -> list[ApprovalRecord]:
    """Folds joined approval-and-vote rows (one per vote, or one per approval without votes)."""
    approvals_by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        data = approvals_by_id.get(row["approval_id"])
        if data is None:
            data = {c.name: row[c.name] for c in approvals.c}
            data["created_at"] = as_utc(data["created_at"])
            data["decided_at"] = as_utc(data["decided_at"])
            data["votes"] = []
            approvals_by_id[row["approval_id"]] = data
        if row["vote_actor"] is not None:
            vote = {c.name: row[f"vote_{c.name}"] for c in _VOTE_COLUMNS}
            data["votes"].append(Vote.model_validate({**vote, "at": as_utc(vote["at"])}))
    return [ApprovalRecord.model_validate(data) for data in approvals_by_id.values()]


async def get_approval(conn: AsyncConnection, approval_id: str) -> ApprovalRecord:
    """Returns one approval with its votes or raises NotFound."""
    rows = (await conn.execute(_BY_ID, {"approval_id": approval_id})).mappings().all()
    if not rows:
        raise NotFound(f"approval {approval_id} not found")
    return _records(rows)[0]


async def list_approvals(
    conn: AsyncConnection, *, case_id: str | None = None, status: str | None = None
) -> list[ApprovalRecord]:
    """Returns approvals with their votes, oldest first, optionally for one case or status."""
    if case_id is not None:
        query = _OF_CASE if status is None else _OF_CASE_WITH_STATUS
        params = {"case_id": case_id, "status": status}
    else:
        query = _WITH_VOTES if status is None else _WITH_VOTES.where(approvals.c.status == status)
        params = {}
    return _records((await conn.execute(query, params)).mappings().all())


async def page_approvals(
    conn: AsyncConnection,
    *,
    case_id: str | None = None,
    status: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[ApprovalRecord], str | None]:
    """Returns one page of approvals, oldest first, and the cursor of the next page."""
    ids = select(approvals.c.approval_id, approvals.c.created_at).order_by(
        approvals.c.created_at, approvals.c.approval_id
    )
    if case_id is not None:
        ids = ids.where(approvals.c.case_id == case_id)
    if status is not None:
        ids = ids.where(approvals.c.status == status)
    if cursor:
        stamp, approval_id = decode_cursor(cursor, 2)
        at = _cursor_time(stamp)
        ids = ids.where(
            or_(
                approvals.c.created_at > at,
                and_(approvals.c.created_at == at, approvals.c.approval_id > approval_id),
            )
        )
    found = (await conn.execute(ids.limit(limit + 1))).all()
    chosen = [row[0] for row in found[:limit]]
    rows = (await conn.execute(_WITH_VOTES.where(approvals.c.approval_id.in_(chosen)))).mappings()
    page = _records(rows.all())
    if len(found) <= limit or not page:
        return page, None
    return page, encode_cursor(page[-1].created_at.isoformat(), page[-1].approval_id)


def _cursor_time(stamp: str) -> datetime:
    try:
        return datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise InvalidInput("cursor is not one this service issued", field="cursor") from exc


async def add_vote(
    conn: AsyncConnection,
    approval_id: str,
    voter: Principal,
    decision: str,
    reason: str | None,
    params: dict[str, Any] | None,
) -> None:
    """Records one vote (approve, reject or edit) with the voter's roles at that moment."""
    await conn.execute(
        _INSERT_VOTE,
        {
            "approval_id": approval_id,
            "actor": voter.name,
            "actor_kind": voter.kind.value,
            "actor_roles": sorted(voter.roles),
            "decision": decision,
            "reason": reason,
            "params": params,
            "at": utcnow(),
        },
    )


async def apply_edit(
    conn: AsyncConnection,
    approval_id: str,
    *,
    params: dict[str, Any],
    decision: PolicyDecision,
    editor: str,
    edited_by: list[str],
) -> None:
    """Replaces an approval's parameters and policy decision after an edit."""
    await conn.execute(
        update(approvals)
        .where(approvals.c.approval_id == approval_id)
        .values(
            params=params,
            decision_id=decision.decision_id,
            approver_role=decision.approver_role,
            required_approvals=max(1, decision.required_approvals),
            edited_by=sorted({*edited_by, editor}),
        )
    )


async def set_approval_status(
    conn: AsyncConnection, approval_id: str, status: ApprovalStatus, *, expect: ApprovalStatus
) -> bool:
    """Moves an approval from one status to another; returns False if another writer got there first."""
    result = await conn.execute(
        update(approvals)
        .where(approvals.c.approval_id == approval_id, approvals.c.status == expect.value)
        .values(status=status.value, decided_at=utcnow())
    )
    return bool(result.rowcount)


async def decision_rows(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    """Returns the logged policy decisions of a case, with their inputs."""
    rows = (
        await conn.execute(
            select(policy_decisions)
            .where(policy_decisions.c.case_id == case_id)
            .order_by(policy_decisions.c.created_at)
        )
    ).mappings()
    return [dict(r) for r in rows]


async def void_open(conn: AsyncConnection, case_id: str) -> list[str]:
    """Voids a case's pending approvals, so nothing runs or posts for it; returns their ids."""
    rows = await conn.execute(
        update(approvals)
        .where(approvals.c.case_id == case_id, approvals.c.status == ApprovalStatus.pending.value)
        .values(status=ApprovalStatus.void.value, decided_at=utcnow())
        .returning(approvals.c.approval_id)
    )
    return sorted(rows.scalars())
