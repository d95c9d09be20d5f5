"""Triage results: a case's status, its classification, proposals, policy decisions and postings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.models import canonical_digest
from core.parameters.provenance import ParamSource


class CaseStatus(StrEnum):
    """Where a case is in its life."""

    triaging = "triaging"
    pending_approval = "pending_approval"
    routed = "routed"
    executing = "executing"
    resolved = "resolved"
    rejected = "rejected"
    failed = "failed"


class Evidence(BaseModel):
    """What drove a classification: indices into the case and ids of retrieved context."""

    event_indices: list[int] = Field(default_factory=list)
    message_indices: list[int] = Field(default_factory=list)
    history_case_ids: list[str] = Field(default_factory=list)
    loose_message_ids: list[str] = Field(default_factory=list)


class Classification(BaseModel):
    """A calibrated cause distribution with its decision and evidence."""

    cause: str
    top_cause: str
    confidence: float = Field(ge=0, le=1)
    probabilities: dict[str, float]
    prediction_set: list[str] = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=Evidence)
    classifier: str
    model: str | None = None
    rationale: str | None = None
    routed_reason: str | None = None
    fallback_reason: str | None = None
    prompt_hash: str | None = None
    flags: list[str] = Field(default_factory=list)
    usage: dict[str, float] = Field(default_factory=dict)
    # What in the case's own documents points at `cause` (agent/grounding.py); empty means the
    # decision rests on wording, neighbours or other documents only, and nothing runs alone.
    own_evidence: list[str] = Field(default_factory=list)
    # What in the case's own documents says the condition of `cause` does not hold (stock agrees,
    # "customs released it"); anything here holds automatic actions for a person.
    counter_evidence: list[str] = Field(default_factory=list)


class SimilarCase(BaseModel):
    """A resolved history case retrieved as similar, with its resolution."""

    case_id: str
    similarity: float
    cause: str
    actions: list[str]
    outcome: str
    summary: str


MatchedBy = Literal["refs", "similarity", "party"]


class MatchedMessage(BaseModel):
    """A loose message retrieved for a case, and how it was matched.

    `refs` means a shared document identifier (evidence); `party` means only a shared supplier,
    customer or carrier (context about that party, never evidence nor a parameter source).
    """

    message_id: str
    matched_by: MatchedBy
    score: float
    party: str
    at: datetime
    subject: str | None
    body: str
    document_refs: dict[str, str] = Field(default_factory=dict)

    @property
    def is_evidence(self) -> bool:
        """Tells whether the message may be cited as evidence about the case."""
        return self.matched_by != "party"


class ProposedAction(BaseModel):
    """An action from the catalogue with concrete parameters."""

    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    posts_to_erp: bool
    approver_role: str | None = None
    rationale: str = ""
    provenance: dict[str, ParamSource] = Field(default_factory=dict)

    def key(self, case_id: str) -> str:
        """Returns the deterministic idempotency key of this action for a case."""
        return canonical_digest({"case_id": case_id, "action": self.action})[:32]


Outcome = Literal["auto", "needs_approval", "deny"]


class PolicyDecision(BaseModel):
    """The gate's decision on one proposed action, with everything needed to audit it."""

    decision_id: str
    case_id: str
    action: str
    outcome: Outcome
    required_approvals: int = Field(ge=0)
    approver_role: str | None
    rules_fired: list[str]
    reasons: list[str]
    policy_version: str
    inputs_digest: str


class Posting(BaseModel):
    """An ERP posting the outbox delivered: its action, key, the ERP's reference and approvers."""

    action: str
    idempotency_key: str
    reference: str | None = None
    posted_at: datetime
    approvers: list[str] = Field(default_factory=list)
    approval_id: str | None = None


class TriageResult(BaseModel):
    """The service's answer for one case."""

    case_id: str
    status: CaseStatus
    classification: Classification | None = None
    proposals: list[ProposedAction] = Field(default_factory=list)
    decisions: list[PolicyDecision] = Field(default_factory=list)
    similar_cases: list[SimilarCase] = Field(default_factory=list)
    matched_messages: list[MatchedMessage] = Field(default_factory=list)
    approval_ids: list[str] = Field(default_factory=list)
    executed: list[str] = Field(default_factory=list)
    postings: list[Posting] = Field(default_factory=list)
    submitted_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
