"""The extractor proposes only what this case's own evidence says: whole codes, the party's answers."""

from __future__ import annotations

from typing import Any

from test_extracted_parameters import event, make_supplier_case, message, propose


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
