"""Approvals: the queue and people's decisions on it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.access import Decider, Reader
from api.auth import runtime_of
from api.pages import Cursor, Limit, Page
from core.approvals import ApprovalRecord, ApprovalStatus, VoteDecision
from core.store import approvals as approval_store

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])


class DecisionRequest(BaseModel):
    """A reviewer's decision: approve, reject (with a reason) or edit (with new parameters)."""

    decision: VoteDecision
    reason: str | None = Field(default=None, max_length=4000)
    params: dict[str, Any] | None = None


@router.get("", response_model=Page[ApprovalRecord])
async def list_approvals(
    request: Request,
    _caller: Reader,
    status: ApprovalStatus | None = None,
    case_id: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[ApprovalRecord]:
    """Pages through approvals, oldest first."""
    async with runtime_of(request).db.transaction() as conn:
        items, next_cursor = await approval_store.page_approvals(
            conn,
            case_id=case_id,
            status=status.value if status else None,
            limit=limit,
            cursor=cursor,
        )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{approval_id}", response_model=ApprovalRecord)
async def get_approval(approval_id: str, request: Request, _caller: Reader) -> ApprovalRecord:
    """Returns one approval with its votes."""
    async with runtime_of(request).db.transaction() as conn:
        return await approval_store.get_approval(conn, approval_id)


@router.post("/{approval_id}/decision", response_model=ApprovalRecord, responses={403: {}, 409: {}})
async def decide(
    approval_id: str, body: DecisionRequest, request: Request, caller: Decider
) -> ApprovalRecord:
    """Records a person's decision; the policy gate refuses the wrong person with a 403."""
    return await runtime_of(request).desk.decide(
        approval_id, caller, body.decision, body.reason, body.params
    )
