"""The ERP confirmation's question and the digest that ties a confirmation to its parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.ui.confirmation import params_digest, posting_question
from api.ui.formatting import Formatter, reviewer_locale
from core.approvals import ApprovalRecord, ApprovalStatus
from core.models import Case
from core.results import CaseStatus
from core.store.cases import StoredCase
from core.taxonomy import load_taxonomy
from tests.support.cases import make_case

NOW = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)
TAXONOMY = load_taxonomy()
NBSP = "\u00a0"


def _stored(amount: dict[str, Any] | None) -> StoredCase:
    case = Case.model_validate(make_case(case_id="EXC-9", amount=amount))
    return StoredCase(case, "d", CaseStatus.pending_approval, None, "k", None, None, NOW, NOW)


def _record(action: str, params: dict[str, Any]) -> ApprovalRecord:
    return ApprovalRecord(
        approval_id="AP-9", case_id="EXC-9", action=action, params=params, posts_to_erp=True,
        approver_role=TAXONOMY.action(action).approver_role, required_approvals=1,
        status=ApprovalStatus.pending, decision_id="PD-9", proposed_by="agent", created_at=NOW,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "params", "amount", "locale", "expected"),
    [
        (
            "update_po_eta",
            {"po_id": "PO-123", "supplier_id": "SUP-1", "new_eta": "2026-12-14"},
            {"value": 12450.0, "currency": "USD"},
            "en-US",
            f"Post update_po_eta to ERP for PO-123, USD{NBSP}12,450.00?",
        ),
        (
            "issue_credit_memo",
            {"invoice_id": "INV-7", "amount": 500.0, "currency": "EUR"},
            {"value": 900000.0, "currency": "JPY"},
            "de-DE",
            f"Post issue_credit_memo to ERP for INV-7, 500,00{NBSP}EUR?",
        ),
        (
            "post_inventory_adjustment",
            {"site": "DC-ATL", "sku": "SKU-1", "quantity_delta": -8, "unit_cost": 1500.0},
            {"value": 20.0, "currency": "JPY"},
            "en-US",
            f"Post post_inventory_adjustment to ERP for DC-ATL, SKU-1, JPY{NBSP}12,000?",
        ),
        (
            "replay_integration_message",
            {"interface": "ASN-IN", "error": "timeout"},
            None,
            "en-US",
            "Post replay_integration_message to ERP for ASN-IN, timeout, no amount given?",
        ),
    ],
    ids=["case-amount", "own-amount-own-currency", "own-amount-case-currency", "no-amount"],
)
def test_the_question_repeats_action_target_and_amount(
    action: str,
    params: dict[str, Any],
    amount: dict[str, Any] | None,
    locale: str,
    expected: str,
) -> None:
    """The posting's own amount in its currency wins over the case amount; ids name the target."""
    fmt = Formatter(reviewer_locale(locale))
    record = _record(action, params)
    assert posting_question(record, _stored(amount), TAXONOMY.action(action), fmt) == expected


def test_the_digest_changes_with_any_parameter() -> None:
    """A confirmation given for one set of parameters does not match another."""
    base = _record("update_po_eta", {"po_id": "PO-123", "new_eta": "2026-12-14"})
    same = _record("update_po_eta", {"new_eta": "2026-12-14", "po_id": "PO-123"})
    later = _record("update_po_eta", {"po_id": "PO-123", "new_eta": "2026-12-15"})
    assert params_digest(base) == params_digest(same)
    assert params_digest(base) != params_digest(later)
