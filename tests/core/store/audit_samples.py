"""One valid detail per audit kind, and for each a field change its model must refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.results import CaseStatus

KEY = "3f2a9c0d1e7b4a65"
DELIVERY = {"action": "post_inventory_adjustment", "idempotency_key": KEY, "outbox_attempt": 1}
ACTION = {"action": "notify_customer", "authorized_by": "policy:auto", "idempotency_key": KEY}
FAILED = {**DELIVERY, "error": "ERP busy"}

OUTBOX_KINDS = ("erp", "slack", "resume", "webhook")
SAMPLES: dict[str, dict[str, Any]] = {
    "case.received": {"digest": "ab" * 32},
    "case.status": {"status": CaseStatus.failed, "error": "boom", "voided_approvals": ["AP-1"]},
    "case.classified": {
        "cause": "inventory_discrepancy", "top_cause": "inventory_discrepancy",
        "confidence": 0.91, "prediction_set": ["inventory_discrepancy"], "classifier": "local",
        "model": None, "routed_reason": None, "fallback_reason": None, "flags": [],
        "prompt_hash": None,
    },
    "case.corrected": {"cause": "master_data_error", "previous": None, "comment": "wrong UoM"},
    "policy.decision": {
        "decision_id": "D-1", "action": "post_inventory_adjustment", "outcome": "needs_approval",
        "required_approvals": 1, "approver_role": "inventory_controller",
        "rules_fired": ["erp-posting-needs-approval"], "reasons": ["posts to the ERP"],
        "policy_version": "v1", "inputs_digest": "cd" * 32,
    },
    "approval.requested": {
        "approval_id": "AP-1", "action": "post_inventory_adjustment", "required_approvals": 1,
        "approver_role": "inventory_controller",
    },
    "approval.approved": {"approval_id": "AP-1", "action": "rebook_carrier", "reason": None},
    "approval.rejected": {"approval_id": "AP-1", "action": "rebook_carrier", "reason": "no"},
    "approval.complete": {"approval_id": "AP-1", "approvers": ["alice"]},
    "approval.edited": {
        "approval_id": "AP-1", "before": {"quantity_delta": -12}, "after": {"quantity_delta": -11},
        "reason": "recount", "outcome": "needs_approval", "required_approvals": 1,
        "rules_fired": [],
    },
    "approval.refused": {
        "approval_id": "AP-1", "decision": "approve", "rule": "person-only", "reason": "a key",
    },
    "approval.expired": {"approval_id": "AP-1", "action": "rebook_carrier", "expiry_hours": 48},
    "sla.reminder": {"approval_id": "AP-1", "sla_due_at": "2026-11-20T17:05:00+00:00"},
    "sla.escalation": {"approval_id": "AP-1", "sla_due_at": datetime(2026, 11, 20, tzinfo=UTC)},
    "action.started": ACTION,
    "action.executed": {**ACTION, "reference": "TMS-1", "duplicate": False},
    "action.failed": {**ACTION, "error": "TMS down"},
    "posting.queued": {
        "approval_id": "AP-1", "action": "post_inventory_adjustment", "idempotency_key": KEY,
    },
    "outbox.replayed": {"outbox_id": 7, "action": "post_inventory_adjustment", "idempotency_key": KEY},
    "erp.delivered": {
        **DELIVERY, "adapter": "fake", "reference": "FAKE-1", "attempts": 1,
        "attempt_errors": [], "duplicate": False, "approvers": ["alice"],
    },
    "slack.delivered": {**DELIVERY, "adapter": "fake", "channel": "#ops", "ts": "1.2"},
    "resume.delivered": {**DELIVERY, "resumed": True},
    "webhook.delivered": {**DELIVERY, "webhook_id": "41", "url": "https://wms.example/hooks", "status": 204},
    **{f"{k}.retry_scheduled": {**FAILED, "retry_in_s": 2.0} for k in OUTBOX_KINDS},
    **{f"{k}.dead_lettered": FAILED for k in OUTBOX_KINDS},
    "checkpoint.pruned": {"retention_days": 30.0},
    "history.imported": {"cases": 300},
    "classifier.trained": {"cases": 300},
}  # fmt: skip

# The first key is the field the refusal must name.
BAD: dict[str, dict[str, Any]] = {
    "case.received": {"digest": "not-a-digest"},
    "case.status": {"status": "failed"},  # text, not a CaseStatus
    "case.classified": {"confidence": 1.5},
    "case.corrected": {"comment": "x" * 2001},
    "policy.decision": {"outcome": "maybe"},
    "approval.requested": {"approval_id": "1234"},
    "approval.approved": {"reason": 42},
    "approval.rejected": {"action": ""},
    "approval.complete": {"approvers": []},
    "approval.edited": {"rules_fired": "erp-posting"},
    "approval.refused": {"decision": "veto"},
    "approval.expired": {"expiry_hours": 0},
    "sla.reminder": {"sla_due_at": "2026-11-20T17:05:00"},  # no zone
    "sla.escalation": {"sla_due_at": "tomorrow"},
    "action.started": {"authorized_by": None},
    "action.executed": {"duplicate": "no"},
    "action.failed": {"error": None},
    "posting.queued": {"idempotency_key": 12},
    "outbox.replayed": {"outbox_id": "7"},
    "erp.delivered": {"attempts": 0},
    "slack.delivered": {"ts": 1.2},
    "resume.delivered": {"resumed": "yes"},
    "webhook.delivered": {"status": 42},
    **{f"{k}.retry_scheduled": {"retry_in_s": -1.0} for k in OUTBOX_KINDS},
    **{f"{k}.dead_lettered": {"outbox_attempt": 0} for k in OUTBOX_KINDS},
    "checkpoint.pruned": {"retention_days": -1.0},
    "history.imported": {"cases": -1},
    "classifier.trained": {"cases": 2.5},
}
