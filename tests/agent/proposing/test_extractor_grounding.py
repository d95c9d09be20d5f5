"""The extractor proposes only what this case's own evidence says: whole codes, the party's answers."""

from __future__ import annotations

from typing import Any

import pytest
from test_extracted_parameters import event, make_supplier_case, message, propose

from agent.proposing.parameters import _DOCUMENTS
from core.taxonomy import load_taxonomy


def test_a_bin_code_is_taken_whole_never_its_tail() -> None:
    for code in ("PHX-R-14-02-C", "14-B-03-2", "A-12-03"):
        case = make_supplier_case(events=[event(f"Short pick at {code}: found 4", system="WMS")])
        params, provenance = propose("create_cycle_count", case)
        assert params["location"] == code
        assert provenance["location"].span == code


def test_dates_and_bare_numbers_are_not_bin_codes() -> None:
    case = make_supplier_case(
        events=[event("Counted 2026-11-20, 10-12-14 ok, DR-31 idle", system="WMS")]
    )
    params, _ = propose("create_cycle_count", case)
    assert params["location"] is None


def test_our_own_question_to_the_supplier_is_not_its_eta() -> None:
    asked = {**message("Can PO-1001 still ship on Dec 4?"), "direction": "outbound"}
    params, provenance = propose("update_po_eta", make_supplier_case(messages=[asked]))
    assert params["new_eta"] is None
    assert "new_eta" not in provenance


def test_a_message_naming_another_document_of_the_same_shape_is_ignored() -> None:
    refs: dict[str, Any] = {"po_id": "4500087113", "supplier_id": "V-1"}
    body = "OC 4500087098 ships Friday Dec 4; for 4500087113 we need another week."
    params, _ = propose("update_po_eta", make_supplier_case(refs=refs, messages=[message(body)]))
    assert params["new_eta"] is None
    body = "Order 4500087113 now ships on Dec 16."
    params, provenance = propose(
        "update_po_eta", make_supplier_case(refs=refs, messages=[message(body)])
    )
    assert params["new_eta"] == "2026-12-16"
    assert provenance["new_eta"].index == 0


def test_no_document_named_leaves_documents_empty_instead_of_a_placeholder() -> None:
    params, provenance = propose("request_compliance_documents", make_supplier_case())
    assert params["documents"] is None
    assert "documents" not in provenance
    case = make_supplier_case(messages=[message("Customs holds it: certificate of origin missing")])
    params, _ = propose("request_compliance_documents", case)
    assert params["documents"] == ["certificate_of_origin"]


def _documents_requested(*bodies: str) -> Any:
    case = make_supplier_case(messages=[message(body) for body in bodies])
    return propose("request_compliance_documents", case)[0]["documents"]


def test_a_document_mentioned_as_context_is_not_requested() -> None:
    body = (
        "The commercial invoice claims preferential treatment on all lines, but no "
        "certification of origin was provided."
    )
    assert _documents_requested(body) == ["certificate_of_origin"]
    assert _documents_requested("The packing list was filed with the line on Monday.") is None


def test_list_items_count_as_requested_by_the_line_that_introduces_them() -> None:
    body = (
        "The terminal requires the following documents, and we do not have them:\n"
        "1. UN38.3 test summary for the battery model\n"
        "2. Safety data sheet, current revision\n"
        "Regards, the dangerous goods desk"
    )
    assert _documents_requested(body) == ["safety_data_sheet", "un38_3_test_summary"]
    assert _documents_requested("Status update:\n- packing list attached\n") is None


def test_a_document_id_is_not_a_request_for_that_document() -> None:
    assert _documents_requested("AWB 057-44120983: DGD missing for pallet 3") == [
        "dangerous_goods_declaration"
    ]
    assert _documents_requested("Please send the air waybill copy") == ["air_waybill"]


def test_requests_in_other_languages_count() -> None:
    assert _documents_requested("Es fehlt das Ursprungszeugnis und die packing list fehlt") == [
        "packing_list"
    ]
    assert _documents_requested("Il manque le certificat phytosanitaire (phytosanitary)") == [
        "phytosanitary_certificate"
    ]


def test_every_document_the_extractor_names_is_one_the_taxonomy_allows() -> None:
    allowed = load_taxonomy().action_index["request_compliance_documents"].params["documents"]
    assert {doc for _, doc in _DOCUMENTS} <= set(allowed.values or [])


def test_the_interface_is_only_what_the_case_states() -> None:
    failed = event("EDI 856 to ERP failed: HTTP 503", system="MIDDLEWARE", kind="retry_exhausted")
    params, _ = propose("replay_integration_message", make_supplier_case(events=[failed]))
    assert params["interface"] is None
    assert params["error"] == "EDI 856 to ERP failed: HTTP 503"
    case = make_supplier_case(events=[failed], attributes={"interface": "EDI 856 inbound"})
    params, provenance = propose("replay_integration_message", case)
    assert params["interface"] == "EDI 856 inbound"
    assert provenance["interface"].keys == ["interface"]


def test_in_a_message_about_two_orders_only_the_sentence_naming_ours_counts() -> None:
    refs: dict[str, Any] = {"po_id": "4500091877", "supplier_id": "V-1"}
    body = (
        "Your earlier order 4500091532 shipped on 27/11. "
        "For order 4500091877 the new delivery date is 17 December. Regards"
    )
    params, provenance = propose(
        "update_po_eta", make_supplier_case(refs=refs, messages=[message(body)])
    )
    assert params["new_eta"] == "2026-12-17"
    assert provenance["new_eta"].span == "17 December"


def test_a_sentence_that_names_no_order_may_be_about_the_other_one() -> None:
    refs: dict[str, Any] = {"po_id": "PO-1001", "supplier_id": "V-1"}
    body = "PO-1001 is on schedule. PO-1002 is delayed. It will ship on Dec 20."
    params, _ = propose("update_po_eta", make_supplier_case(refs=refs, messages=[message(body)]))
    assert params["new_eta"] is None


def test_a_count_over_two_bins_leaves_the_location_to_the_reviewer() -> None:
    detail = "All locations 300 (MEM-P-04-11 150, MEM-R-31-02 150)"
    params, provenance = propose(
        "create_cycle_count", make_supplier_case(events=[event(detail, "WMS")])
    )
    assert params["location"] is None
    assert "location" not in provenance


def test_the_quoted_question_in_a_suppliers_reply_is_not_its_answer() -> None:
    body = "New date for PO-1001 to follow.\n\n> Can PO-1001 still ship on Dec 4?\n> Thanks"
    params, _ = propose("update_po_eta", make_supplier_case(messages=[message(body)]))
    assert params["new_eta"] is None
    params, _ = propose(
        "update_po_eta", make_supplier_case(messages=[message("PO-1001 ships Dec 9.\n> Dec 4?")])
    )
    assert params["new_eta"] == "2026-12-09"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "earliest we can do is 10:30 CT tomorrow. Booked", "2026-11-21T16:30:00Z", id="ct"
        ),
        pytest.param("next pickup 09:00 CET tomorrow", "2026-11-21T08:00:00Z", id="cet"),
        pytest.param("next pickup 08:00 +09:00 tomorrow", "2026-11-21T23:00:00Z", id="offset"),
        pytest.param("can do 08:00 et 10:00 demain", "2026-11-21T08:00:00Z", id="french-and"),
    ],
)
def test_a_zone_written_after_the_pickup_time_sets_the_instant(body: str, expected: str) -> None:
    case = make_supplier_case(
        workflow="shipment_confirmation", messages=[message(body, party="carrier")]
    )
    params, _ = propose("rebook_carrier", case)
    assert params["earliest_pickup"] == expected


@pytest.mark.parametrize(
    "body",
    [
        "Please use Dec 10 as the delivery date for PO-1001, not Dec 3.",
        "PO-1001 now arrives Dec 10. The original date was Dec 3.",
        "For PO-1001 we confirm Dec 10 instead of Dec 3.",
    ],
)
def test_a_date_named_as_replaced_is_never_the_new_eta(body: str) -> None:
    params, _ = propose("update_po_eta", make_supplier_case(messages=[message(body)]))
    assert params["new_eta"] == "2026-12-10"


def test_the_earlier_mail_under_a_reply_header_is_history_not_evidence() -> None:
    body = (
        "Invoice and packing list received. Only the certificate of origin is outstanding.\n\n"
        "-----Original Message-----\nFrom: broker@example.com\nSent: Tuesday\n\n"
        "Please send: commercial invoice, packing list, certificate of origin."
    )
    assert _documents_requested(body) == ["certificate_of_origin"]
    forwarded_only = "-----Original Message-----\nPlease send the packing list."
    assert _documents_requested(forwarded_only) == ["packing_list"]


def test_a_note_naming_a_second_bin_leaves_the_location_to_the_reviewer() -> None:
    counted = event("SKU-1 @ A-12-04-A counted 0", system="WMS", kind="cycle_count")
    note = message("A-12-04-A is empty; the putaway went to A-12-40-A", party="internal")
    params, _ = propose("create_cycle_count", make_supplier_case(events=[counted]))
    assert params["location"] == "A-12-04-A"
    params, _ = propose("create_cycle_count", make_supplier_case(events=[counted], messages=[note]))
    assert params["location"] is None


def test_a_middleware_event_about_another_shipment_is_not_the_error() -> None:
    failed = event("EDI 856 msg 21 -> DLQ: HTTP 503", system="MIDDLEWARE", kind="dead_letter")
    other = event("EDI 856 msg 22 (SH-2) delivered", system="MIDDLEWARE", kind="delivered")
    params, _ = propose("replay_integration_message", make_supplier_case(events=[failed, other]))
    assert params["error"] == "EDI 856 msg 21 -> DLQ: HTTP 503"


def test_a_request_naming_a_document_outside_the_vocabulary_proposes_no_partial_list() -> None:
    assert (
        _documents_requested("Customs requires the import license and a free sale certificate")
        is None
    )
    assert _documents_requested("Customs requires the import license.") == ["import_license"]


def test_a_document_asked_for_another_shipment_is_not_requested_for_ours() -> None:
    body = (
        "Two topics. SH-1: customs needs the certificate of origin.\n"
        "SH-9: released, the packing list is missing but no longer needed."
    )
    assert _documents_requested(body) == ["certificate_of_origin"]


def test_a_finance_event_about_another_invoice_is_not_the_hold_reason() -> None:
    refs: dict[str, Any] = {"invoice_id": "INV-88544", "po_id": "PO-1001", "supplier_id": "V-1"}
    ours = event("INV-88544 price 16.90 vs PO 15.20", system="FINANCE", kind="match_fail")
    other = event("INV-88390 same PO, already paid", system="FINANCE", kind="note")
    params, _ = propose("hold_invoice", make_supplier_case(refs=refs, events=[ours, other]))
    assert params["reason"] == "INV-88544 price 16.90 vs PO 15.20"
