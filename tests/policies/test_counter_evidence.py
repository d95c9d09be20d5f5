"""Table-driven tests of the rule that holds automation back when the case says the cause is absent."""

from __future__ import annotations

from typing import Any

import pytest

from policies.gate import evaluate, policy_inputs
from tests.support.policies import (
    ALL_ACTIONS,
    NON_ERP_WITHOUT_ROLE,
    UNCERTAINTY_CONTEXTS,
    assert_held_for_one_person,
    assert_no_looser,
    make_context,
    make_policy,
    make_policy_case,
    make_proposal,
)
from tests.support.policies import decide_in_context as decide

CONTEXTS = [*UNCERTAINTY_CONTEXTS, pytest.param({"own_evidence": ()}, id="no-own-evidence")]


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_counter_evidence_holds_a_confident_automatic_action_for_a_person(action: str) -> None:
    """A confident, grounded cause that the case itself says is absent waits for one person."""
    decision = decide(action, counter_evidence=("cleared:message",))
    assert_held_for_one_person(decision, "counter-evidence", "carrier_delay", "cleared:message")


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_a_policy_may_switch_the_counter_evidence_rule_off(action: str) -> None:
    """hold_on_counter_evidence = false restores the decision without the rule."""
    config = make_policy(hold_on_counter_evidence=False)
    assert decide(action, config=config, counter_evidence=("fact:price_agrees",)).outcome == "auto"


@pytest.mark.parametrize("ctx", CONTEXTS)
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_counter_evidence_only_ever_tightens(action: str, ctx: dict[str, Any]) -> None:
    """Read from text, counter evidence can hold an action back but never let one run.

    Without it the outcome is exactly the one the gate gives with the rule switched off; with
    it the outcome is that one or stricter, and never fewer approvals.
    """
    off_config = make_policy(hold_on_counter_evidence=False)
    off = decide(action, config=off_config, counter_evidence=("cleared:event",), **ctx)
    without = decide(action, counter_evidence=(), **ctx)
    with_it = decide(action, counter_evidence=("cleared:event",), **ctx)
    assert (without.outcome, without.rules_fired) == (off.outcome, off.rules_fired)
    assert_no_looser(with_it, off)


def test_counter_evidence_is_an_input_of_the_decision_digest() -> None:
    """The logged inputs carry the counter evidence, so decisions on different evidence differ."""
    case, proposal = make_policy_case(), make_proposal("notify_customer")
    context = make_context(counter_evidence=("fact:credit_in_order",))
    inputs = policy_inputs(case, proposal, context)
    assert inputs["counter_evidence"] == ["fact:credit_in_order"]
    assert inputs["hold_on_counter_evidence"] is True
    assert evaluate(case, proposal, context).decision_id != (
        evaluate(case, proposal, make_context()).decision_id
    )


def test_the_reason_says_which_kind_of_counter_evidence_held_the_action() -> None:
    """A ruled-out condition and an undetermined cause read differently to the reviewer."""
    ruled_out = decide("notify_customer", counter_evidence=("cleared:message",)).reasons[0]
    undetermined = decide("notify_customer", counter_evidence=("undetermined:message",)).reasons[0]
    both = decide(
        "notify_customer",
        counter_evidence=("conflict:credit_blocked", "fact:on_time", "undetermined:event"),
    ).reasons[0]
    assert "condition of carrier_delay does not hold (cleared:message)" in ruled_out
    assert "nobody has established the cause (undetermined:message)" in undetermined
    assert "condition of" not in undetermined
    assert "(fact:on_time)" in both
    assert "(undetermined:event)" in both
    assert "a fact that settles another cause (conflict:credit_blocked)" in both
    first = decide("notify_customer", counter_evidence=("ruled_out:credit_hold",)).reasons[0]
    assert "ruled out the cause scored first (ruled_out:credit_hold)" in first
    assert "condition of" not in first
