"""The catalogue of audit events: one model per kind, against which every audit row is checked.

Kinds, by who writes them:

- intake: `case.received`
- the status writer (core.case_status): `case.status`
- the policy gate node: `case.classified`, `policy.decision`, `approval.requested`
- the review desk: `approval.approved`, `approval.rejected`, `approval.edited`,
  `approval.complete`, `approval.refused`
- approval expiry: `approval.expired`
- the SLA timers: `sla.reminder`, `sla.escalation`
- corrections: `case.corrected`
- the execute node: `action.started`, `action.executed`, `action.failed`
- the outbox: `posting.queued`, `outbox.replayed`, and for each row kind (`erp`, `slack`,
  `resume`): `<kind>.delivered`, `<kind>.retry_scheduled`, `<kind>.dead_lettered`
- learning: `history.imported`, `classifier.trained`

A row whose kind is missing here, or whose detail does not fit its kind's model, is refused
with AuditRejected before it is written, so it rolls back the writer's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, ValidationError

from core.approvals import VoteDecision
from core.errors import AuditRejected
from core.results import CaseStatus, Outcome

Name = Annotated[str, Field(min_length=1)]
ApprovalId = Annotated[str, Field(pattern=r"^AP-\S+$")]
Params = dict[str, JsonValue]


class AuditDetail(BaseModel):
    """The detail of one audit row: strict types, and no field the kind does not declare."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CaseReceived(AuditDetail):
    """An orchestrator's case was stored; `digest` identifies its body."""

    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class CaseStatusMoved(AuditDetail):
    """A case moved to another status, with why it failed or what it executed."""

    status: CaseStatus
    error: str | None = None
    voided_approvals: list[ApprovalId] | None = None
    executed: list[Name] | None = None


class CaseClassified(AuditDetail):
    """The classifier's decision on a case, without its full distribution and evidence."""

    cause: Name
    top_cause: Name
    confidence: float = Field(ge=0, le=1)
    prediction_set: list[Name]
    classifier: Name
    model: str | None
    routed_reason: str | None
    fallback_reason: str | None
    flags: list[str]
    prompt_hash: str | None


class CaseCorrected(AuditDetail):
    """A person named the true cause of a case."""

    cause: Name
    previous: str | None
    comment: str = Field(max_length=2000)


class PolicyDecided(AuditDetail):
    """The gate's decision on one proposed action (a PolicyDecision without its case id)."""

    decision_id: Name
    action: Name
    outcome: Outcome
    required_approvals: int = Field(ge=0)
    approver_role: str | None
    rules_fired: list[Name]
    reasons: list[str]
    policy_version: Name
    inputs_digest: Name


class SourceRecord(AuditDetail):
    """Where one parameter's value came from, as ParamSource records it without empty fields."""

    kind: str
    index: int | None = None
    message_id: str | None = None
    keys: list[str] | None = None
    span: str | None = None
    by: str | None = None


class ApprovalRequested(AuditDetail):
    """The gate opened an approval for an action, with its parameters and where each came from."""

    approval_id: ApprovalId
    action: Name
    required_approvals: int = Field(ge=0)
    approver_role: str | None
    params: Params | None = None
    provenance: dict[str, SourceRecord] | None = None


class ApprovalVoted(AuditDetail):
    """A person approved or rejected an approval, with an optional reason."""

    approval_id: ApprovalId
    action: Name
    reason: str | None


class ApprovalComplete(AuditDetail):
    """An approval has every vote it needs; `approvers` are the people who gave them."""

    approval_id: ApprovalId
    approvers: list[Name] = Field(min_length=1)


class ApprovalEdited(AuditDetail):
    """A person changed an approval's parameters, and the gate re-decided on them."""

    approval_id: ApprovalId
    before: Params
    after: Params
    provenance: dict[str, SourceRecord] | None = None
    reason: str | None
    outcome: Outcome
    required_approvals: int = Field(ge=0)
    rules_fired: list[Name]


class ApprovalRefused(AuditDetail):
    """The gate refused a principal's decision on an approval; `rule` names the rule."""

    approval_id: ApprovalId
    decision: VoteDecision
    rule: Name
    reason: str


class ApprovalExpired(AuditDetail):
    """An approval stayed pending past its expiry and was closed."""

    approval_id: ApprovalId
    action: Name
    expiry_hours: float = Field(gt=0)


class SlaAnnounced(AuditDetail):
    """A reminder or an escalation about a pending approval was queued."""

    approval_id: ApprovalId
    # Lax only here: the SLA timers hand over an ISO string, which parses to the same instant.
    sla_due_at: AwareDatetime | None = Field(strict=False)


class ActionStarted(AuditDetail):
    """The executor is about to run an action; written before its side effect."""

    action: Name
    authorized_by: Name
    idempotency_key: Name


class ActionExecuted(ActionStarted):
    """An action ran (or had already run, when `duplicate`)."""

    reference: Name
    duplicate: bool


class ActionFailed(ActionStarted):
    """An action's tool failed."""

    error: str


class PostingQueued(AuditDetail):
    """A completed approval's ERP posting was sealed and queued in the outbox."""

    approval_id: ApprovalId
    action: Name
    idempotency_key: Name


class OutboxReplayed(AuditDetail):
    """A dead letter was put back in the queue."""

    outbox_id: int = Field(ge=1)
    action: Name
    idempotency_key: Name


class Delivery(AuditDetail):
    """What every outbox delivery attempt records."""

    action: Name
    idempotency_key: Name
    outbox_attempt: int = Field(ge=1)


class ErpDelivered(Delivery):
    """The ERP accepted a posting, after `attempts` tries by the adapter."""

    adapter: Name
    reference: Name
    attempts: int = Field(ge=1)
    attempt_errors: list[str]
    duplicate: bool
    approvers: list[Name] = Field(min_length=1)


class SlackDelivered(Delivery):
    """A Slack message was posted or updated, or skipped because its original never posted."""

    adapter: Name
    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    duplicate: bool | None = None
    skipped: str | None = None


class ResumeDelivered(Delivery):
    """The graph of a decided case was resumed (False: it was not waiting)."""

    resumed: bool


class WebhookDelivered(Delivery):
    """The orchestrator's callback receiver answered 2xx to an event's signed callback."""

    webhook_id: Name
    url: str
    status: int = Field(ge=100, le=599)


class CheckpointPruned(AuditDetail):
    """The graph checkpoints of a case closed longer than the retention were deleted."""

    retention_days: float = Field(ge=0)


class DeliveryDeadLettered(Delivery):
    """A row failed for good and waits for a replay."""

    error: str


class DeliveryRetryScheduled(DeliveryDeadLettered):
    """A row failed and will be tried again in `retry_in_s` seconds."""

    retry_in_s: float = Field(ge=0)


class HistoryCount(AuditDetail):
    """How many resolved cases history holds (trained on) or received (imported)."""

    cases: int = Field(ge=0)


def _outbox_kinds() -> dict[str, type[AuditDetail]]:
    delivered: dict[str, type[AuditDetail]] = {
        "erp": ErpDelivered,
        "slack": SlackDelivered,
        "resume": ResumeDelivered,
        "webhook": WebhookDelivered,
    }
    kinds: dict[str, type[AuditDetail]] = {}
    for row_kind, model in delivered.items():
        kinds[f"{row_kind}.delivered"] = model
        kinds[f"{row_kind}.retry_scheduled"] = DeliveryRetryScheduled
        kinds[f"{row_kind}.dead_lettered"] = DeliveryDeadLettered
    return kinds


CATALOGUE: Mapping[str, type[AuditDetail]] = {
    "case.received": CaseReceived,
    "case.status": CaseStatusMoved,
    "case.classified": CaseClassified,
    "case.corrected": CaseCorrected,
    "policy.decision": PolicyDecided,
    "approval.requested": ApprovalRequested,
    "approval.approved": ApprovalVoted,
    "approval.rejected": ApprovalVoted,
    "approval.complete": ApprovalComplete,
    "approval.edited": ApprovalEdited,
    "approval.refused": ApprovalRefused,
    "approval.expired": ApprovalExpired,
    "sla.reminder": SlaAnnounced,
    "sla.escalation": SlaAnnounced,
    "action.started": ActionStarted,
    "action.executed": ActionExecuted,
    "action.failed": ActionFailed,
    "posting.queued": PostingQueued,
    "outbox.replayed": OutboxReplayed,
    **_outbox_kinds(),
    "checkpoint.pruned": CheckpointPruned,
    "history.imported": HistoryCount,
    "classifier.trained": HistoryCount,
}


def _checked(kind: str, detail: Mapping[str, object], *, strict: bool | None) -> AuditDetail:
    model = CATALOGUE.get(kind)
    if model is None:
        raise AuditRejected(f"audit kind {kind!r} is not in the catalogue", kind=kind)
    try:
        return model.model_validate(detail, strict=strict)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'detail'}: {e['msg']}" for e in exc.errors()
        )
        raise AuditRejected(f"audit {kind} detail is invalid: {problems}", kind=kind) from exc


def validate_event(kind: str, detail: Mapping[str, object]) -> AuditDetail:
    """Returns the detail as its kind's model; raises AuditRejected for an unknown kind or bad detail."""
    return _checked(kind, detail, strict=None)  # the models' own strictness


def stored_detail(kind: str, detail: Mapping[str, object]) -> dict[str, JsonValue]:
    """Returns the detail checked against its kind and as JSON, keeping only the fields given."""
    return validate_event(kind, detail).model_dump(mode="json", exclude_unset=True)


def read_event(kind: str, detail: Mapping[str, JsonValue]) -> AuditDetail:
    """Returns a stored row's detail as its kind's model (enums and times arrive there as text)."""
    return _checked(kind, detail, strict=False)
