"""Own evidence: what in the case's own documents points at a cause, and what does not count."""

from __future__ import annotations

import pytest

from agent.grounding import (
    BACKED_ODDS,
    COUNTERED_ODDS,
    MAX_COUNTERED,
    counter_evidence,
    ground,
    own_evidence,
    read_case,
    statements,
)
from tests.support.local_cases import event, make_local_case, matched, message

PO_CASE = {
    "workflow": "supplier_confirmation",
    "stalled_step": "receipt step stalled",
    "refs": {"po_id": "PO-45001", "supplier_id": "SUP-9"},
}


def test_an_attribute_fact_a_code_and_a_cue_in_an_event_each_count() -> None:
    """A decisive fact, a standard code and a cue phrase in the case itself are own evidence."""
    case = make_local_case(
        attributes={"credit_status": "BLOCKED"},
        events=[event("ERP", "status", "see segment", "C2"), event("FINANCE", "x", "credit hold")],
    )
    assert own_evidence(case, [], "credit_hold") == ["code:C2", "cue:event", "fact:credit_blocked"]
    assert own_evidence(case, [], "carrier_delay") == []


def test_a_code_written_out_in_an_x12_segment_counts() -> None:
    """An AT7 segment in an event's detail counts like the event's own code field."""
    case = make_local_case(events=[event("CARRIER", "214", "AT7*SD*AY*NS~")])
    assert own_evidence(case, [], "carrier_cutoff_missed") == ["code:AY"]


def test_a_message_matched_by_the_case_refs_counts() -> None:
    """A loose message that shares this case's document ref is evidence about it."""
    case = make_local_case(**PO_CASE)
    found = own_evidence(case, [matched("M1", "Order is backordered, sorry.")], "supplier_delay")
    assert found == ["cue:message"]


def test_a_similar_or_party_message_does_not_count() -> None:
    """Messages matched by similarity or a shared party are about other cases."""
    case = make_local_case(**PO_CASE)
    body = "Order is backordered, sorry."
    loose = [
        matched("M1", body).model_copy(update={"matched_by": "similarity"}),
        matched("M2", body).model_copy(update={"matched_by": "party"}),
    ]
    assert own_evidence(case, loose, "supplier_delay") == []


def test_a_refs_message_whose_refs_name_another_document_does_not_count() -> None:
    """A message matched on the supplier's order but carrying another PO is not ours."""
    case = make_local_case(**PO_CASE)
    other = matched("M1", "Order is backordered.").model_copy(
        update={"document_refs": {"po_id": "PO-45002"}}
    )
    assert own_evidence(case, [other], "supplier_delay") == []


def test_a_case_message_about_another_po_counts_only_by_its_sentences_about_ours() -> None:
    """A supplier writing about another PO of the same kind is not evidence about this one."""
    about_other = message("PO-45777 is backordered until January.", "supplier")
    case = make_local_case(**PO_CASE, messages=[about_other])
    assert own_evidence(case, [], "supplier_delay") == []
    both = message(
        "PO-45777 is backordered until January. PO-45001 is backordered too.", "supplier"
    )
    case = make_local_case(**PO_CASE, messages=[both])
    assert own_evidence(case, [], "supplier_delay") == ["cue:message"]


def test_an_invoice_that_agrees_with_the_order_is_counter_evidence_of_a_pricing_mismatch() -> None:
    """Prices and quantities that agree say the match did not fail on them."""
    agrees = make_local_case(
        attributes={"po_price": 4.2, "invoice_price": 4.2, "qty_received": 10, "qty_invoiced": 10}
    )
    assert counter_evidence(agrees, [], "pricing_mismatch") == [
        "fact:price_agrees",
        "fact:qty_match_agrees",
    ]
    assert counter_evidence(agrees, [], "supplier_delay") == []


def test_a_fact_for_the_cause_outweighs_a_fact_against_it() -> None:
    """Prices agree but quantities do not: the mismatch stands and nothing holds it back."""
    case = make_local_case(
        attributes={"po_price": 4.2, "invoice_price": 4.2, "qty_received": 8, "qty_invoiced": 10}
    )
    assert counter_evidence(case, [], "pricing_mismatch") == []


@pytest.mark.parametrize(
    ("status", "found"),
    [
        pytest.param("OK", ["fact:credit_in_order"], id="ok"),
        pytest.param("approved", ["fact:credit_in_order"], id="approved"),
        pytest.param("pending_review", [], id="pending"),
        pytest.param("prepay_required", [], id="prepay"),
        pytest.param("B", [], id="a-code"),
        pytest.param("blocked", [], id="blocked"),
    ],
)
def test_only_a_credit_status_that_plainly_says_in_order_counts_against_a_credit_hold(
    status: str, found: list[str]
) -> None:
    """A status that is merely not a blocking word may still be a hold in the customer's terms."""
    case = make_local_case(attributes={"credit_status": status})
    assert counter_evidence(case, [], "credit_hold") == found


def test_erp_and_wms_agreeing_is_no_counter_evidence_of_an_inventory_discrepancy() -> None:
    """Physical stock can differ from both systems while they agree with each other."""
    case = make_local_case(attributes={"erp_on_hand": 48, "wms_on_hand": 48, "damaged_qty": 12})
    assert counter_evidence(case, [], "inventory_discrepancy") == []


def test_a_correction_in_a_later_message_is_counter_evidence() -> None:
    """A first guess corrected by the people who checked: automation waits for a person."""
    case = make_local_case(
        messages=[
            message("Held at the border, probably customs.", "internal"),
            message(
                "Broker confirms customs released it yesterday; the tractor broke down.", "internal"
            ),
        ]
    )
    assert counter_evidence(case, [], "compliance_hold") == ["cleared:message"]
    assert counter_evidence(case, [], "carrier_delay") == []


def test_a_statement_that_nobody_has_established_the_cause_is_counter_evidence() -> None:
    """Whatever cause the model decides, "can't call it" from the people who looked holds it."""
    case = make_local_case(
        messages=[
            message("Supplier says it shipped; the carrier has no record of the PRO.", "internal"),
            message(
                "Either they never shipped or the PRO was mistyped. Can't call it.", "internal"
            ),
        ]
    )
    for cause in ("supplier_delay", "carrier_delay", "integration_failure"):
        assert counter_evidence(case, [], cause) == ["undetermined:message"]


@pytest.mark.parametrize(
    ("attributes", "cause", "found"),
    [
        pytest.param({"carrier_on_time": True}, "carrier_delay", ["fact:on_time"], id="on-time"),
        pytest.param({"OnTime": "yes"}, "carrier_delay", ["fact:on_time"], id="on-time-text"),
        pytest.param({"carrier_on_time": False}, "carrier_delay", [], id="late"),
        pytest.param({"on_time_target_pct": 95}, "carrier_delay", [], id="a-target"),
        pytest.param(
            {"wms_backlog_orders": 410, "wms_backlog_baseline": 450},
            "warehouse_congestion",
            ["fact:backlog_within_norm"],
            id="backlog-below-norm",
        ),
        pytest.param(
            {"customs_status": "accepted"},
            "compliance_hold",
            ["fact:compliance_clear"],
            id="filing-accepted",
        ),
        pytest.param(
            {"erp_on_hand": 48, "wms_on_hand": 48, "cycle_count_result": 48},
            "inventory_discrepancy",
            ["fact:count_agrees"],
            id="count-equals-book",
        ),
        pytest.param(
            {"erp_on_hand": 48, "wms_on_hand": 40, "cycle_count_result": 48},
            "inventory_discrepancy",
            [],
            id="count-settles-nothing-beside-a-gap",
        ),
        pytest.param(
            {"backlog_orders": 900, "backlog_normal": 300},
            "warehouse_congestion",
            [],
            id="backlog-high",
        ),
        pytest.param(
            {
                "backlog_orders": 410,
                "backlog_baseline": 450,
                "labour_planned": 12,
                "labour_actual": 5,
            },
            "warehouse_congestion",
            [],
            id="short-of-people",
        ),
    ],
)
def test_attributes_that_show_the_condition_absent_are_counter_evidence(
    attributes: dict[str, object], cause: str, found: list[str]
) -> None:
    """An on-time carrier, a backlog at its norm; a fact for the cause outweighs them."""
    case = make_local_case(attributes=attributes)
    assert counter_evidence(case, [], cause) == found


def test_a_cause_named_only_in_a_question_is_no_own_evidence() -> None:
    """ "Is the carrier having trouble again?" is a guess; a statement of it is evidence."""
    asking = make_local_case(
        messages=[message("Four days in processing. Is it stuck at the hub again?", "customer")]
    )
    telling = make_local_case(
        messages=[message("Four days in processing? It is stuck at the hub again.", "customer")]
    )
    assert own_evidence(asking, [], "carrier_delay") == []
    assert own_evidence(telling, [], "carrier_delay") == ["cue:message"]


def test_statements_keep_every_sentence_but_the_questions() -> None:
    text = "Truck broke down at 9.30. Any update?\nRebooked for Friday!"
    assert statements(text).split() == [
        "Truck",
        "broke",
        "down",
        "at",
        "9.30.",
        "Rebooked",
        "for",
        "Friday!",
    ]


def test_a_decisive_fact_for_another_cause_is_counter_evidence() -> None:
    """A credit block beside a high backlog: the records settle two causes, a person picks."""
    case = make_local_case(
        attributes={"credit_status": "blocked", "wms_backlog_orders": 780, "backlog_typical": 420}
    )
    assert counter_evidence(case, [], "warehouse_congestion") == ["conflict:credit_blocked"]
    assert counter_evidence(case, [], "credit_hold") == ["conflict:backlog_high"]
    assert (
        counter_evidence(
            make_local_case(attributes={"credit_status": "blocked"}), [], "credit_hold"
        )
        == []
    )


def test_one_grounding_reads_both_lists_as_the_two_functions_do() -> None:
    """The classify node's single pass gives exactly what each function gives on its own."""
    cases = [
        make_local_case(
            events=[event("ERP", "credit_hold", "Credit block on order", code="C2")],
            attributes={"credit_status": "blocked", "erp_on_hand": 5, "wms_on_hand": 9},
            messages=[message("Customs released it; can't call it yet.", "internal")],
        ),
        make_local_case(
            attributes={"erp_on_hand": 48, "wms_on_hand": 48, "cycle_count_result": 48},
            messages=[message("Short pick again, is it a count problem?", "internal")],
        ),
    ]
    for case in cases:
        for cause in ("credit_hold", "inventory_discrepancy", "compliance_hold"):
            grounding = ground(case, [], cause)
            assert grounding.own == own_evidence(case, [], cause)
            assert grounding.counter == counter_evidence(case, [], cause)
    assert ground(cases[0], [], "credit_hold").own, "the first case holds evidence for credit"
    assert ground(cases[1], [], "inventory_discrepancy").counter == ["fact:count_agrees"]


KNOWN = ["credit_hold", "pricing_mismatch", "compliance_hold", "carrier_delay"]


def test_a_countered_cause_loses_odds_and_the_rest_grows_in_proportion() -> None:
    """A credit status that reads ok cuts credit_hold's odds; unknown and the rest share the mass."""
    case = make_local_case(attributes={"credit_status": "ok"})
    given = {"credit_hold": 0.6, "carrier_delay": 0.3, "unknown": 0.1}
    probs = read_case(case, []).weigh_records(given, KNOWN)
    odds = probs["credit_hold"] / (1 - probs["credit_hold"])
    assert odds == pytest.approx(0.6 / 0.4 * COUNTERED_ODDS)
    assert probs["carrier_delay"] / probs["unknown"] == pytest.approx(3.0)
    assert sum(probs.values()) == pytest.approx(1.0)
    assert max(probs, key=probs.__getitem__) == "carrier_delay"


def test_a_cause_nothing_counters_or_backs_keeps_its_scores() -> None:
    """Only the case's own records move a probability: here they say nothing about carriers."""
    case = make_local_case(attributes={"credit_status": "ok"})
    given = {"carrier_delay": 0.6, "credit_hold": 0.3, "unknown": 0.1}
    assert read_case(case, []).weigh_records(given, KNOWN) == given
    assert read_case(make_local_case(), []).weigh_records(given, KNOWN) == given


def test_the_cause_the_decisive_facts_back_gains_odds() -> None:
    """A blocked credit status backs credit_hold: its odds double, the rest shrink in proportion."""
    blocked = make_local_case(attributes={"credit_status": "BLOCKED"})
    given = {"carrier_delay": 0.5, "credit_hold": 0.4, "unknown": 0.1}
    probs = read_case(blocked, []).weigh_records(given, KNOWN)
    assert probs["credit_hold"] / (1 - probs["credit_hold"]) == pytest.approx(
        0.4 / 0.6 * BACKED_ODDS
    )
    assert probs["carrier_delay"] / probs["unknown"] == pytest.approx(5.0)
    assert sum(probs.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("attributes", "step"),
    [
        pytest.param(
            {"credit_status": "BLOCKED", "po_price": 10.0, "invoice_price": 12.0},
            "order on hold",
            id="two-causes",
        ),
        pytest.param(
            {"credit_status": "BLOCKED", "erp_on_hand": 40, "wms_on_hand": 12},
            "order on hold",
            id="shared-fact",
        ),
        pytest.param({"credit_status": "BLOCKED"}, "credit check passed", id="countered"),
    ],
)
def test_facts_that_disagree_are_shared_or_countered_back_nothing(
    attributes: dict[str, object], step: str
) -> None:
    """Backing needs every decisive fact on one cause, none shared, and no statement against it."""
    case = make_local_case(attributes=attributes, stalled_step=step)
    assert read_case(case, []).backed_cause() is None
    alone = make_local_case(attributes={"credit_status": "BLOCKED"}, stalled_step="order on hold")
    assert read_case(alone, []).backed_cause() == "credit_hold"


def test_countered_causes_are_discounted_in_turn_up_to_the_cap() -> None:
    """Each countered top cause gives way to the next; unknown is never discounted."""
    case = make_local_case(
        attributes={
            "credit_status": "ok",
            "po_price": 10.0,
            "invoice_price": 10.0,
            "po_qty": 5,
            "customs_status": "released",
        },
    )
    reading = read_case(case, [])
    assert all(reading.checked_absent(c) for c in KNOWN[:3])
    given = {"credit_hold": 0.4, "pricing_mismatch": 0.3, "compliance_hold": 0.2, "unknown": 0.1}
    probs = reading.weigh_records(given, KNOWN)
    assert MAX_COUNTERED == 3
    assert max(probs, key=probs.__getitem__) == "unknown"
    # With a cap of one, only the first is discounted.
    assert reading.weigh_records(given, KNOWN[:1])["pricing_mismatch"] > 0.3


def test_customs_words_ground_a_compliance_run_only_beside_a_hold_or_a_paper_fault() -> None:
    """An import desk names the broker and the entry in every case; that alone grounds nothing."""
    routine = message(
        "Broker filed the entry under HS code 8471.30; declaration attached.", "supplier"
    )
    case = make_local_case(messages=[routine])
    assert own_evidence(case, [], "compliance_hold") == []
    held = message("Broker: entry held by CBP for exam, the declaration is incomplete.", "supplier")
    case = make_local_case(messages=[routine, held])
    assert own_evidence(case, [], "compliance_hold") == ["cue:message"]


def test_a_quoted_in_transit_status_grounds_no_carrier_delay_run() -> None:
    """A claim quoting the tracking status is not a delay; the same status for days is."""
    status = event("CARRIER", "status", "SH-80422 last status 'in transit' 12/05")
    case = make_local_case(events=[status])
    assert own_evidence(case, [], "carrier_delay") == []
    late = message("Tracking shows in transit for 4 days now.", "customer")
    case = make_local_case(events=[status], messages=[late])
    assert own_evidence(case, [], "carrier_delay") == ["cue:message"]


RECEIVER_STOPPED = [
    pytest.param("Consignee refused the delivery, says it was never ordered.", id="refused"),
    pytest.param("Delivery refused by the customer at 10:40.", id="refused-by"),
    pytest.param("Customer asked us to hold the delivery until their new store opens.", id="hold"),
    pytest.param("Appointment moved to Friday at the customer's request.", id="request"),
    pytest.param("Customer-requested postponement, store remodel.", id="requested"),
    pytest.param("Receiving dock is not ready; consignee unable to receive.", id="not-ready"),
]
RECEIVER_NOT_STOPPED = [
    pytest.param("Customer refused the delivery: it arrived two days late.", id="refused-late"),
    pytest.param("Consignee rejected the load after we missed the window.", id="missed-window"),
    pytest.param("Has the customer refused the delivery?", id="question"),
    pytest.param("Consignee closed, delivery not completed.", id="closed-is-the-carrier-s-word"),
    pytest.param("Linehaul delay at Memphis hub, ETA +2 days.", id="plain-delay"),
]


@pytest.mark.parametrize("text", RECEIVER_STOPPED)
def test_a_delivery_the_receiver_refused_or_put_off_counts_against_a_carrier_delay(
    text: str,
) -> None:
    """The carrier came and the consignee stopped it: the stall is the receiver's."""
    case = make_local_case(workflow="delivery", messages=[message(text, "customer")])
    assert counter_evidence(case, [], "carrier_delay") == ["receiver:message"]
    assert read_case(case, []).checked_absent("carrier_delay")
    # It says nothing about the other causes.
    assert counter_evidence(case, [], "warehouse_congestion") == []


@pytest.mark.parametrize("text", RECEIVER_NOT_STOPPED)
def test_a_late_refusal_a_question_or_a_carrier_s_exception_is_no_counter_evidence(
    text: str,
) -> None:
    """A refusal of late freight may be the carrier's doing, and a guess or excuse settles nothing."""
    case = make_local_case(workflow="delivery", messages=[message(text, "customer")])
    assert counter_evidence(case, [], "carrier_delay") == []
