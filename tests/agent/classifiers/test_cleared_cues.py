"""A condition checked and found fine, or lifted, is not a cue for the cause it names."""

from __future__ import annotations

import pytest

from agent.classifiers.cues import cleared_cues, count_cues
from agent.grounding import counter_evidence, own_evidence
from tests.support.local_cases import event, make_local_case, message

CLEARED = [
    pytest.param("Credit check passed", "credit_hold", id="check-passed"),
    pytest.param("Credit hold released this morning", "credit_hold", id="hold-released"),
    pytest.param("Credit hold on SO-88123 released", "credit_hold", id="hold-on-doc-released"),
    pytest.param("Order released from credit hold", "credit_hold", id="released-from"),
    pytest.param("No longer on credit hold", "credit_hold", id="no-longer"),
    pytest.param("Exposure within the credit limit", "credit_hold", id="within-limit"),
    pytest.param("Customs hold cleared", "compliance_hold", id="customs-cleared"),
    pytest.param("Shipment cleared customs at 09:10", "compliance_hold", id="cleared-customs"),
    pytest.param("Stock check: no stock variance", "inventory_discrepancy", id="no-variance"),
    pytest.param("Invoice price matches the PO", "pricing_mismatch", id="price-matches"),
    pytest.param("Quantity within tolerance", "pricing_mismatch", id="within-tolerance"),
    pytest.param("ASN received OK", "supplier_delay", id="asn-received"),
    pytest.param("Kreditsperre aufgehoben", "credit_hold", id="de-lifted"),
    pytest.param("Ware vom Zoll freigegeben", "compliance_hold", id="de-customs"),
    pytest.param("Bloqueo de crédito levantado", "credit_hold", id="es-lifted"),
    pytest.param("Mercancía despachada por la aduana", "compliance_hold", id="es-customs"),
    pytest.param("Blocage crédit levé", "credit_hold", id="fr-lifted"),
    pytest.param("Douane vrijgegeven", "compliance_hold", id="nl-customs"),
    pytest.param("Inventurdifferenz behoben", "inventory_discrepancy", id="de-fixed"),
    pytest.param("Customs: entry released", "compliance_hold", id="record-colon"),
    pytest.param("customs_cleared", "compliance_hold", id="event-type"),
    pytest.param("Item ships as non-DG", "compliance_hold", id="non-dg"),
]
STILL_HELD = [
    pytest.param("Credit hold not released", "credit_hold", id="not-released"),
    pytest.param("The credit hold is still in place", "credit_hold", id="still"),
    pytest.param("Credit check failed: past due balance", "credit_hold", id="check-failed"),
    pytest.param("Customs hold, not yet cleared", "compliance_hold", id="not-yet-cleared"),
    pytest.param("No ASN received for PO-1", "supplier_delay", id="no-asn-received"),
    pytest.param("855 received with a later delivery date", "supplier_delay", id="855-changed"),
    pytest.param("Invoice match exception", "pricing_mismatch", id="match-exception"),
    pytest.param(
        "Linehaul cutoff passed before driver arrival", "carrier_cutoff_missed", id="cutoff-passed"
    ),
    pytest.param("Pick not started, released 10h ago", "warehouse_congestion", id="wave-released"),
    pytest.param("Kreditsperre nicht aufgehoben", "credit_hold", id="de-not-lifted"),
    pytest.param("Zoll hält die Ware", "compliance_hold", id="de-held"),
    pytest.param("Customs hold: not released", "compliance_hold", id="record-colon-not"),
    pytest.param("customs_hold", "compliance_hold", id="event-type-hold"),
    pytest.param("Item is hazardous: UN1993", "compliance_hold", id="hazardous"),
]


@pytest.mark.parametrize(("text", "cause"), CLEARED)
def test_a_cleared_condition_is_not_a_cue_for_its_cause(text: str, cause: str) -> None:
    """The statement that the condition is fine or lifted counts for nothing."""
    assert cause not in count_cues(text)


@pytest.mark.parametrize(("text", "cause"), STILL_HELD)
def test_a_condition_still_in_force_stays_a_cue(text: str, cause: str) -> None:
    """Negated, pending or unrelated releases leave the cue standing."""
    assert count_cues(text).get(cause, 0) >= 1


def test_a_cleared_line_leaves_the_other_cues_of_the_text_counted() -> None:
    """Only the cue the cleared statement names is dropped, not the rest of the case."""
    held = "Customs broker: certificate of origin missing"
    assert count_cues(f"Credit hold released.\n{held}") == count_cues(held)
    assert set(count_cues(held)) == {"compliance_hold"}


def test_a_cleared_condition_gives_no_own_evidence_for_automation() -> None:
    """A case that only says its credit hold was lifted holds no own evidence of a credit hold."""
    case = make_local_case(
        events=[event("FINANCE", "credit", "Credit check passed, hold released")]
    )
    assert own_evidence(case, [], "credit_hold") == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("Location B-02-07 counted 60, expected 60", {}, id="count-matches"),
        pytest.param("Bin A-1 expected 12, counted 12", {}, id="count-matches-reversed"),
        pytest.param(
            "Location B-02-07 counted 58, expected 60", {"inventory_discrepancy": 1}, id="short"
        ),
    ],
)
def test_a_count_that_found_what_was_expected_is_no_variance(
    text: str, found: dict[str, int]
) -> None:
    assert count_cues(text) == found


@pytest.mark.parametrize(("text", "cause"), CLEARED)
def test_a_cleared_condition_in_the_case_is_counter_evidence_for_its_cause(
    text: str, cause: str
) -> None:
    """The case saying the condition is fine or lifted holds automation for its cause back."""
    case = make_local_case(events=[event("ERP", "note", text)])
    assert counter_evidence(case, [], cause) == ["cleared:event"]
    assert counter_evidence(case, [], "carrier_cutoff_missed") == []


@pytest.mark.parametrize(("text", "cause"), STILL_HELD)
def test_a_condition_still_in_force_is_no_counter_evidence(text: str, cause: str) -> None:
    """Negated, pending or unrelated releases do not say the condition is absent."""
    case = make_local_case(events=[event("ERP", "note", text)])
    assert counter_evidence(case, [], cause) == []


def test_cleared_cues_count_what_count_cues_leaves_out() -> None:
    """Each cue phrase of a line is counted once: as standing or as cleared."""
    text = "Customs hold cleared.\nCertificate of origin missing, customs hold"
    assert cleared_cues(text) == {"compliance_hold": 1}
    assert count_cues(text).get("compliance_hold", 0) >= 1


RULED_OUT = [
    pytest.param(
        "So it's not a count problem, nobody moved the pallets down.",
        "inventory_discrepancy",
        id="not-a-count-problem",
    ),
    pytest.param("This isn't a carrier issue, the dock was full.", "carrier_delay", id="carrier"),
    pytest.param(
        "It is not the supplier's fault, our PO went out late.", "supplier_delay", id="sup"
    ),
    pytest.param("Not a data problem: the item master is fine.", "master_data_error", id="data"),
    pytest.param("It's not a system issue, the interface ran.", "integration_failure", id="system"),
    pytest.param("Not a supplier delay: they have stock.", "supplier_delay", id="not-a-delay"),
    pytest.param(
        "Short picks are not inventory errors, reserve has it.",
        "inventory_discrepancy",
        id="not-errors",
    ),
]


@pytest.mark.parametrize(("text", "cause"), RULED_OUT)
def test_a_cause_ruled_out_by_name_is_counter_evidence_for_it(text: str, cause: str) -> None:
    """The people who checked say which cause it is not; automation for that cause waits."""
    case = make_local_case(events=[event("ERP", "note", text)])
    assert counter_evidence(case, [], cause) == ["cleared:event"]


@pytest.mark.parametrize(
    "text",
    [
        "Not a problem to rebook it for tomorrow.",
        "The problem is the carrier: the truck broke down.",
        "Was the count problem fixed? No, still 12 short.",
    ],
)
def test_a_problem_named_without_ruling_it_out_is_no_counter_evidence(text: str) -> None:
    """Naming a cause as the problem, or asking about it, rules nothing out."""
    case = make_local_case(events=[event("ERP", "note", text)])
    for cause in ("carrier_delay", "inventory_discrepancy"):
        assert counter_evidence(case, [], cause) == []


def test_goods_classed_non_hazardous_count_against_a_compliance_hold() -> None:
    """A safety data sheet that classes the goods outside the DG rules clears the DG condition."""
    case = make_local_case(
        events=[event("TMS", "dg_check", "Item flagged UN1993, DG declaration required")],
        messages=[message("SDS says non-hazardous, plastic tote", party="internal")],
    )
    assert counter_evidence(case, [], "compliance_hold") == ["cleared:message"]


@pytest.mark.parametrize(
    "text",
    ["SDS section 14: not regulated for transport", "Entry 553108-4 released, CBP 1C, no exam"],
)
def test_goods_not_regulated_or_an_entry_with_no_exam_count_against_a_compliance_hold(
    text: str,
) -> None:
    """Goods "not regulated" and an entry with "no exam" clear the trade and DG condition."""
    case = make_local_case(events=[event("TMS", "note", text)])
    assert counter_evidence(case, [], "compliance_hold") == ["cleared:event"]


@pytest.mark.parametrize(
    "text", ["CBP exam ordered; no exam date yet", "No exam yet - entry still on CBP hold"]
)
def test_an_exam_not_yet_held_clears_nothing(text: str) -> None:
    """ "No exam yet" is a hold still open, not an entry released without one."""
    case = make_local_case(events=[event("TMS", "note", text)])
    assert counter_evidence(case, [], "compliance_hold") == []


def test_a_releasing_word_is_read_within_the_cue_s_clause_only() -> None:
    # Auxiliaries may repeat ("has been now released"), but a releasing word thousands of
    # characters on belongs to another clause: the read stops, and a cue's check stays cheap on
    # a line of any length.
    near = "Credit hold has been now released"
    far = "Credit hold " + "is " * 5000 + "released"
    assert count_cues(near).get("credit_hold", 0) == 0
    assert count_cues(far).get("credit_hold", 0) == 1
