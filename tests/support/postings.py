"""Factories for ERP and action tests: sealed postings obtained the legitimate way, via the gate."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import policies
from core.approvals import ApprovalRecord, ApprovalStatus, Vote
from core.principals import PrincipalKind
from core.taxonomy import load_taxonomy
from policies.postings import ApprovedPosting
from tools.actions import ActionRequest

AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@lru_cache(maxsize=1)
def default_policy() -> policies.PolicyConfig:
    """Returns the shipped policy, loaded once per test session."""
    return policies.load_policy(None, load_taxonomy())


def make_approval(**over: Any) -> ApprovalRecord:
    """Returns an approved ERP approval record with one eligible person's vote."""
    fields: dict[str, Any] = {
        "approval_id": "APR-1",
        "case_id": "CASE-1",
        "action": "post_inventory_adjustment",
        "params": {"sku": "SKU-42", "site": "DC-1", "quantity_delta": -3},
        "posts_to_erp": True,
        "approver_role": "inventory_controller",
        "required_approvals": 1,
        "status": ApprovalStatus.approved,
        "decision_id": "DEC-1",
        "proposed_by": "api_key:orchestrator",
        "votes": [
            Vote(
                actor="alice",
                actor_kind=PrincipalKind.person,
                actor_roles=["inventory_controller"],
                decision="approve",
                at=AT,
            )
        ],
        "created_at": AT,
        "decided_at": AT,
    }
    fields.update(over)
    return ApprovalRecord(**fields)


def make_posting(idempotency_key: str = "k1", **over: Any) -> ApprovedPosting:
    """Returns a posting sealed by the policy gate for an approved record."""
    return policies.authorize_posting(
        make_approval(**over),
        idempotency_key=idempotency_key,
        amount=100.0,
        config=default_policy(),
    )


def make_action_request(**over: Any) -> ActionRequest:
    """Returns a non-ERP action request authorized by the automatic policy."""
    fields: dict[str, Any] = {
        "case_id": "CASE-1",
        "action": "notify_customer",
        "target": "CRM",
        "params": {"order_id": "SO-9", "message": "Your order ships tomorrow."},
        "idempotency_key": "CASE-1:notify_customer",
        "authorized_by": "policy:auto",
    }
    fields.update(over)
    return ActionRequest(**fields)
