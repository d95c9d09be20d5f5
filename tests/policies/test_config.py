"""Tests of the policy file: loading, validation against the taxonomy, and stricter-only roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigurationError
from core.taxonomy import Taxonomy
from policies.config import DEFAULT_POLICY_FILE, load_policy
from policies.gate import evaluate
from tests.support.policies import (
    TAXONOMY,
    make_context,
    make_policy,
    make_policy_case,
    make_proposal,
    write_policy,
)


def test_default_policy_file_loads() -> None:
    """The shipped policy loads against the shipped taxonomy with the contract's defaults."""
    config = load_policy(None, TAXONOMY)
    assert config.version == "2026.12.4"
    assert config.four_eyes_amount == 10_000
    assert config.confidence_threshold == 0.6
    assert config.conformal_qhat_floor == 0.904
    assert [r.id for r in config.rules] == ["large-credit-memo-needs-two"]
    assert load_policy(DEFAULT_POLICY_FILE, TAXONOMY) == config


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('version = "t"\n[roles]\nwire_money = "cfo"\n', id="role-for-unknown-action"),
        pytest.param(
            'version = "t"\n[[rules]]\nid = "r"\nactions = ["wire_money"]\neffect = "deny"\n',
            id="rule-for-unknown-action",
        ),
        pytest.param(
            'version = "t"\n[[rules]]\nid = "r"\nactions = ["issue_credit_memo ", "hold_invoice"]\n'
            'effect = "deny"\n',
            id="rule-with-padded-action",
        ),
    ],
)
def test_policy_naming_an_unknown_action_is_rejected(tmp_path: Path, body: str) -> None:
    """A policy that names an action outside the catalogue raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="unknown actions"):
        load_policy(write_policy(tmp_path, body), TAXONOMY)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("four_eyes_amount = 5\n", id="missing-version"),
        pytest.param('version = "t"\nfour_eyes_amount = -1\n', id="negative-four-eyes"),
        pytest.param('version = "t"\nconfidence_threshold = 1.5\n', id="threshold-above-one"),
        pytest.param('version = "t"\nconfidence_threshold = -0.1\n', id="threshold-below-zero"),
        pytest.param('version = "t"\nconformal_qhat_floor = 1.2\n', id="qhat-floor-above-one"),
        pytest.param('version = "t"\nconformal_qhat_floor = -0.1\n', id="qhat-floor-below-zero"),
        pytest.param(
            'version = "t"\n[[rules]]\nid = "r"\neffect = "auto"\n', id="rule-effect-auto"
        ),
        pytest.param(
            'version = "t"\n[[rules]]\nid = "r"\neffect = "allow"\n', id="rule-effect-allow"
        ),
        pytest.param(
            'version = "t"\n[[rules]]\nid = "r"\neffect = "require_zero_approvals"\n',
            id="rule-effect-invented",
        ),
        pytest.param('version = "t"\n[[rules]]\nid = "r"\n', id="rule-without-effect"),
        pytest.param('version = "t"\n[[rules]]\neffect = "deny"\n', id="rule-without-id"),
        pytest.param('version = "t"\nfour_eyes_amount = "lots"\n', id="amount-not-a-number"),
        pytest.param("version = \n", id="invalid-toml"),
    ],
)
def test_invalid_policy_file_is_a_configuration_error(tmp_path: Path, body: str) -> None:
    """Malformed policies, including rules trying to relax (effect auto/allow), fail to load."""
    with pytest.raises(ConfigurationError):
        load_policy(write_policy(tmp_path, body), TAXONOMY)


def test_missing_policy_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A policy path that does not exist raises ConfigurationError, not OSError."""
    with pytest.raises(ConfigurationError):
        load_policy(tmp_path / "absent.toml", TAXONOMY)


def _taxonomy_with(action: str, **over: Any) -> Taxonomy:
    data = TAXONOMY.model_dump()
    for spec in data["actions"]:
        if spec["id"] == action:
            spec.update(over)
    return Taxonomy.model_validate(data)


@pytest.mark.parametrize(
    ("action", "over"),
    [
        pytest.param("issue_credit_memo", {"approver_role": None}, id="erp-role-none"),
        pytest.param("hold_invoice", {"approver_role": ""}, id="erp-role-empty"),
        pytest.param("notify_customer", {"posts_to_erp": True}, id="new-erp-action-without-role"),
    ],
)
def test_taxonomy_with_an_erp_action_without_role_is_rejected(
    action: str, over: dict[str, Any]
) -> None:
    """Every ERP posting must name an approver role, or the policy refuses to load."""
    with pytest.raises(ConfigurationError, match=action):
        load_policy(None, _taxonomy_with(action, **over))


def test_config_role_adds_approval_to_an_action_without_role(tmp_path: Path) -> None:
    """A configured role makes notify_customer wait for that role (stricter is allowed)."""
    path = write_policy(tmp_path, 'version = "t"\n[roles]\nnotify_customer = "cs_lead"\n')
    config = load_policy(path, TAXONOMY)
    assert config.approver_role(TAXONOMY, "notify_customer") == "cs_lead"
    decision = evaluate_action("notify_customer", config)
    assert decision.outcome == "needs_approval"
    assert decision.required_approvals == 1
    assert decision.approver_role == "cs_lead"


@pytest.mark.parametrize(
    ("action", "configured", "catalogue"),
    [
        pytest.param("issue_credit_memo", "ops_supervisor", "finance_approver", id="erp-other"),
        pytest.param("post_inventory_adjustment", "", "inventory_controller", id="erp-empty"),
        pytest.param("rebook_carrier", "intern", "ops_supervisor", id="non-erp-with-role"),
    ],
)
def test_config_role_cannot_replace_a_catalogue_role(
    tmp_path: Path, action: str, configured: str, catalogue: str
) -> None:
    """A configured role for an action that has a catalogue role keeps the catalogue role."""
    path = write_policy(tmp_path, f'version = "t"\n[roles]\n{action} = "{configured}"\n')
    config = load_policy(path, TAXONOMY)
    assert config.approver_role(TAXONOMY, action) == catalogue
    decision = evaluate_action(action, config)
    assert decision.outcome == "needs_approval"
    assert decision.approver_role == catalogue


def test_empty_config_role_does_not_remove_approval_from_erp_action() -> None:
    """Mapping an ERP action to an empty role still leaves an approval by the catalogue role."""
    config = make_policy(roles={"hold_invoice": ""})
    decision = evaluate_action("hold_invoice", config)
    assert decision.outcome == "needs_approval"
    assert decision.approver_role == "finance_approver"


def test_approver_role_of_an_unknown_action_is_none_unless_configured() -> None:
    """approver_role returns None for an action outside the catalogue."""
    assert make_policy().approver_role(TAXONOMY, "wire_money") is None


def test_loosest_configurable_thresholds_still_keep_the_invariants() -> None:
    """With threshold 0 and a huge four-eyes amount, ERP still needs a person and unknown waits."""
    config = make_policy(confidence_threshold=0, four_eyes_amount=1e12)
    assert evaluate_action("issue_credit_memo", config).outcome == "needs_approval"
    assert evaluate_action("notify_customer", config, cause="unknown").outcome == "needs_approval"
    assert evaluate_action("notify_customer", config, prediction_set=()).outcome == (
        "needs_approval"
    )


def evaluate_action(action: str, config: Any, **ctx: Any) -> Any:
    """Evaluates an action on the default case under the given policy."""
    return evaluate(make_policy_case(), make_proposal(action), make_context(config=config, **ctx))
