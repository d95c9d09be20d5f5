"""Table-driven tests of the rules on where a cause's evidence sits: messages alone, or only the
symptom the orchestrator reported, let no action run with no person."""

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

RULE_OF = {
    "require_record_evidence": "messages-only-evidence",
    "require_cause_evidence": "symptom-only-evidence",
}
SWITCHES = tuple(RULE_OF)
# Own evidence -> the rule that holds the action, or None when it runs alone.
PLACES = [
    pytest.param(("cue:message",), "messages-only-evidence", id="message-cue"),
    pytest.param(("cue:case",), "symptom-only-evidence", id="stalled-step-cue"),
    pytest.param(("fact:po_ack_missing",), "symptom-only-evidence", id="unacknowledged-po"),
    pytest.param(("cue:case", "fact:po_ack_missing"), "symptom-only-evidence", id="both-symptoms"),
    pytest.param(("cue:event",), None, id="event-cue"),
    pytest.param(("code:AO",), None, id="code"),
    pytest.param(("fact:credit_blocked",), None, id="fact"),
    pytest.param(("cue:message", "cue:event"), None, id="message-and-event"),
    pytest.param(("cue:message", "fact:credit_blocked"), None, id="message-and-fact"),
    pytest.param(("cue:case", "cue:event"), None, id="stalled-step-and-event"),
    pytest.param(("fact:po_ack_missing", "cue:message"), None, id="unacknowledged-po-and-message"),
]


@pytest.mark.parametrize("switch", SWITCHES)
def test_the_shipped_policy_and_an_older_policy_file_have_the_rules_on(switch: str) -> None:
    """A policy written before the rules existed is as strict as the shipped one, not looser."""
    assert getattr(DEFAULT_POLICY, switch) is True
    assert getattr(PolicyConfig.model_validate({"version": "older"}), switch) is True


@pytest.mark.parametrize(("own", "rule"), PLACES)
@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_where_the_evidence_sits_decides_whether_an_action_runs_alone(
    action: str, own: tuple[str, ...], rule: str | None
) -> None:
    """A confident cause runs a role-less action unless its evidence is only messages or symptom."""
    decision = decide(action, own_evidence=own)
    if rule is None:
        assert (decision.outcome, decision.rules_fired) == ("auto", [])
    else:
        assert_held_for_one_person(decision, rule, "carrier_delay")


def test_the_reasons_say_what_the_evidence_was() -> None:
    messages = decide("notify_customer", own_evidence=("cue:message",))
    symptom = decide("notify_customer", own_evidence=("cue:case", "fact:po_ack_missing"))
    assert "only messages" in messages.reasons[0]
    assert "cue:case, fact:po_ack_missing" in symptom.reasons[0]
    assert "where the workflow is stuck" in symptom.reasons[0]


@pytest.mark.parametrize(("own", "rule"), [p for p in PLACES if p.values[1] is not None])
@pytest.mark.parametrize("switch", SWITCHES)
def test_a_policy_may_switch_each_rule_off(switch: str, own: tuple[str, ...], rule: str) -> None:
    """Each switch turns off its own rule and leaves the other one in force."""
    decision = decide("notify_customer", config=make_policy(**{switch: False}), own_evidence=own)
    if RULE_OF[switch] == rule:
        assert (decision.outcome, decision.rules_fired) == ("auto", [])
    else:
        assert decision.rules_fired == [rule]


@pytest.mark.parametrize("action", NON_ERP_WITHOUT_ROLE)
def test_with_no_evidence_at_all_the_rules_stay_quiet(action: str) -> None:
    """No evidence is require_own_evidence's to judge; switched off, nothing holds the action."""
    lenient = make_policy(require_own_evidence=False)
    assert decide(action, config=lenient, own_evidence=()).rules_fired == []


@pytest.mark.parametrize("ctx", UNCERTAINTY_CONTEXTS)
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_the_rules_never_loosen_what_the_gate_decides_without_them(
    action: str, ctx: dict[str, Any]
) -> None:
    """Read from text, the evidence's place can only hold an action back, never let one run."""
    off = make_policy(**dict.fromkeys(SWITCHES, False))
    for own, rule in (p.values for p in PLACES):
        without_rules = decide(action, config=off, own_evidence=own, **ctx)
        with_rules = decide(action, own_evidence=own, **ctx)
        assert_no_looser(with_rules, without_rules)
        if rule is None:
            assert (with_rules.outcome, with_rules.rules_fired) == (
                without_rules.outcome,
                without_rules.rules_fired,
            )


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_is_an_input_of_the_decision_digest(switch: str) -> None:
    case, proposal = make_policy_case(), make_proposal("notify_customer")
    context = make_context(own_evidence=("cue:event",))
    assert policy_inputs(case, proposal, context)[switch] is True
    off = make_context(own_evidence=("cue:event",), config=make_policy(**{switch: False}))
    assert (
        evaluate(case, proposal, context).decision_id != evaluate(case, proposal, off).decision_id
    )
