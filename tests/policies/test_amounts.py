"""Table-driven tests of the amount four-eyes reads: the action's own, converted, else the case's."""

from __future__ import annotations

from typing import Any

import pytest

from core.approvals import ApprovalStatus
from core.errors import PolicyRefusal
from policies.amounts import amount_at_stake, convert
from policies.gate import evaluate
from policies.postings import authorize_posting
from tests.support.policies import (
    DEFAULT_POLICY,
    make_context,
    make_policy_case,
    make_proposal,
    make_record,
    make_vote,
    person,
)

MEMO = {"invoice_id": "INV-1"}
ADJUST = {"site": "DC-1", "sku": "SKU-1"}


def _case(value: float, currency: str = "EUR") -> Any:
    return make_policy_case(amount={"value": value, "currency": currency})


AMOUNT_TABLE = [
    # (action, params, case amount, case currency, required approvals)
    pytest.param(
        "issue_credit_memo",
        {**MEMO, "amount": 1200, "currency": "EUR"},
        18_400,
        "EUR",
        1,
        id="small-memo-on-large-case-one-approver",
    ),
    pytest.param("hold_invoice", MEMO, 18_400, "EUR", 2, id="no-own-amount-uses-case-amount"),
    pytest.param(
        "issue_credit_memo",
        {**MEMO, "amount": 1200},
        18_400,
        "EUR",
        1,
        id="memo-without-currency-is-in-case-currency",
    ),
    pytest.param(
        "issue_credit_memo",
        {**MEMO, "amount": 12_000, "currency": "EUR"},
        500,
        "EUR",
        2,
        id="large-memo-on-small-case",
    ),
    pytest.param(
        "issue_credit_memo",
        {**MEMO, "amount": 2000, "currency": "GBP"},
        500,
        "EUR",
        1,
        id="gbp-memo-converted-below-2500",
    ),
    pytest.param(
        "issue_credit_memo",
        {**MEMO, "amount": 2200, "currency": "GBP"},
        500,
        "EUR",
        2,
        id="gbp-memo-converted-above-2500",
    ),
    pytest.param(
        "issue_credit_memo",
        {**MEMO, "amount": 9500, "currency": "EUR"},
        500,
        "USD",
        2,
        id="eur-memo-on-usd-case-crosses-10000",
    ),
    pytest.param(
        "post_inventory_adjustment",
        {**ADJUST, "quantity_delta": -12, "unit_cost": 900.0},
        500,
        "USD",
        2,
        id="adjustment-value-quantity-times-cost",
    ),
    pytest.param(
        "post_inventory_adjustment",
        {**ADJUST, "quantity_delta": -3, "unit_cost": 10.0},
        18_400,
        "USD",
        1,
        id="small-adjustment-on-large-case",
    ),
    pytest.param(
        "post_inventory_adjustment",
        {**ADJUST, "quantity_delta": -3},
        18_400,
        "USD",
        2,
        id="adjustment-without-unit-cost-uses-case-amount",
    ),
]


@pytest.mark.parametrize(("action", "params", "case_amount", "currency", "required"), AMOUNT_TABLE)
def test_four_eyes_reads_the_actions_own_amount_in_the_case_currency(
    action: str, params: dict[str, Any], case_amount: float, currency: str, required: int
) -> None:
    """The gate uses the action's own amount (converted) where it has one, else the case amount."""
    decision = evaluate(
        _case(case_amount, currency), make_proposal(action, params=params), make_context()
    )
    assert decision.outcome == "needs_approval"
    assert decision.required_approvals == required


@pytest.mark.parametrize(("action", "params", "case_amount", "currency", "required"), AMOUNT_TABLE)
def test_the_seal_agrees_with_the_gate(
    action: str, params: dict[str, Any], case_amount: float, currency: str, required: int
) -> None:
    """A record approved as the gate required is sealed; above four-eyes one approver is refused."""
    role = make_proposal(action).approver_role or ""
    people = [person(name, role) for name in ("bob", "dan")[:required]]
    record = make_record(
        action=action,
        approver_role=role,
        params=params,
        status=ApprovalStatus.approved,
        required_approvals=required,
        votes=[make_vote(p) for p in people],
    )
    options: dict[str, Any] = {"idempotency_key": "k", "config": DEFAULT_POLICY}
    assert authorize_posting(record, amount=case_amount, case_currency=currency, **options)
    at_stake = amount_at_stake(_case(case_amount, currency), action, params, DEFAULT_POLICY)
    if at_stake > DEFAULT_POLICY.four_eyes_amount:
        fewer = record.model_copy(update={"required_approvals": 1, "votes": record.votes[:1]})
        with pytest.raises(PolicyRefusal):
            authorize_posting(fewer, amount=case_amount, case_currency=currency, **options)


def test_unknown_conversion_is_denied_by_the_gate_not_guessed() -> None:
    """A credit memo in a currency the policy cannot convert is denied, naming the rule."""
    params = {**MEMO, "amount": 100, "currency": "CHF"}
    decision = evaluate(
        _case(500), make_proposal("issue_credit_memo", params=params), make_context()
    )
    assert decision.outcome == "deny"
    assert "currency-conversion" in decision.rules_fired
    assert any("CHF" in reason for reason in decision.reasons)


def test_unknown_conversion_is_a_policy_refusal() -> None:
    """Converting between currencies the rate table does not hold raises PolicyRefusal."""
    with pytest.raises(PolicyRefusal) as caught:
        convert(100.0, "CHF", "EUR", DEFAULT_POLICY.rates)
    assert caught.value.rule == "currency-conversion"
    params = {**MEMO, "amount": 100, "currency": "CHF"}
    with pytest.raises(PolicyRefusal):
        amount_at_stake(_case(500), "issue_credit_memo", params, DEFAULT_POLICY)
