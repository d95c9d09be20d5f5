"""Table-driven tests of the rule that a message's cue alone does not let an action run."""

from __future__ import annotations

from typing import Any

import pytest

from policies.config import PolicyConfig
from policies.gate import evaluate, policy_inputs
from tests.support.policies import (
    ALL_ACTIONS,
    DEFAULT_POLICY,
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

IN_RECORDS = [
    pytest.param(("cue:event",), id="event-cue"),
    pytest.param(("cue:case",), id="stalled-step-cue"),
    pytest.param(("code:AO",), id="code"),
    pytest.param(("fact:credit_blocked",), id="fact"),
    pytest.param(("cue:message", "cue:event"), id="message-and-event"),
    pytest.param(("cue:message", "fact:credit_blocked"), id="message-and-fact"),
]


def test_the_shipped_policy_asks_for_evidence_in_the_records() -> None:
    assert DEFAULT_POLICY.require_record_evidence is True


def test_a_policy_file_that_does_not_name_the_rule_gets_it() -> None:
    """A policy written before the rule existed is as strict as the shipped one, not looser."""
    assert PolicyConfig.model_validate({"version": "older"}).require_record_evidence is True


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_a_cue_in_a_message_alone_waits_for_a_person(action: str) -> None:
    """A confident cause whose only backing is a message's wording does not run with no person."""
    decision = decide(action, own_evidence=("cue:message",))
    assert_held_for_one_person(decision, "messages-only-evidence", "carrier_delay", "only messages")


@pytest.mark.parametrize("own", IN_RECORDS)
@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_evidence_in_the_records_runs_alone(action: str, own: tuple[str, ...]) -> None:
    """A stalled step, event, code or fact, with or without a message beside it, is enough."""
    decision = decide(action, own_evidence=own)
    assert (decision.outcome, decision.rules_fired) == ("auto", [])


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_a_policy_may_switch_the_rule_off(action: str) -> None:
    config = make_policy(require_record_evidence=False)
    assert decide(action, config=config, own_evidence=("cue:message",)).outcome == "auto"


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_with_no_evidence_at_all_the_rule_stays_quiet(action: str) -> None:
    """No evidence is require_own_evidence's to judge; switched off, nothing holds the action."""
    lenient = make_policy(require_own_evidence=False)
    assert decide(action, config=lenient, own_evidence=()).rules_fired == []


@pytest.mark.parametrize("ctx", UNCERTAINTY_CONTEXTS)
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_the_rule_never_loosens_what_the_gate_decides_without_it(
    action: str, ctx: dict[str, Any]
) -> None:
    """Read from text, the evidence's place can only hold an action back, never let one run."""
    off = make_policy(require_record_evidence=False)
    for own in [("cue:message",), ("cue:message", "code:AO"), ("cue:event",)]:
        without_rule = decide(action, config=off, own_evidence=own, **ctx)
        with_rule = decide(action, own_evidence=own, **ctx)
        assert_no_looser(with_rule, without_rule)
        if own != ("cue:message",):
            assert (with_rule.outcome, with_rule.rules_fired) == (
                without_rule.outcome,
                without_rule.rules_fired,
            )


def test_the_switch_is_an_input_of_the_decision_digest() -> None:
    case, proposal = make_policy_case(), make_proposal("notify_customer")
    context = make_context(own_evidence=("cue:event",))
    assert policy_inputs(case, proposal, context)["require_record_evidence"] is True
    off = make_context(
        own_evidence=("cue:event",), config=make_policy(require_record_evidence=False)
    )
    assert (
        evaluate(case, proposal, context).decision_id != evaluate(case, proposal, off).decision_id
    )
