"""Small factories for policy tests: cases, proposals, contexts, approval records and voters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.approvals import ApprovalRecord, ApprovalStatus, Vote
from core.models import Case
from core.principals import Principal, PrincipalKind
from core.results import PolicyDecision, ProposedAction
from core.taxonomy import Taxonomy, load_taxonomy
from policies.config import PolicyConfig, load_policy
from policies.gate import PolicyContext, evaluate
from tests.support.cases import make_case

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)

TAXONOMY: Taxonomy = load_taxonomy()
DEFAULT_POLICY: PolicyConfig = load_policy(None, TAXONOMY)

ERP_ACTIONS = [a.id for a in TAXONOMY.actions if a.posts_to_erp]
NON_ERP_WITH_ROLE = [a.id for a in TAXONOMY.actions if not a.posts_to_erp and a.approver_role]
NON_ERP_WITHOUT_ROLE = [
    a.id for a in TAXONOMY.actions if not a.posts_to_erp and not a.approver_role
]


def role_of(action: str) -> str | None:
    """Returns the catalogue approver role of an action."""
    return TAXONOMY.action_index[action].approver_role


def make_policy_case(**over: Any) -> Case:
    """Returns a valid case; keyword arguments override fields (amount=None drops the amount)."""
    data: dict[str, Any] = {
        "case_id": "CASE-1001",
        "workflow": "delivery",
        "stalled_step": "proof_of_delivery",
        "detected_at": T0.isoformat(),
        "site": "DC-EAST",
        "refs": {"order_id": "SO-1", "shipment_id": "SH-1", "carrier": "ACME"},
        "amount": {"value": 500.0, "currency": "USD"},
        "events": [
            {
                "at": (T0 - timedelta(hours=3)).isoformat(),
                "system": "CARRIER",
                "type": "in_transit_exception",
                "detail": "weather delay at hub",
                "code": "AO",
            }
        ],
        "messages": [
            {
                "at": (T0 - timedelta(hours=2)).isoformat(),
                "channel": "email",
                "direction": "inbound",
                "party": "carrier",
                "sender": "ops@acme.example",
                "subject": "Delay notice",
                "body": "Freight held at hub due to snow, expect 24h delay.",
            }
        ],
        "attributes": {"credit_status": "ok"},
    }
    return Case.model_validate(make_case(**{**data, **over}))


def make_proposal(action: str = "escalate_to_carrier", **over: Any) -> ProposedAction:
    """Returns a proposal whose catalogue fields match the default taxonomy unless overridden."""
    spec = TAXONOMY.action_index.get(action)
    data: dict[str, Any] = {
        "action": action,
        "params": {},
        "posts_to_erp": spec.posts_to_erp if spec else False,
        "approver_role": spec.approver_role if spec else None,
        "rationale": "carrier reported a weather delay",
    }
    data.update(over)
    return ProposedAction.model_validate(data)


def make_policy(**over: Any) -> PolicyConfig:
    """Returns the default policy with fields overridden (validated like a policy file)."""
    data = DEFAULT_POLICY.model_dump()
    data.update(over)
    return PolicyConfig.model_validate(data)


def make_context(**over: Any) -> PolicyContext:
    """Returns a confident singleton context under the default policy; kwargs override fields."""
    data: dict[str, Any] = {
        "config": DEFAULT_POLICY,
        "taxonomy": TAXONOMY,
        "cause": "carrier_delay",
        "confidence": 0.9,
        "prediction_set": ("carrier_delay",),
        "own_evidence": ("code:AO",),
    }
    data.update(over)
    return PolicyContext(**data)


def person(name: str, *roles: str) -> Principal:
    """Returns a person principal holding the given roles."""
    return Principal(name=name, kind=PrincipalKind.person, roles=frozenset(roles))


def principal(kind: str, name: str, *roles: str) -> Principal:
    """Returns a principal of any kind holding the given roles."""
    return Principal(name=name, kind=PrincipalKind(kind), roles=frozenset(roles))


def make_vote(voter: Principal, decision: str = "approve", **over: Any) -> Vote:
    """Returns a vote recorded the way the store records it (actor name, kind, roles)."""
    data: dict[str, Any] = {
        "actor": voter.name,
        "actor_kind": voter.kind,
        "actor_roles": sorted(voter.roles),
        "decision": decision,
        "reason": "looks right" if decision != "approve" else None,
        "at": T0 + timedelta(minutes=5),
    }
    data.update(over)
    return Vote.model_validate(data)


def make_record(**over: Any) -> ApprovalRecord:
    """Returns a pending ERP approval record for issue_credit_memo proposed by the agent."""
    data: dict[str, Any] = {
        "approval_id": "APR-1",
        "case_id": "CASE-1001",
        "action": "issue_credit_memo",
        "params": {"invoice_id": "INV-1", "amount": 500.0},
        "posts_to_erp": True,
        "approver_role": "finance_approver",
        "required_approvals": 1,
        "status": ApprovalStatus.pending,
        "decision_id": "PD-0001",
        "proposed_by": "agent:triage-agent",
        "edited_by": [],
        "votes": [],
        "created_at": T0,
    }
    data.update(over)
    return ApprovalRecord.model_validate(data)


def write_policy(directory: Path, body: str) -> Path:
    """Writes a policy TOML file and returns its path."""
    path = directory / "policy.toml"
    path.write_text(body)
    return path


ALL_ACTIONS = [a.id for a in TAXONOMY.actions]
# Gate contexts from certain to uncertain, for rules that must only ever tighten a decision.
UNCERTAINTY_CONTEXTS = [
    pytest.param({}, id="confident-singleton"),
    pytest.param({"confidence": 0.7}, id="below-external-floor"),
    pytest.param({"confidence": 0.5}, id="below-threshold"),
    pytest.param({"prediction_set": ("carrier_delay", "credit_hold")}, id="two-cause-set"),
    pytest.param({"cause": "unknown", "prediction_set": ()}, id="unknown"),
]


def decide_in_context(action: str, **ctx: Any) -> PolicyDecision:
    """Evaluates one action on the default case under a context with the given fields overridden."""
    return evaluate(make_policy_case(), make_proposal(action), make_context(**ctx))


def assert_held_for_one_person(decision: PolicyDecision, rule: str, *named: str) -> None:
    """Asserts that one evidence rule alone held the action for one person, naming `named`."""
    assert decision.outcome == "needs_approval"
    assert decision.required_approvals == 1
    assert decision.rules_fired == [rule]
    assert all(text in decision.reasons[0] for text in named)


OUTCOME_RANK = {"auto": 0, "needs_approval": 1, "deny": 2}


def assert_no_looser(decision: PolicyDecision, baseline: PolicyDecision) -> None:
    """Asserts that the decision is the baseline's outcome or stricter, with no fewer approvals."""
    assert OUTCOME_RANK[decision.outcome] >= OUTCOME_RANK[baseline.outcome]
    assert decision.required_approvals >= baseline.required_approvals
