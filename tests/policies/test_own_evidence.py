"""Table-driven tests of the rule that automation needs evidence in the case's own documents."""

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

# Contexts from certain to uncertain: each is checked with and without own evidence.
CONTEXTS = UNCERTAINTY_CONTEXTS


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_a_confident_cause_with_nothing_in_the_case_behind_it_waits_for_a_person(
    action: str,
) -> None:
    """With no cue, code or fact in the case's own documents, a role-less action does not run."""
    decision = decide(action, own_evidence=())
    assert_held_for_one_person(decision, "no-own-evidence", "carrier_delay")


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_a_confident_cause_with_own_evidence_runs_alone(action: str) -> None:
    """The same context with one piece of own evidence runs the action with no person."""
    assert decide(action, own_evidence=("fact:credit_blocked",)).outcome == "auto"


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_a_policy_may_switch_the_rule_off(action: str) -> None:
    """require_own_evidence = false restores the confidence-only decision."""
    config = make_policy(require_own_evidence=False)
    assert decide(action, config=config, own_evidence=()).outcome == "auto"


@pytest.mark.parametrize("ctx", CONTEXTS)
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_own_evidence_never_loosens_what_the_gate_decides_without_the_rule(
    action: str, ctx: dict[str, Any]
) -> None:
    """Evidence read from text can only keep the rule from firing, never relax another rule.

    With evidence the outcome is exactly the one the gate gives with the rule switched off;
    without it the outcome is that one or stricter.
    """
    off = decide(action, config=make_policy(require_own_evidence=False), own_evidence=(), **ctx)
    with_evidence = decide(action, own_evidence=("cue:message", "code:AO"), **ctx)
    without = decide(action, own_evidence=(), **ctx)
    assert (with_evidence.outcome, with_evidence.rules_fired) == (off.outcome, off.rules_fired)
    assert with_evidence.required_approvals == off.required_approvals
    assert_no_looser(without, off)


def test_own_evidence_is_an_input_of_the_decision_digest() -> None:
    """The logged inputs carry the evidence kinds, so two decisions on different evidence differ."""
    case, proposal = make_policy_case(), make_proposal("notify_customer")
    inputs = policy_inputs(case, proposal, make_context(own_evidence=("code:AO",)))
    assert inputs["own_evidence"] == ["code:AO"]
    assert inputs["require_own_evidence"] is True
    with_it = evaluate(case, proposal, make_context(own_evidence=("code:AO",)))
    without = evaluate(case, proposal, make_context(own_evidence=()))
    assert with_it.decision_id != without.decision_id
