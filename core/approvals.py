"""Approval records: one per action that waits for people, with every vote cast on it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.parameters.provenance import ParamSource
from core.principals import PrincipalKind


class ApprovalStatus(StrEnum):
    """Where an approval stands."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"
    void = "void"  # the case failed after intake: nothing may run on this approval


VoteDecision = Literal["approve", "reject", "edit"]


class Vote(BaseModel):
    """One person's (or a refused principal's) decision on an approval."""

    actor: str
    actor_kind: PrincipalKind
    actor_roles: list[str] = Field(default_factory=list)
    decision: VoteDecision
    reason: str | None = None
    params: dict[str, Any] | None = None
    at: datetime


class ApprovalRecord(BaseModel):
    """An action waiting for (or having received) human approval."""

    approval_id: str
    case_id: str
    action: str
    params: dict[str, Any]
    posts_to_erp: bool
    approver_role: str | None
    required_approvals: int
    status: ApprovalStatus
    decision_id: str
    proposed_by: str
    edited_by: list[str] = Field(default_factory=list)
    votes: list[Vote] = Field(default_factory=list)
    created_at: datetime
    decided_at: datetime | None = None

    def approvers(self) -> list[str]:
        """Returns the distinct actors who approved the current version of the parameters."""
        names: list[str] = []
        for vote in self.votes:
            if vote.decision == "edit":
                names = []  # an edit invalidates approvals given to the earlier parameters
            elif vote.decision == "approve" and vote.actor not in names:
                names.append(vote.actor)
        return names

    def approving_votes(self) -> list[Vote]:
        """Returns the approving votes cast since the last edit."""
        votes: list[Vote] = []
        for vote in self.votes:
            if vote.decision == "edit":
                votes = []
            elif vote.decision == "approve":
                votes.append(vote)
        return votes

    def param_sources(self, proposed: dict[str, ParamSource]) -> dict[str, ParamSource]:
        """Returns each current parameter's source: the proposal's, or the person who last edited it."""
        sources = {k: v for k, v in proposed.items() if self.params.get(k) is not None}
        for vote in self.votes:
            if vote.decision != "edit" or not vote.params:
                continue
            for name, typed in vote.params.items():
                sources[name] = ParamSource(kind="person", by=vote.actor, span=str(typed)[:200])
        return {k: v for k, v in sources.items() if self.params.get(k) is not None}
