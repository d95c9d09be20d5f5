"""Table-driven tests of who may vote on an approval, and when an approval is complete."""

from __future__ import annotations

from typing import Any

import pytest

from core.approvals import ApprovalStatus
from core.errors import Conflict, InvalidInput, PolicyRefusal
from core.principals import AGENT, SYSTEM, Principal
from policies.votes import approvals_missing, check_vote, eligible_approvers
from tests.support.policies import make_record, make_vote, person, principal

FINANCE = "finance_approver"
BOB = person("bob", FINANCE)
DAN = person("dan", FINANCE)
CAROL = person("carol", FINANCE)

NON_PERSONS = [
    pytest.param(principal("api_key", "orchestrator", FINANCE), id="api-key-with-role"),
    pytest.param(principal("agent", "triage-agent", FINANCE), id="agent-with-role"),
    pytest.param(principal("slack_bot", "slack", FINANCE), id="slack-bot-with-role"),
    pytest.param(principal("system", "triage-service", FINANCE), id="system-with-role"),
    pytest.param(principal("api_key", "bob", FINANCE), id="api-key-named-like-a-person"),
    pytest.param(AGENT, id="builtin-agent"),
    pytest.param(SYSTEM, id="builtin-system"),
]


def refusal(record: Any, voter: Principal, decision: str, reason: str | None = None) -> str:
    """Returns the rule of the PolicyRefusal that check_vote raises."""
    with pytest.raises(PolicyRefusal) as caught:
        check_vote(record, voter, decision, reason)  # type: ignore[arg-type]
    return caught.value.rule


# ---- check_vote --------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["approve", "reject", "edit"])
@pytest.mark.parametrize("voter", NON_PERSONS)
def test_non_person_can_never_vote(voter: Principal, decision: str) -> None:
    """API keys, the agent, Slack bots and the system cannot approve, reject or edit."""
    assert refusal(make_record(), voter, decision, "a reason") == "person-only"


@pytest.mark.parametrize("decision", ["approve", "reject", "edit"])
@pytest.mark.parametrize(
    "voter",
    [
        pytest.param(person("eve"), id="no-roles"),
        pytest.param(person("eve", "ops_supervisor", "buyer"), id="other-roles"),
        pytest.param(person("eve", "Finance_Approver"), id="case-variant-role"),
        pytest.param(person("eve", "finance_approver "), id="padded-role"),
    ],
)
def test_person_without_the_role_is_refused(voter: Principal, decision: str) -> None:
    """A person lacking the record's approver role is refused with rule approver-role."""
    with pytest.raises(PolicyRefusal) as caught:
        check_vote(make_record(), voter, decision, "a reason")  # type: ignore[arg-type]
    assert caught.value.rule == "approver-role"
    assert FINANCE in caught.value.message


def test_any_person_may_vote_on_a_record_without_role() -> None:
    """When the action needs no particular role, any person may approve."""
    record = make_record(action="notify_customer", posts_to_erp=False, approver_role=None)
    check_vote(record, person("eve"), "approve", None)


@pytest.mark.parametrize(
    "proposed_by",
    [pytest.param("alice", id="by-name"), pytest.param("person:alice", id="by-label")],
)
def test_proposer_cannot_approve(proposed_by: str) -> None:
    """Segregation of duties: whoever submitted the proposal cannot approve it."""
    record = make_record(proposed_by=proposed_by)
    assert refusal(record, person("alice", FINANCE), "approve") == "segregation-of-duties"


def test_person_sharing_a_name_with_a_non_person_proposer_label_may_approve() -> None:
    """A proposal by `api_key:alice` does not bar the person alice (labels are kind-qualified)."""
    check_vote(make_record(proposed_by="api_key:alice"), person("alice", FINANCE), "approve", None)


@pytest.mark.parametrize(
    "proposed_by",
    [pytest.param("alice", id="by-name"), pytest.param("person:alice", id="by-label")],
)
@pytest.mark.parametrize("decision", ["reject", "edit"])
def test_proposer_may_reject_or_edit(proposed_by: str, decision: str) -> None:
    """The proposer may withdraw (reject with a reason) or edit its own proposal."""
    record = make_record(proposed_by=proposed_by)
    check_vote(record, person("alice", FINANCE), decision, "oops")  # type: ignore[arg-type]


def test_editor_cannot_approve() -> None:
    """Segregation of duties: a person who edited the proposal cannot approve it."""
    record = make_record(edited_by=["carol"])
    assert refusal(record, CAROL, "approve") == "segregation-of-duties"


def test_editor_recorded_by_label_cannot_approve() -> None:
    """An editor recorded as `person:carol` is barred like a proposer recorded by label."""
    record = make_record(edited_by=["person:carol"])
    assert refusal(record, CAROL, "approve") == "segregation-of-duties"


def test_same_person_cannot_approve_twice() -> None:
    """Four-eyes: a second approval must come from a different person."""
    record = make_record(required_approvals=2, votes=[make_vote(BOB)])
    assert refusal(record, BOB, "approve") == "four-eyes"


def test_second_different_person_may_approve() -> None:
    """A different eligible person may add the second approval."""
    record = make_record(required_approvals=2, votes=[make_vote(BOB)])
    check_vote(record, DAN, "approve", None)


def test_earlier_approver_may_approve_again_after_an_edit() -> None:
    """An edit invalidates earlier approvals, so their authors may approve the new parameters."""
    votes = [make_vote(BOB), make_vote(CAROL, "edit", params={"amount": 10})]
    check_vote(make_record(edited_by=["carol"], votes=votes), BOB, "approve", None)


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="spaces"),
        pytest.param("\n\t ", id="whitespace"),
    ],
)
def test_rejection_needs_a_reason(reason: str | None) -> None:
    """A rejection without a non-blank reason is InvalidInput naming the field `reason`."""
    with pytest.raises(InvalidInput) as caught:
        check_vote(make_record(), BOB, "reject", reason)
    assert caught.value.field == "reason"


def test_rejection_with_a_reason_is_allowed() -> None:
    """An eligible person may reject with a reason."""
    check_vote(make_record(), BOB, "reject", "wrong invoice")


def test_approval_needs_no_reason() -> None:
    """Approving without a reason is allowed."""
    check_vote(make_record(), BOB, "approve", None)


@pytest.mark.parametrize(
    "status", [ApprovalStatus.approved, ApprovalStatus.rejected, ApprovalStatus.expired]
)
@pytest.mark.parametrize("decision", ["approve", "reject", "edit"])
def test_vote_on_a_decided_approval_is_a_conflict(status: ApprovalStatus, decision: str) -> None:
    """Only pending approvals take votes; anything else is a Conflict."""
    with pytest.raises(Conflict):
        check_vote(make_record(status=status), BOB, decision, "late")  # type: ignore[arg-type]


def test_policy_refusal_carries_its_rule_in_detail() -> None:
    """PolicyRefusal exposes `.rule` and the same rule in `.detail` for the API error body."""
    with pytest.raises(PolicyRefusal) as caught:
        check_vote(make_record(), AGENT, "approve", None)
    assert caught.value.rule == caught.value.detail["rule"] == "person-only"


# ---- approvals_missing / eligible_approvers ----------------------------------------------------

EVE_NO_ROLE = person("eve")
KEY = principal("api_key", "orchestrator", FINANCE)

ELIGIBILITY_TABLE = [
    # (record overrides, votes, expected eligible approvers)
    pytest.param({}, [], (), id="no-votes"),
    pytest.param({}, [make_vote(BOB)], ("bob",), id="one-eligible"),
    pytest.param({}, [make_vote(BOB), make_vote(DAN)], ("bob", "dan"), id="two-eligible"),
    pytest.param({}, [make_vote(BOB), make_vote(BOB)], ("bob",), id="duplicate-counts-once"),
    pytest.param({"proposed_by": "bob"}, [make_vote(BOB)], (), id="proposer-by-name-barred"),
    pytest.param(
        {"edited_by": ["dan"]}, [make_vote(DAN), make_vote(BOB)], ("bob",), id="editor-barred"
    ),
    pytest.param({}, [make_vote(EVE_NO_ROLE)], (), id="person-without-role"),
    pytest.param({}, [make_vote(KEY)], (), id="api-key-with-role"),
    pytest.param({}, [make_vote(AGENT, actor_roles=[FINANCE])], (), id="agent-with-role"),
    pytest.param(
        {}, [make_vote(principal("slack_bot", "bob", FINANCE))], (), id="bot-named-like-person"
    ),
    pytest.param(
        {"edited_by": ["carol"]},
        [make_vote(BOB), make_vote(CAROL, "edit", params={"amount": 1}), make_vote(DAN)],
        ("dan",),
        id="votes-before-edit-void",
    ),
    pytest.param(
        {}, [make_vote(BOB), make_vote(DAN, "reject", reason="no")], ("bob",), id="rejects-ignored"
    ),
    pytest.param({"approver_role": None}, [make_vote(EVE_NO_ROLE)], ("eve",), id="no-role-needed"),
]


@pytest.mark.parametrize(("over", "votes", "expected"), ELIGIBILITY_TABLE)
def test_eligible_approvers(
    over: dict[str, Any], votes: list[Any], expected: tuple[str, ...]
) -> None:
    """Only distinct people with the role, not barred, since the last edit, count as approvers."""
    record = make_record(votes=votes, **over)
    assert eligible_approvers(record) == expected


@pytest.mark.parametrize(("over", "votes", "expected"), ELIGIBILITY_TABLE)
def test_approvals_missing_counts_only_eligible_approvers(
    over: dict[str, Any], votes: list[Any], expected: tuple[str, ...]
) -> None:
    """A two-approval record misses 2 minus the number of eligible approvers."""
    record = make_record(required_approvals=2, votes=votes, **over)
    assert approvals_missing(record) == max(0, 2 - len(expected))


def test_two_distinct_eligible_people_complete_a_two_approval_record() -> None:
    """Bob and Dan, both finance approvers, complete a four-eyes record."""
    record = make_record(required_approvals=2, votes=[make_vote(BOB), make_vote(DAN)])
    assert approvals_missing(record) == 0


def test_role_is_judged_by_the_roles_held_when_voting() -> None:
    """A vote counts by the roles recorded on it, not by roles the person gains later."""
    record = make_record(votes=[make_vote(person("bob"))])
    assert approvals_missing(record) == 1


def test_proposer_recorded_by_label_is_not_an_eligible_approver() -> None:
    """A proposal by `person:alice` does not count alice's own approval (as check_vote refuses)."""
    record = make_record(proposed_by="person:alice", votes=[make_vote(person("alice", FINANCE))])
    assert eligible_approvers(record) == ()
    assert approvals_missing(record) == 1
