"""Stored approvals, their votes and the policy decisions behind them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.approvals import ApprovalRecord, ApprovalStatus, Vote
from core.errors import NotFound
from core.models import PolicyDecision
from core.principals import Principal
from core.store.db import as_utc, utcnow
from core.store.tables import approval_votes, approvals, policy_decisions

# The hot statements are built once; values travel as parameters, so SQLAlchemy neither
# rebuilds nor re-keys them per call.
_BY_ID = select(approvals).where(approvals.c.approval_id == bindparam("approval_id"))
_VOTES = (
    select(approval_votes)
    .where(approval_votes.c.approval_id.in_(bindparam("ids", expanding=True)))
    .order_by(approval_votes.c.vote_id)
)
_ORDERED = select(approvals).order_by(approvals.c.created_at, approvals.c.approval_id)
_OF_CASE = _ORDERED.where(approvals.c.case_id == bindparam("case_id"))
_OF_CASE_WITH_STATUS = _OF_CASE.where(approvals.c.status == bindparam("status"))
_INSERT_APPROVAL = insert(approvals)
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
    ids = [d.decision_id for d, _ in decisions]
    logged = set(
        (
            await conn.execute(
                select(policy_decisions.c.decision_id).where(
                    policy_decisions.c.decision_id.in_(ids)
                )
            )
        ).scalars()
    )
    now = utcnow()
    fresh: dict[str, dict[str, Any]] = {}
    for decision, inputs in decisions:
        if decision.decision_id not in logged:
            fresh[decision.decision_id] = {
                **decision.model_dump(),
                "inputs": inputs,
                "created_at": now,
            }
    if fresh:
        await conn.execute(insert(policy_decisions), list(fresh.values()))


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


def _record(row: Any, votes: list[Vote]) -> ApprovalRecord:
    data = dict(row)
    data["created_at"] = as_utc(data["created_at"])
    data["decided_at"] = as_utc(data["decided_at"])
    return ApprovalRecord.model_validate({**data, "votes": votes})


async def _votes(conn: AsyncConnection, approval_ids: list[str]) -> dict[str, list[Vote]]:
    rows = (await conn.execute(_VOTES, {"ids": approval_ids})).mappings()
    grouped: dict[str, list[Vote]] = {i: [] for i in approval_ids}
    for row in rows:
        grouped[row["approval_id"]].append(Vote.model_validate({**row, "at": as_utc(row["at"])}))
    return grouped


async def get_approval(conn: AsyncConnection, approval_id: str) -> ApprovalRecord:
    """Returns one approval with its votes or raises NotFound."""
    row = (await conn.execute(_BY_ID, {"approval_id": approval_id})).mappings().first()
    if row is None:
        raise NotFound(f"approval {approval_id} not found")
    return _record(row, (await _votes(conn, [approval_id]))[approval_id])


async def list_approvals(
    conn: AsyncConnection, *, case_id: str | None = None, status: str | None = None
) -> list[ApprovalRecord]:
    """Returns approvals, oldest first, optionally for one case or status."""
    if case_id is not None:
        query = _OF_CASE if status is None else _OF_CASE_WITH_STATUS
        params = {"case_id": case_id, "status": status}
    else:
        query = _ORDERED if status is None else _ORDERED.where(approvals.c.status == status)
        params = {}
    rows = (await conn.execute(query, params)).mappings().all()
    votes = await _votes(conn, [r["approval_id"] for r in rows]) if rows else {}
    return [_record(r, votes[r["approval_id"]]) for r in rows]


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
