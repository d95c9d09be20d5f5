"""Tests of the parameter extractor: typed values, their provenance, and evidence it must ignore."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent.proposing.parameters import propose_parameters
from core.models import Case
from core.results import MatchedMessage
from core.taxonomy import load_taxonomy
from tests.support.cases import make_case

TAXONOMY = load_taxonomy()
DETECTED = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)


def make_supplier_case(**over: Any) -> Case:
    """Returns the contract's example case shape; keyword arguments override fields."""
    data: dict[str, Any] = {
        "case_id": "EXC-1",
        "workflow": "supplier_confirmation",
        "stalled_step": "awaiting PO acknowledgement",
        "detected_at": DETECTED.isoformat(),
        "site": "DC-ATL",
        "refs": {
            "po_id": "PO-1001",
            "supplier_id": "SUP-7",
            "order_id": "SO-1",
            "shipment_id": "SH-1",
            "carrier": "UPS",
        },
        "amount": {"value": 18_400.0, "currency": "EUR"},
    }
    return Case.model_validate(make_case(**{**data, **over}))


def message(body: str, party: str = "supplier", at: str = "2026-11-20T16:45:00Z") -> dict[str, Any]:
    """Returns a case message from a party."""
    return {"at": at, "channel": "email", "direction": "inbound", "party": party, "body": body}


def event(detail: str, system: str = "CARRIER", kind: str = "pickup_missed") -> dict[str, Any]:
    """Returns a case event."""
    return {"at": "2026-11-20T16:31:00Z", "system": system, "type": kind, "detail": detail}


def loose(body: str, matched_by: str = "refs", **refs: str) -> MatchedMessage:
    """Returns a retrieved loose message with the document refs it carries."""
    return MatchedMessage(
        message_id="MSG-1",
        matched_by=matched_by,
        score=1.0,
        party="supplier",  # type: ignore[arg-type]
        at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        subject=None,
        body=body,
        document_refs=refs,
    )


def propose(action: str, case: Case, messages: list[MatchedMessage] | None = None) -> Any:
    """Returns (params, provenance) for one action."""
    return propose_parameters(TAXONOMY.action(action), case, messages or [])


def test_eta_from_a_message_about_another_po_is_never_proposed() -> None:
    """A send date from a message about PO-2002 (same supplier) leaves new_eta empty."""
    other = loose("PO-2002 was sent on 2026-11-09", matched_by="party", po_id="PO-2002")
    params, provenance = propose("update_po_eta", make_supplier_case(), [other])
    assert params["new_eta"] is None
    assert "new_eta" not in provenance
    refs_but_other_po = loose("ships 2026-12-01", po_id="PO-2002", order_id="SO-1")
    assert propose("update_po_eta", make_supplier_case(), [refs_but_other_po])[0]["new_eta"] is None


def test_eta_in_a_case_message_naming_another_po_is_never_proposed() -> None:
    """A PO number in the text that is not the case's makes the text about another document."""
    case = make_supplier_case(messages=[message("PO 4500999: revised ETA 2026-12-04")])
    assert propose("update_po_eta", case)[0]["new_eta"] is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Revised ETA 10/11", id="ambiguous-day-month"),
        pytest.param("ETA revised: 11/8", id="ambiguous-11-8"),
        pytest.param("Shipped 2026-11-09, sorry for the delay", id="past-date"),
        pytest.param("ship date moved from 2026-12-13 to 11/04", id="old-date-never-stands-in"),
        pytest.param("next tuesday-ish", id="vague"),
    ],
)
def test_ambiguous_or_past_etas_are_never_proposed(body: str) -> None:
    """Only an unambiguous date on or after detection is proposed as an ETA."""
    params, provenance = propose("update_po_eta", make_supplier_case(messages=[message(body)]))
    assert params["new_eta"] is None
    assert "new_eta" not in provenance


def test_a_clear_future_eta_is_proposed_with_its_source() -> None:
    """A supplier's own revised date about the case's PO is proposed, citing message and span."""
    case = make_supplier_case(messages=[message("Re PO-1001: revised ETA Dec 4, thanks")])
    params, provenance = propose("update_po_eta", case)
    assert params == {"po_id": "PO-1001", "supplier_id": "SUP-7", "new_eta": "2026-12-04"}
    assert provenance["new_eta"].kind == "message"
    assert provenance["new_eta"].index == 0
    assert provenance["new_eta"].span == "Dec 4"
    assert provenance["po_id"].kind == "refs"


def test_a_departure_time_is_never_an_earliest_pickup() -> None:
    """'Driver departed 16:30' is a past departure, not a pickup offer."""
    case = make_supplier_case(
        workflow="shipment_confirmation", events=[event("Driver departed 16:30, trailer full")]
    )
    params, provenance = propose("rebook_carrier", case)
    assert params["earliest_pickup"] is None
    assert "earliest_pickup" not in provenance


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "Our driver left at cutoff; next pickup 08:00.",
            "2026-11-21T08:00:00Z",
            id="next-pickup",
        ),
        pytest.param("can do 07:30 tmrw", "2026-11-21T07:30:00Z", id="can-do-tomorrow"),
    ],
)
def test_earliest_pickup_comes_from_a_future_offer(body: str, expected: str) -> None:
    """A carrier's pickup offer becomes a timestamp after the case's detection."""
    case = make_supplier_case(
        workflow="shipment_confirmation",
        events=[event("Driver departed 16:30, trailer full")],
        messages=[message(body, party="carrier")],
    )
    params, provenance = propose("rebook_carrier", case)
    assert params["earliest_pickup"] == expected
    assert provenance["earliest_pickup"].kind == "message"
    assert provenance["earliest_pickup"].index == 0


def test_quantity_is_a_number_with_its_attribute_sources() -> None:
    """The adjustment's delta is an integer read from the on-hand attributes."""
    case = make_supplier_case(
        attributes={"erp_on_hand": 40, "wms_on_hand": 28}, refs={"skus": ["SKU-1"]}
    )
    params, provenance = propose("post_inventory_adjustment", case)
    assert params["quantity_delta"] == -12
    assert isinstance(params["quantity_delta"], int)
    assert provenance["quantity_delta"].keys == ["wms_on_hand", "erp_on_hand"]


@pytest.mark.parametrize("action", [a.id for a in TAXONOMY.actions])
def test_every_proposed_value_has_a_source(action: str) -> None:
    """No parameter is proposed without provenance, and only declared keys are proposed."""
    case = make_supplier_case(
        refs={"po_id": "PO-1", "invoice_id": "INV-1", "customer_id": "C-1", "skus": ["S-1"]},
        attributes={"po_price": 10, "invoice_price": 12, "qty_invoiced": 5, "location": "A-1-2"},
        sla_due_at="2026-11-21T12:00:00Z",
        events=[event("sync failed", system="MIDDLEWARE", kind="idoc")],
    )
    params, provenance = propose(action, case)
    assert set(params) == set(TAXONOMY.action(action).params)
    assert {k for k, v in params.items() if v is not None} == set(provenance)
