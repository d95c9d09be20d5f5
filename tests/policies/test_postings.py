"""Tests of authorize_posting() and the sealed ApprovedPosting value it alone can build."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from core.approvals import ApprovalStatus
from core.errors import PolicyRefusal
from policies import postings as posting_module
from policies.postings import ApprovedPosting, authorize_posting
from tests.support.policies import (
    DEFAULT_POLICY,
    TAXONOMY,
    make_policy,
    make_record,
    make_vote,
    person,
    principal,
)

FINANCE = "finance_approver"
BOB = person("bob", FINANCE)
DAN = person("dan", FINANCE)
KEY = "idem-CASE-1001-issue_credit_memo"
# An ERP action without an amount of its own: four-eyes reads the case amount for it.
HOLD = {"action": "hold_invoice", "params": {"invoice_id": "INV-1"}}


def authorize(record: Any, amount: float = 500.0, config: Any = DEFAULT_POLICY) -> ApprovedPosting:
    """Calls authorize_posting with the default key and policy."""
    return authorize_posting(record, idempotency_key=KEY, amount=amount, config=config)


def approved(*voters: Any, **over: Any) -> Any:
    """Returns an approved record carrying one approving vote per voter."""
    return make_record(status=ApprovalStatus.approved, votes=[make_vote(v) for v in voters], **over)


# ---- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [ApprovalStatus.pending, ApprovalStatus.rejected, ApprovalStatus.expired]
)
def test_refuses_a_record_that_is_not_approved(status: ApprovalStatus) -> None:
    """Only an approved record can become a posting, whatever votes it holds."""
    record = make_record(status=status, votes=[make_vote(BOB), make_vote(DAN)])
    with pytest.raises(PolicyRefusal) as caught:
        authorize(record)
    assert caught.value.rule == "approved"


@pytest.mark.parametrize("action", ["notify_customer", "rebook_carrier"])
def test_refuses_a_non_erp_action(action: str) -> None:
    """A record for an action that does not post to the ERP cannot be sealed as a posting."""
    record = approved(BOB, action=action, posts_to_erp=False, approver_role=None)
    with pytest.raises(PolicyRefusal) as caught:
        authorize(record)
    assert caught.value.rule == "catalogue"


FORGED_RECORDS = [
    # (record overrides, voters, amount, expected rule)
    pytest.param({}, [], 500, "erp-needs-person", id="approved-without-votes"),
    pytest.param({"required_approvals": 0}, [], 500, "erp-needs-person", id="required-zero"),
    pytest.param({"required_approvals": 2}, [BOB], 500, "four-eyes", id="one-of-two"),
    pytest.param(HOLD, [BOB], 15_000, "four-eyes", id="stored-1-but-amount-above-threshold"),
    pytest.param(HOLD, [BOB, BOB], 15_000, "four-eyes", id="same-person-twice"),
    pytest.param(
        {"proposed_by": "bob"}, [BOB], 500, "erp-needs-person", id="proposer-approved-own"
    ),
    pytest.param(
        {**HOLD, "proposed_by": "bob"}, [BOB, DAN], 15_000, "four-eyes", id="proposer-plus-one"
    ),
    pytest.param({"edited_by": ["bob"]}, [BOB], 500, "erp-needs-person", id="editor-approved"),
    pytest.param({}, [person("eve")], 500, "erp-needs-person", id="approver-without-role"),
    pytest.param(
        {}, [principal("api_key", "orchestrator", FINANCE)], 500, "erp-needs-person", id="api-key"
    ),
    pytest.param(
        {}, [principal("agent", "triage-agent", FINANCE)], 500, "erp-needs-person", id="agent"
    ),
    pytest.param(
        {}, [principal("slack_bot", "slack", FINANCE)], 500, "erp-needs-person", id="slack-bot"
    ),
    pytest.param({}, [principal("system", "svc", FINANCE)], 500, "erp-needs-person", id="system"),
]


@pytest.mark.parametrize(("over", "voters", "amount", "rule"), FORGED_RECORDS)
def test_refuses_a_record_without_enough_eligible_approvers(
    over: dict[str, Any], voters: list[Any], amount: float, rule: str
) -> None:
    """An approved record is re-checked: barred, role-less or non-person votes do not count."""
    with pytest.raises(PolicyRefusal) as caught:
        authorize(approved(*voters, **over), amount=amount)
    assert caught.value.rule == rule


def test_refuses_approvals_voided_by_a_later_edit() -> None:
    """Approvals cast before an edit do not authorize the edited parameters."""
    votes = [make_vote(BOB), make_vote(person("carol", FINANCE), "edit", params={"amount": 900})]
    record = make_record(status=ApprovalStatus.approved, edited_by=["carol"], votes=votes)
    with pytest.raises(PolicyRefusal):
        authorize(record)


def test_threshold_recomputation_uses_the_configured_amount() -> None:
    """A stricter configured four-eyes amount is applied when sealing, not only when deciding."""
    with pytest.raises(PolicyRefusal) as caught:
        authorize(approved(BOB), amount=500, config=make_policy(four_eyes_amount=100))
    assert caught.value.rule == "four-eyes"


def test_params_amount_above_threshold_needs_two_approvers_whatever_amount_is_passed() -> None:
    """The amount in the record's own params also forces four-eyes when sealing."""
    record = approved(BOB, params={"invoice_id": "INV-1", "amount": 50_000})
    with pytest.raises(PolicyRefusal):
        authorize(record, amount=100)


def test_refuses_an_erp_record_without_an_approver_role() -> None:
    """An ERP record with no approver role is forged or broken and cannot be sealed."""
    with pytest.raises(PolicyRefusal):
        authorize(approved(person("eve"), approver_role=None))


# ---- success -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voters", "required", "amount", "expected"),
    [
        pytest.param([BOB], 1, 500, ("bob",), id="one-approver"),
        pytest.param([BOB, DAN], 2, 15_000, ("bob", "dan"), id="four-eyes"),
        pytest.param([BOB], 1, 15_000, ("bob",), id="own-500-amount-on-a-15000-case"),
        pytest.param([BOB, DAN], 1, 10_000, ("bob", "dan"), id="extra-approver-ok"),
        pytest.param(
            [person("eve"), BOB], 1, 500, ("bob",), id="ineligible-votes-left-out-of-approvers"
        ),
    ],
)
def test_seals_a_complete_record_with_its_eligible_approvers(
    voters: list[Any], required: int, amount: float, expected: tuple[str, ...]
) -> None:
    """A complete record becomes a posting naming exactly its eligible approvers."""
    record = approved(*voters, required_approvals=required)
    posting = authorize(record, amount=amount)
    assert posting.approvers == expected
    assert len(posting.digest) == 64
    assert posting.case_id == record.case_id
    assert posting.action == record.action
    assert posting.params == {"invoice_id": "INV-1", "po_id": None, "supplier_id": None,
                              "amount": 500.0, "currency": None}  # fmt: skip
    assert posting.approval_id == record.approval_id
    assert posting.idempotency_key == KEY
    assert posting.policy_version == DEFAULT_POLICY.version
    assert posting.payload()["approved_by"] == list(expected)


def test_posting_params_are_a_copy_of_the_record_params() -> None:
    """Changing the record after sealing does not change the posting's parameters."""
    record = approved(BOB)
    posting = authorize(record)
    record.params["amount"] = 999_999
    assert posting.params["amount"] == 500.0


# ---- the seal ----------------------------------------------------------------------------------


def _fields(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "case_id": "CASE-1001",
        "action": "issue_credit_memo",
        "params": {"amount": 1},
        "idempotency_key": KEY,
        "approval_id": "APR-1",
        "approvers": ("bob",),
        "policy_version": "2026.12.2",
        "seal": posting_module._SEAL,
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    "seal",
    [
        pytest.param(None, id="none"),
        pytest.param(object(), id="fresh-object"),
        pytest.param(copy.copy(posting_module._SEAL), id="shallow-copy"),
        pytest.param(copy.deepcopy(posting_module._SEAL), id="deep-copy"),
        pytest.param(pickle.loads(pickle.dumps(posting_module._SEAL)), id="pickled-copy"),
        pytest.param("POSTING_SEAL", id="string"),
        pytest.param(True, id="true"),
    ],
)
def test_approved_posting_cannot_be_built_without_the_real_seal(seal: object) -> None:
    """Only the identical POSTING_SEAL object makes a valid ApprovedPosting."""
    with pytest.raises(TypeError):
        ApprovedPosting(**_fields(seal=seal))


def test_approved_posting_needs_a_seal_argument() -> None:
    """Leaving the seal out is a TypeError."""
    data = _fields()
    del data["seal"]
    with pytest.raises(TypeError):
        ApprovedPosting(**data)


@pytest.mark.parametrize("approvers", [(), []], ids=["empty-tuple", "empty-list"])
def test_approved_posting_needs_an_approver(approvers: Any) -> None:
    """Even with the real seal, a posting without approvers is a TypeError."""
    with pytest.raises(TypeError):
        ApprovedPosting(**_fields(approvers=approvers))


def test_replace_cannot_strip_the_approvers_of_a_posting() -> None:
    """dataclasses.replace re-runs the checks, so approvers cannot be emptied."""
    posting = authorize(approved(BOB))
    with pytest.raises(TypeError):
        dataclasses.replace(posting, approvers=())


def test_posting_fields_cannot_be_reassigned() -> None:
    """ApprovedPosting is frozen: no field can be reassigned or deleted."""
    posting = authorize(approved(BOB))
    with pytest.raises(AttributeError):
        posting.action = "release_credit_hold"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del posting.case_id


def test_posting_params_cannot_be_mutated_after_sealing() -> None:
    """Changing the params a posting hands out leaves the sealed parameters and payload as they were."""
    posting = authorize(approved(BOB))
    before = posting.payload()
    posting.params["amount"] = 1_000_000
    assert posting.payload() == before
    assert posting.params.get("amount") != 1_000_000


def test_replace_cannot_retarget_a_sealed_posting() -> None:
    """A sealed posting cannot be copied into a posting for other parameters or another action."""
    posting = authorize(approved(BOB))
    with pytest.raises(TypeError):
        dataclasses.replace(posting, action="release_credit_hold", params={"amount": 1_000_000})


# ---- the parameter schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "new_eta": "next tuesday-ish", "frobnicate": "x"},
            "params.new_eta",
            id="free-text-eta",
        ),
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "new_eta": "2026-12-01", "frobnicate": "x"},
            "params.frobnicate",
            id="unknown-key",
        ),
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "new_eta": None},
            "params.new_eta",
            id="eta-left-empty",
        ),
        pytest.param(
            "post_inventory_adjustment",
            {"site": "DC-1", "sku": "S-1", "quantity_delta": "twelve"},
            "params.quantity_delta",
            id="twelve",
        ),
    ],
)
def test_refuses_a_record_whose_params_fail_the_schema(
    action: str, params: dict[str, Any], field: str
) -> None:
    """An approved record is sealed only from parameters that pass the catalogue schema."""
    role = TAXONOMY.action(action).approver_role or ""
    record = approved(person("bob", role), action=action, approver_role=role, params=params)
    with pytest.raises(PolicyRefusal) as caught:
        authorize(record)
    assert caught.value.rule == "params-schema"
    assert caught.value.detail["field"] == field


def test_posts_the_typed_canonical_values() -> None:
    """Numeric text approved by a person is posted as a number, not as text."""
    role = "inventory_controller"
    params = {"site": "DC-1", "sku": "SKU-1", "quantity_delta": "-6"}
    record = approved(
        person("bob", role), action="post_inventory_adjustment", approver_role=role, params=params
    )
    assert authorize(record).params["quantity_delta"] == -6


def test_refuses_when_the_policy_has_no_catalogue() -> None:
    """A policy built without the taxonomy's catalogue cannot seal anything (fail closed)."""
    with pytest.raises(PolicyRefusal) as caught:
        authorize(approved(BOB), config=make_policy(catalogue={}))
    assert caught.value.rule == "params-schema"
