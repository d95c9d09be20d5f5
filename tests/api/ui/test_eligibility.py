"""Who is offered which decision on an approval, why not, and how far four-eyes got."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.ui.eligibility import Permissions, permissions, progress_text
from core.approvals import ApprovalRecord, ApprovalStatus, Vote
from core.principals import Principal, PrincipalKind

NOW = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)
SOD = "You proposed or edited this action, so you cannot approve it (segregation of duties)."


def _person(name: str, *roles: str) -> Principal:
    return Principal(name=name, kind=PrincipalKind.person, roles=frozenset(roles))


def _vote(actor: str, decision: str = "approve", roles: tuple[str, ...] = ("buyer",)) -> Vote:
    return Vote(
        actor=actor,
        actor_kind=PrincipalKind.person,
        actor_roles=list(roles),
        decision=decision,  # type: ignore[arg-type]
        at=NOW,
    )


def _record(**over: Any) -> ApprovalRecord:
    fields: dict[str, Any] = {
        "approval_id": "AP-1",
        "case_id": "EXC-1",
        "action": "update_po_eta",
        "params": {"po_id": "PO-123", "new_eta": "2026-12-14"},
        "posts_to_erp": True,
        "approver_role": "buyer",
        "required_approvals": 2,
        "status": ApprovalStatus.pending,
        "decision_id": "PD-1",
        "proposed_by": "api_key:orchestrator",
        "created_at": NOW,
    }
    return ApprovalRecord(**{**fields, **over})


@pytest.mark.parametrize(
    ("record", "me", "expected"),
    [
        (_record(), _person("bob", "buyer"), Permissions(approve=True, reject=True, edit=True)),
        (
            _record(),
            _person("alice", "ops_supervisor"),
            Permissions(why_not="Needs the buyer role."),
        ),
        (
            _record(proposed_by="person:bob"),
            _person("bob", "buyer"),
            Permissions(reject=True, edit=True, why_not=SOD),
        ),
        (
            _record(edited_by=["bob"], votes=[_vote("bob", "edit")]),
            _person("bob", "buyer"),
            Permissions(reject=True, edit=True, why_not=SOD),
        ),
        (
            _record(votes=[_vote("bob")]),
            _person("bob", "buyer"),
            Permissions(
                reject=True,
                edit=True,
                why_not="You already approved this; a second, different person must approve.",
            ),
        ),
        (_record(votes=[_vote("bob")]), _person("dave", "buyer"), Permissions(True, True, True)),
        (_record(status=ApprovalStatus.approved), _person("bob", "buyer"), Permissions()),
        (None, _person("bob", "buyer"), Permissions()),
    ],
    ids=["eligible", "wrong-role", "proposer", "editor", "already-voted", "second", "done", "none"],
)
def test_permissions_follow_the_policy(
    record: ApprovalRecord | None, me: Principal, expected: Permissions
) -> None:
    """Approve is offered only where check_vote allows it, and the reason says which rule bars it."""
    assert permissions(record, me) == expected


def test_a_key_is_never_offered_a_decision() -> None:
    """An API key holding the role still gets no button: only people decide."""
    key = Principal(name="orchestrator", kind=PrincipalKind.api_key, roles=frozenset({"buyer"}))
    found = permissions(_record(), key)
    assert (found.approve, found.reject, found.edit) == (False, False, False)
    assert found.why_not
    assert "not a person" in found.why_not


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (_record(), "0 of 2 approvals"),
        (_record(votes=[_vote("bob")]), "1 of 2 approvals; waiting for a second approver"),
        (
            _record(required_approvals=3, votes=[_vote("bob")]),
            "1 of 3 approvals; waiting for 2 more approvers",
        ),
        (
            _record(votes=[_vote("bob"), _vote("dave")], status=ApprovalStatus.approved),
            "2 of 2 approvals; approved",
        ),
        (_record(votes=[_vote("bob"), _vote("carol", "edit")]), "0 of 2 approvals"),
        (_record(votes=[_vote("eve", roles=("ops_supervisor",))]), "0 of 2 approvals"),
    ],
    ids=["none", "first", "first-of-three", "complete", "edit-resets", "wrong-role-vote"],
)
def test_progress_counts_only_eligible_approvals(record: ApprovalRecord, expected: str) -> None:
    """After one of two approvals the page says so and never calls the approval done."""
    assert progress_text(record) == expected
