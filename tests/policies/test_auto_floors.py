"""Table-driven tests of the per-action automatic-execution floors in the policy file."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from policies.config import check_against_taxonomy
from policies.gate import evaluate
from tests.support.policies import (
    DEFAULT_POLICY,
    TAXONOMY,
    make_context,
    make_policy,
    make_policy_case,
    make_proposal,
)

EXTERNAL = (
    "notify_customer",
    "escalate_to_carrier",
    "request_supplier_confirmation",
    "request_compliance_documents",
)
INTERNAL = ("route_to_team", "create_cycle_count")
FLOORS = {**dict.fromkeys(EXTERNAL, 0.9), **dict.fromkeys(INTERNAL, 0.7)}


def outcome(action: str, confidence: float, floors: dict[str, float] = FLOORS) -> str:
    """Returns the gate's outcome for a role-less action under the given floors."""
    config = make_policy(auto_floors=floors)
    decision = evaluate(
        make_policy_case(),
        make_proposal(action),
        make_context(config=config, confidence=confidence),
    )
    return decision.outcome


@pytest.mark.parametrize(
    ("action", "confidence", "expected"),
    [
        *[pytest.param(a, 0.9, "auto", id=f"{a}-at-floor") for a in EXTERNAL],
        *[pytest.param(a, 0.89, "needs_approval", id=f"{a}-below-floor") for a in EXTERNAL],
        *[pytest.param(a, 0.7, "auto", id=f"{a}-at-floor") for a in INTERNAL],
        *[pytest.param(a, 0.69, "needs_approval", id=f"{a}-below-floor") for a in INTERNAL],
        pytest.param("notify_customer", 0.8, "needs_approval", id="external-between-floors"),
        pytest.param("route_to_team", 0.8, "auto", id="internal-between-floors"),
    ],
)
def test_each_action_runs_alone_only_at_its_floor(
    action: str, confidence: float, expected: str
) -> None:
    """An action runs with no person only when the confidence reaches its own floor."""
    assert outcome(action, confidence) == expected


def test_the_floor_below_the_threshold_keeps_the_threshold() -> None:
    """A floor under confidence_threshold cannot relax it."""
    assert outcome("route_to_team", 0.55, {"route_to_team": 0.1}) == "needs_approval"


def test_a_held_action_names_the_floor_rule_and_its_numbers() -> None:
    """The refusal says which floor held the action back and at what confidence."""
    config = make_policy(auto_floors=FLOORS)
    decision = evaluate(
        make_policy_case(),
        make_proposal("notify_customer"),
        make_context(config=config, confidence=0.8),
    )
    assert decision.rules_fired == ["auto-floor"]
    assert "0.80" in decision.reasons[0]
    assert "0.90" in decision.reasons[0]


def test_the_floor_is_an_input_of_the_decision_digest() -> None:
    """Two policies that differ only in a floor give different decision ids."""
    low = evaluate(
        make_policy_case(),
        make_proposal("notify_customer"),
        make_context(config=make_policy(auto_floors={"notify_customer": 0.7})),
    )
    high = evaluate(
        make_policy_case(),
        make_proposal("notify_customer"),
        make_context(config=make_policy(auto_floors={"notify_customer": 0.8})),
    )
    assert low.decision_id != high.decision_id


def test_shipped_policy_asks_more_of_external_than_internal_actions() -> None:
    """Customer- and partner-facing actions have higher floors than internal routing."""
    lowest_external = min(DEFAULT_POLICY.auto_floor(a) for a in EXTERNAL)
    highest_internal = max(DEFAULT_POLICY.auto_floor(a) for a in INTERNAL)
    assert lowest_external > highest_internal >= DEFAULT_POLICY.confidence_threshold


@pytest.mark.parametrize("floor", [-0.1, 1.5, float("nan")])
def test_a_floor_outside_zero_one_does_not_load(floor: float) -> None:
    """A floor must be a probability."""
    with pytest.raises(ValueError, match="auto_floors"):
        make_policy(auto_floors={"notify_customer": floor})


def test_a_floor_for_an_unknown_action_is_refused() -> None:
    """Naming an action the catalogue lacks is a configuration error."""
    with pytest.raises(ConfigurationError, match="unknown actions"):
        check_against_taxonomy(make_policy(auto_floors={"launch_rocket": 0.9}), TAXONOMY)
