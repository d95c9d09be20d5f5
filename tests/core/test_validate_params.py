"""Tests of validate_params() and screen_params() against the shipped catalogue's schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import InvalidInput
from core.parameters import screen_params, validate_params
from core.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
NOW = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)
ETA = TAXONOMY.action("update_po_eta")
ADJUST = TAXONOMY.action("post_inventory_adjustment")
MEMO = TAXONOMY.action("issue_credit_memo")


def check(action: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validates params for one catalogue action at NOW."""
    return validate_params(TAXONOMY.action(action), params, now=NOW)


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "new_eta": "next tuesday-ish", "frobnicate": "x"},
            "params.new_eta",
            id="free-text-eta-named-first",
        ),
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "frobnicate": "x", "new_eta": "2026-12-01"},
            "params.frobnicate",
            id="unknown-key",
        ),
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "new_eta": "10/11"},
            "params.new_eta",
            id="ambiguous-date",
        ),
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "new_eta": "2026-11-09"},
            "params.new_eta",
            id="past-eta",
        ),
        pytest.param(
            "update_po_eta",
            {"po_id": "PO-1", "new_eta": "2026-02-30"},
            "params.new_eta",
            id="not-a-calendar-day",
        ),
        pytest.param("update_po_eta", {"po_id": "PO-1"}, "params.new_eta", id="required-missing"),
        pytest.param(
            "update_po_eta",
            {"po_id": "P O 1", "new_eta": "2026-12-01"},
            "params.po_id",
            id="id-with-spaces",
        ),
        pytest.param(
            "post_inventory_adjustment",
            {"site": "DC-1", "sku": "SKU-1", "quantity_delta": "twelve"},
            "params.quantity_delta",
            id="number-in-words",
        ),
        pytest.param(
            "post_inventory_adjustment",
            {"site": "DC-1", "sku": "SKU-1", "quantity_delta": 2.5},
            "params.quantity_delta",
            id="fractional-each",
        ),
        pytest.param(
            "post_inventory_adjustment",
            {"site": "DC-1", "sku": "SKU-1", "quantity_delta": True},
            "params.quantity_delta",
            id="boolean",
        ),
        pytest.param(
            "post_inventory_adjustment",
            {"site": "DC-1", "sku": "SKU-1", "quantity_delta": 0},
            "params.quantity_delta",
            id="zero-adjustment",
        ),
        pytest.param(
            "issue_credit_memo",
            {"invoice_id": "INV-1", "amount": 100, "currency": "eur"},
            "params.currency",
            id="lowercase-currency",
        ),
        pytest.param(
            "issue_credit_memo",
            {"invoice_id": "INV-1", "amount": -5},
            "params.amount",
            id="negative-credit",
        ),
        pytest.param(
            "issue_credit_memo",
            {"invoice_id": "INV-1", "amount": float("nan")},
            "params.amount",
            id="nan",
        ),
        pytest.param(
            "request_compliance_documents",
            {"documents": ["birth_certificate"]},
            "params.documents",
            id="enum-list-item",
        ),
        pytest.param(
            "rebook_carrier", {"earliest_pickup": "16:30"}, "params.earliest_pickup", id="bare-time"
        ),
        pytest.param(
            "rebook_carrier",
            {"earliest_pickup": "2026-11-20T16:30:00Z"},
            "params.earliest_pickup",
            id="pickup-before-detection",
        ),
    ],
)
def test_bad_params_are_refused_naming_the_field(
    action: str, params: dict[str, Any], field: str
) -> None:
    """Every bad value, unknown key or missing required value raises InvalidInput on its field."""
    with pytest.raises(InvalidInput) as caught:
        check(action, params)
    assert caught.value.field == field


def test_valid_params_come_back_typed_and_complete() -> None:
    """Numeric text becomes a number, dates stay ISO and every declared key is present."""
    params = {"site": "DC-1", "sku": "SKU-1", "quantity_delta": "-6", "unit_cost": "12.50"}
    assert check("post_inventory_adjustment", params) == {
        "site": "DC-1",
        "sku": "SKU-1",
        "location": None,
        "quantity_delta": -6,
        "unit_cost": 12.5,
        "currency": None,
    }
    eta = check("update_po_eta", {"po_id": "PO-1", "new_eta": " 2026-12-01 "})
    assert eta == {"po_id": "PO-1", "supplier_id": None, "new_eta": "2026-12-01"}


def test_datetimes_are_canonical_utc() -> None:
    """A pickup with an offset comes back as the same instant in UTC."""
    out = check("rebook_carrier", {"earliest_pickup": "2026-11-21T09:00:00+01:00"})
    assert out["earliest_pickup"] == "2026-11-21T08:00:00Z"


def test_without_now_only_the_form_of_dates_is_checked() -> None:
    """The posting path may not know the detection time: relative rules are then skipped."""
    out = validate_params(ETA, {"po_id": "PO-1", "new_eta": "2020-01-01"}, now=None)
    assert out["new_eta"] == "2020-01-01"
    with pytest.raises(InvalidInput):
        validate_params(ETA, {"po_id": "PO-1", "new_eta": "01/02/2020"}, now=None)


def test_non_mapping_params_are_refused() -> None:
    """Parameters must be an object."""
    with pytest.raises(InvalidInput) as caught:
        validate_params(ETA, ["po_id"], now=NOW)  # type: ignore[arg-type]
    assert caught.value.field == "params"


def test_screen_drops_bad_values_and_unknown_keys_but_keeps_the_rest() -> None:
    """Screening leaves a bad field empty for the reviewer and says why it was dropped."""
    kept, dropped = screen_params(
        ETA, {"po_id": "PO-1", "new_eta": "10/11", "frobnicate": 1}, now=NOW
    )
    assert kept == {"po_id": "PO-1", "supplier_id": None, "new_eta": None}
    assert sorted(p.field for p in dropped) == ["params.frobnicate", "params.new_eta"]
