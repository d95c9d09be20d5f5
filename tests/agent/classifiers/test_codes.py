"""Standard reason codes: each points at one cause, and a code history never showed still counts."""

from __future__ import annotations

import pytest

from agent.classifiers.codes import code_cause, segment_codes
from agent.classifiers.cues import CONDITION_CUES, count_cues, states_condition
from agent.classifiers.features import event_fragment
from tests.support.local_cases import event


def test_contract_codes_point_at_their_causes() -> None:
    assert code_cause("T3") == "carrier_cutoff_missed"
    assert code_cause(" ao ") == "carrier_delay"
    assert code_cause("C2") == "credit_hold"
    assert code_cause("BD") == "compliance_hold"
    assert code_cause("HTTP 503") == "integration_failure"


def test_codes_of_mixed_meaning_point_nowhere() -> None:
    assert code_cause("AJ") is None
    assert code_cause("P1") is None
    assert code_cause("ZZ") is None


def test_segment_codes_read_the_reason_of_a_written_out_at7_segment() -> None:
    assert segment_codes("214 rcvd: AT7**AY*NA~ MS1*Memphis") == ["AY"]
    assert segment_codes("customs at the border") == []


def test_an_unseen_code_shares_the_fact_of_its_cause() -> None:
    seen = event_fragment(event("CARRIER", "status", "Trailer not available", "T3")).facts
    unseen = event_fragment(event("CARRIER", "status", "Pickup missed", "AY")).facts
    assert seen["code_cause=carrier_cutoff_missed"] == 1.0
    assert unseen["code_cause=carrier_cutoff_missed"] == 1.0
    assert "code=AY" in unseen


def test_reference_data_and_throughput_phrases_have_cues() -> None:
    assert count_cues("Ship-to not found in the ERP") == {"master_data_error": 1}
    assert count_cues("Pick rate below target on nights") == {"warehouse_congestion": 1}
    assert count_cues("Pallets not picked up by the carrier") == {"carrier_cutoff_missed": 1}


def test_edi_and_middleware_error_signatures_are_integration_cues() -> None:
    for text in (
        "X12 856: REF segment element 02 exceeds max length 30; routed to error queue",
        "997 returned with AK5*R for the 810",
        "999 IK5*R, transaction set rejected",
        "IDoc status 51: application document not posted",
        "Translator error on inbound 850",
        "Unable to parse payload from the carrier API",
    ):
        assert count_cues(text).get("integration_failure"), text


def test_an_edi_document_number_alone_is_not_a_supplier_cue() -> None:
    assert "supplier_delay" not in count_cues("Our EDI log shows the 856 went out at 14:02")
    assert "supplier_delay" not in count_cues("855 transmitted by the supplier portal")
    assert count_cues("No 855 received for PO-4410").get("supplier_delay")
    assert count_cues("856 overdue for PO-4410").get("supplier_delay")
    assert count_cues("855 PO-4410 ACK IB 40 EA").get("supplier_delay")


def test_quarantined_stock_is_a_status_not_a_stock_disagreement() -> None:
    assert "inventory_discrepancy" not in count_cues("9 lots moved to quarantine pending QA")
    assert count_cues("Damaged stock quarantined: 4 EA").get("inventory_discrepancy")


def test_a_lookup_key_that_is_not_found_is_a_reference_data_cue() -> None:
    for text in (
        "Putaway error: location Y-22-A does not exist",
        "Customer C-1001 not found in partner table",
        "Shipment weight 0.0 kg, cannot rate",
        "Lot capture required but item not batch-managed in the ERP",
    ):
        assert count_cues(text).get("master_data_error"), text
    assert "master_data_error" not in count_cues("Shipment SH-1 not found at the terminal")
    assert "master_data_error" not in count_cues("Gross weight 0.5 kg")


def test_the_master_record_named_in_german_dutch_spanish_or_french_is_master_data() -> None:
    for text in (
        "Zolltarifnummer fehlt im Materialstamm",
        "HS-code leeg in de artikelstam",
        "peso vacío en el maestro de materiales",
        "la fiche article est incomplète",
    ):
        assert count_cues(text).get("master_data_error"), text


def test_a_supplier_moving_its_ship_date_or_shipping_part_is_a_supplier_cue() -> None:
    assert count_cues("Portal: ship date line 2 changed 05/04 -> 05/18").get("supplier_delay")
    assert count_cues("Supplier shipped 600 partial yesterday").get("supplier_delay")
    assert "supplier_delay" not in count_cues("Ship date confirmed for 05/04")


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        # One charge or quantity stated by two documents, the two figures differing.
        ("CDD*01*PRICE: contract 9.40, invoiced 9.85, 4200 units", "pricing_mismatch"),
        ("Invoice 1,415.00 vs rate 1,240.00 on the rate confirmation", "pricing_mismatch"),
        ("we received 40 but they invoiced 100", "pricing_mismatch"),
        ("agreed rate $1,200 but billed $1,450", "pricing_mismatch"),
        ("Unplanned charge 'fuel levy' 640.00 not on PO", "pricing_mismatch"),
        # A master record that is missing or empty.
        ("SCAC OZHL on invoice not found in carrier master", "master_data_error"),
        ("Item PRN-LJ-M611: dimensions/weight null, cannot assign carton", "master_data_error"),
        ("PRNTR-LBL-4X6: length/width/height = 0", "master_data_error"),
        ("Max stock level was loaded in EA not CS", "master_data_error"),
        ("Ship-to 2271-04 flagged inactive", "master_data_error"),
        # A link between systems that stopped carrying messages.
        ("channel to WMS is in RETRYING state since 05:50", "integration_failure"),
        ("the outbound 940 queue for CMH is stuck since 06:58", "integration_failure"),
        ("consumer crashed at 06:58", "integration_failure"),
        ("856 to the customer failed, their AS2 cert rolled over", "integration_failure"),
        ("6 customers' 856s bounced since Fri", "integration_failure"),
        ("856 rejected: BSN02 duplicate", "integration_failure"),
        ("850 from customer Mid-State Fleet rejected", "integration_failure"),
        ("queue consumer stopped at 04:10", "integration_failure"),
        ("import failed: file truncated", "integration_failure"),
        ("Return receipt to ERP: post_failed", "integration_failure"),
    ],
)
def test_what_other_authors_state_plainly_is_a_cue(text: str, cause: str) -> None:
    assert count_cues(text).get(cause)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        # Documents that agree, figures of different things, document numbers and dates.
        ("PO 4500123: ordered 120, received 120, invoiced 120 - all matched", "pricing_mismatch"),
        ("Rate confirmation $1,200, invoice $1,200.00, paid in full", "pricing_mismatch"),
        ("prices match: contract 9.40, invoiced 9.40", "pricing_mismatch"),
        ("Received 40 cases on 05/12, invoice 1,415.00 posted and approved", "pricing_mismatch"),
        ("Rate 2.45 per mile, billed for 410 miles", "pricing_mismatch"),
        ("Invoice $3,100.00 against PO 4500122 posted", "pricing_mismatch"),
        ("Invoiced $1,200.00 but expected payment by Friday", "pricing_mismatch"),
        ("PO 4500123 received 12 pallets, invoice INV-778 posted", "pricing_mismatch"),
        ("Expected 12.05.2024, invoiced 01.06.2024", "pricing_mismatch"),
        ("Received 4500123, invoiced 90017788", "pricing_mismatch"),
        ("We received 40. The invoice $400.00 was paid on time.", "pricing_mismatch"),
        ("Received 2 cartons of SKU 4471 not on the PO, put in quarantine", "pricing_mismatch"),
        # Scale readings, orders and the way goods are packed are no master record.
        ("Carton weight was zero on the dock scale, scale broken", "master_data_error"),
        ("Order 77812 flagged for deletion by the customer, they cancelled", "master_data_error"),
        ("Rack location marked obsolete after the re-slot", "master_data_error"),
        ("Customer ordered in cases not eaches this time", "master_data_error"),
        # Physical queues and lines, quantities that look like EDI numbers, and negations.
        ("The dock queue was backed up with 14 trailers waiting for a door", "integration_failure"),
        ("Channel partner order 88231 is stuck at the carrier hub", "integration_failure"),
        ("Queue depth at receiving is 12 trailers", "integration_failure"),
        ("The 940 queue is not stuck", "integration_failure"),
        ("Trailer 214 stuck at the gate", "integration_failure"),
        ("PO 204 units failed inspection at receiving", "integration_failure"),
        ("the 856 was not rejected, it was accepted", "integration_failure"),
        ("810 units were rejected by the customer, wrong colour", "integration_failure"),
    ],
)
def test_the_same_words_without_the_condition_are_no_cue(text: str, cause: str) -> None:
    assert cause not in count_cues(text)


def test_a_statement_across_a_few_words_hides_no_other_cue_inside_it() -> None:
    assert count_cues("received 40, pickup missed, invoiced $400.00") == {
        "carrier_cutoff_missed": 1
    }
    assert count_cues("received 40, credit hold, invoiced 400") == {
        "credit_hold": 1,
        "pricing_mismatch": 1,
    }


@pytest.mark.parametrize(
    "text",
    [
        "SDS on file is expired",
        "UN38.3 test summary missing for the cells",
        "DGD not provided by the shipper",
        "Entry held by CBP for an intensive exam",
        "the airline won't accept it without a dangerous goods declaration",
        "restricted party screening hit on the consignee",
        "export licence pending for ECCN 5A002",
        "commercial invoice incorrect, broker cannot file",
        "Container bloqueado en aduana",
        "Sendung beim Zoll zurückgehalten",
        "Shipment on hold - DG, lithium ion batteries",
        "We require the UN38.3 test summary before it can be accepted",
        "Refused at acceptance: UN3480 cells, no DG declaration",
        "Stuck in customs since Monday",
        "Awaiting customs clearance",
        "Entry under review by CBP",
        "Hazmat shipment refused by the carrier",
        "Aduana retuvo el contenedor",
    ],
)
def test_a_regulated_paper_or_an_authority_stating_a_hold_states_the_condition(text: str) -> None:
    """A compliance cue grounds an automatic run only beside the hold, exam or paper fault."""
    assert states_condition(text, "compliance_hold")


@pytest.mark.parametrize(
    "text",
    [
        "broker filed the entry under HS code 8471.30 this morning",
        "customs broker copied on the thread, declaration attached",
        "lithium batteries, UN3481, packed per PI 967",
        "commercial invoice and packing list sent to the forwarder",
        # A negation between the paper or the authority and the fault states the opposite.
        "Entry 553108-4 released, CBP 1C, no exam",
        "ISF on file, nothing else missing",
        "Customs documents weren't missing",
        "No licence required (NLR), EAR99",
        "No DGD needed - excepted quantity",
        "Denied party screening returned no match",
        # A word inside another word is not the word.
        "Customs broker, for example Expeditors",
        "Customs bond holder notified",
        "Reefer cooler failure, customs paperwork attached",
    ],
)
def test_the_subject_of_customs_alone_does_not_state_the_condition(text: str) -> None:
    """An import desk names its broker, entry and codes in every case, held or not."""
    assert not states_condition(text, "compliance_hold")


def test_a_cause_without_condition_cues_is_stated_by_any_of_its_cues() -> None:
    """Only causes listed in CONDITION_CUES ask for more than their cue phrases."""
    assert set(CONDITION_CUES) == {"compliance_hold", "carrier_delay"}
    assert states_condition("the truck never showed", "carrier_cutoff_missed")


@pytest.mark.parametrize(
    "text",
    [
        "parcel stuck 'in transit' 4 days",
        "2 boxes show 'in transit' since Mon",
        "in transit beyond promised date",
        "Shipment delayed in transit",
        "In transit for nine days",
        "Past due, still in transit",
        "trailer held at the Memphis terminal, weather",
        "ETA moved to Friday",
    ],
)
def test_a_shipment_late_or_in_transit_too_long_states_a_carrier_delay(text: str) -> None:
    """In transit for days, or any carrier delay cue other than the status and the bill line."""
    assert states_condition(text, "carrier_delay")


@pytest.mark.parametrize(
    "text",
    [
        "SH-80422 last status 'in transit' 12/05",
        "Please investigate the loss of 1 pallet in transit.",
        "Detention 3.0 h x 85.00 billed",
        "Sendung unterwegs",
        "Zending onderweg",
    ],
)
def test_a_shipment_status_or_a_detention_charge_alone_states_no_carrier_delay(text: str) -> None:
    """Every shipment reads "in transit" until it arrives; detention is a line of a bill."""
    assert count_cues(text).get("carrier_delay")
    assert not states_condition(text, "carrier_delay")
