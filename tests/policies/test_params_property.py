"""Property tests: random edits never get a value past validate_params or the posting seal."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.approvals import ApprovalStatus
from core.errors import InvalidInput, PolicyRefusal
from core.parameters import ParamSpec, validate_params
from policies.postings import authorize_posting
from tests.support.policies import DEFAULT_POLICY, TAXONOMY, make_record, make_vote, person

NOW = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)
VALID: dict[str, dict[str, Any]] = {
    "update_po_eta": {"po_id": "PO-1", "supplier_id": "SUP-1", "new_eta": "2026-12-01"},
    "issue_credit_memo": {"invoice_id": "INV-1", "amount": 1200.0, "currency": "EUR"},
    "post_inventory_adjustment": {"site": "DC-1", "sku": "SKU-1", "quantity_delta": -12},
    "hold_invoice": {"invoice_id": "INV-1", "reason": "price variance"},
}
ROLE = {a: TAXONOMY.action(a).approver_role for a in VALID}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["twelve", "10/11", "2026-11-09", "2027-01-15", "-6", "EUR", "eur", "16:30"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4), st.dictionaries(st.text(), SCALARS))
KEYS = st.one_of(
    st.text(max_size=12), st.sampled_from(sorted({k for s in TAXONOMY.actions for k in s.params}))
)


def conforms(spec: ParamSpec, value: Any) -> bool:
    """Says independently of the validator whether a canonical value satisfies its spec."""
    if value is None:
        return not spec.required
    if spec.type in ("integer", "number"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and (spec.type == "number" or isinstance(value, int))
        ok = ok and (spec.min is None or value >= spec.min)
        return ok and (spec.max is None or value <= spec.max) and not (spec.nonzero and value == 0)
    if spec.type == "date":
        ok = isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
        return ok and (not spec.future or date.fromisoformat(value) >= NOW.date())
    if spec.type == "datetime":
        return isinstance(value, str) and value.endswith("Z")
    if spec.type == "currency":
        return isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) is not None
    if spec.type == "string_list":
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if spec.type == "map":
        return isinstance(value, dict)
    return isinstance(value, str) and bool(value) and (spec.type != "enum" or value in spec.values)


def all_conform(action: str, params: dict[str, Any]) -> bool:
    """Says whether canonical params hold exactly the declared keys, each conforming."""
    spec = TAXONOMY.action(action)
    return set(params) == set(spec.params) and all(
        conforms(spec.params[k], v) for k, v in params.items()
    )


@settings(max_examples=300, deadline=None)
@given(action=st.sampled_from(sorted(VALID)), edit=st.dictionaries(KEYS, VALUES, max_size=4))
def test_random_edits_never_pass_validation_with_a_bad_value(
    action: str, edit: dict[str, Any]
) -> None:
    """Whatever an edit merges in, an accepted result satisfies the schema and is a fixed point."""
    spec = TAXONOMY.action(action)
    try:
        out = validate_params(spec, {**VALID[action], **edit}, now=NOW)
    except InvalidInput as problem:
        refused_field = problem.field
    else:
        refused_field = None
        assert all_conform(action, out)
    if refused_field is not None:
        assert refused_field.startswith("params")
        return
    assert validate_params(spec, out, now=NOW) == out


@settings(max_examples=200, deadline=None)
@given(action=st.sampled_from(sorted(VALID)), edit=st.dictionaries(KEYS, VALUES, max_size=4))
@example(action="update_po_eta", edit={"new_eta": "2026-11-09"})
@example(action="update_po_eta", edit={"new_eta": "next tuesday-ish", "frobnicate": "x"})
@example(action="post_inventory_adjustment", edit={"quantity_delta": "twelve"})
def test_random_edits_never_yield_a_sealed_posting_that_fails_the_schema(
    action: str, edit: dict[str, Any]
) -> None:
    """A record with edited params is either refused by the seal or posts schema-valid values."""
    voters = [person("bob", ROLE[action] or ""), person("dan", ROLE[action] or "")]
    record = make_record(
        action=action,
        approver_role=ROLE[action],
        params={**VALID[action], **edit},
        status=ApprovalStatus.approved,
        required_approvals=2,
        votes=[make_vote(v) for v in voters],
    )
    try:
        posting = authorize_posting(
            record,
            idempotency_key="k",
            amount=100.0,
            config=DEFAULT_POLICY,
            case_currency="EUR",
            now=NOW,
        )
    except PolicyRefusal:
        return
    assert all_conform(action, posting.params)
