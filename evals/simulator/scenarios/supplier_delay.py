"""Supplier delay: the supplier has not confirmed, shipped or sent an ASN on time."""

from __future__ import annotations

from datetime import timedelta

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

SUPPLIER_SAYS = (
    "Item {line} is on backorder until {day}, the rest ships {day2}.",
    "Unfortunately {sku} is delayed; raw material arrives late and we now expect to ship {day}.",
    "We can only ship {part} of {qty} this week, the balance follows around {day}.",
    "Our production line had an outage, so {po} will be delayed by about {n} days.",
    "We are waiting on our own supplier for components; earliest ship date is {day}.",
    "The order is confirmed but will ship partial: {part} EA now, remainder {day}.",
    "Sorry for the delay on {po}. We are behind on this item and will update you by {day2}.",
    "{sku} is out of stock at our plant; new availability {day}.",
    "Due to a labour strike at our facility shipments are delayed roughly {n} days.",
    "Capacity is tight; we have rescheduled {po} to ship {day}.",
    "we have not been able to confirm {po} yet, still waiting on planning",
    "Partial shipment going out today, remaining lines backordered.",
)
EDI_SAYS = (
    "BAK*00*AC*{po}*{ymd}~ACK*IB*{part}*EA*068*{ymd2}~",
    "855 {po} ACK IB {part} EA DATE {ymd2}",
    "ACK*DR*{qty}*EA*068*{ymd2}~ (date rescheduled)",
    "PO ACK: {po} LINE {line} BACKORDERED",
    "856 NOT SENT - ORDER NOT SHIPPED",
    "PARTIAL SHIP {part}/{qty} {sku}",
)
OVERDUE_DETAILS = (
    "{po} acknowledgement overdue {n} days",
    "No 855 received for {po}",
    "Order confirmation missing, sent {day}",
    "PO {po} unconfirmed after {n} reminders",
    "Vendor confirmation SLA breached ({n}d)",
    "PO ack pending since {day}",
)
ASN_DETAILS = (
    "No ASN received for {po}, due {day}",
    "ASN overdue for {po}",
    "856 missing for {po}",
    "Expected inbound for {po} not shipped",
    "Inbound appointment cancelled - no ASN",
    "Dock appointment {day} no-show by {supplier}",
)
PARTIAL_DETAILS = (
    "GR for {po}: {part} of {qty} received",
    "Partial receipt {part}/{qty} EA",
    "Receipt short vs ASN: {part} received, remainder backordered per supplier",
    "{po} line {line}: {part} EA received, open {rest}",
)
DATE_DETAILS = (
    "Supplier portal: ship date moved from {day2} to {day}",
    "Promise date updated to {day}",
    "ETA revised by {supplier}: {day}",
    "Confirmed delivery date changed {day2} -> {day}",
)
BUYER_SAYS = (
    "{supplier} still hasn't confirmed {po}, chased twice",
    "called {supplier}, they're short on {sku}, maybe {day}",
    "{supplier} rep says partial only, rest in {n} days",
    "no ASN from {supplier} on {po}, I think they haven't shipped",
    "vendor pushed {po} again. third time this quarter",
)
PO_SENT = (
    "{po} sent by EDI 850",
    "PO {po} transmitted to {supplier}",
    "PO released and emailed",
    "850 sent, 997 received",
    "PO {po} created by MRP run",
)
STALLED = (
    "PO not confirmed by supplier",
    "awaiting supplier ship notice",
    "supplier ASN overdue",
    "vendor promise date passed",
)


def frame(draft: Draft) -> None:
    """Adds the purchase-order refs and the acknowledgement flag."""
    draft.use_refs("po_id", "supplier_id")
    if draft.words.chance(0.5):
        draft.use_refs("skus")
    if draft.workflow == "backorder_resolution" and draft.words.chance(0.6):
        draft.use_refs("order_id")
    if draft.workflow == "supplier_confirmation" or draft.words.chance(0.3):
        draft.attributes["po_ack_received"] = draft.words.chance(0.15)


def values(draft: Draft) -> dict[str, object]:
    """Returns this case's quantities and dates for supplier phrasing, drawn on first use."""
    if "supply" not in draft.facts:
        later = draft.setting.detected_at + timedelta(days=draft.rng.randint(3, 30))
        soon = draft.setting.detected_at + timedelta(days=draft.rng.randint(1, 5))
        qty = draft.rng.randint(20, 2000)
        part = draft.rng.randint(1, qty - 1)
        draft.facts["supply"] = {
            "day": draft.words.day(later),
            "day2": draft.words.day(soon),
            "qty": qty,
            "part": part,
            "rest": qty - part,
            "line": draft.rng.randint(1, 9),
            "n": draft.rng.randint(2, 21),
            "ymd": draft.setting.detected_at.strftime("%Y%m%d"),
            "ymd2": later.strftime("%Y%m%d"),
        }
    return draft.facts["supply"]


def supplier_message(draft: Draft) -> None:
    """The supplier says the goods are backordered, delayed or partial."""
    draft.message(
        "supplier", supplier_sentences(draft), topic="order status", at=draft.ago(30, 2000)
    )


def supplier_sentences(draft: Draft) -> list[str]:
    """Writes the supplier's delay notice, in EDI form now and then."""
    if draft.words.chance(0.15):
        return [draft.say(EDI_SAYS, **values(draft))]
    return [draft.say(SUPPLIER_SAYS, **values(draft))]


def ack_overdue(draft: Draft) -> None:
    """The ERP flags the missing acknowledgement."""
    draft.event(
        "ERP",
        ("po_ack_overdue", "ack_missing", "no_855", "confirmation_overdue", "po_unconfirmed"),
        OVERDUE_DETAILS,
        at=draft.ago(30, 1500),
        fill=values(draft),
    )
    draft.attributes["po_ack_received"] = False


def asn_missing(draft: Draft) -> None:
    """No ship notice arrived for the PO."""
    draft.event(
        draft.words.pick(("ERP", "WMS")),
        ("asn_missing", "asn_overdue", "no_856", "appointment_no_show"),
        ASN_DETAILS,
        at=draft.ago(30, 1500),
        fill=values(draft),
    )


def partial_receipt(draft: Draft) -> None:
    """Only part of the PO arrived."""
    draft.event(
        draft.words.pick(("ERP", "WMS")),
        ("goods_receipt", "partial_receipt", "receipt_short"),
        PARTIAL_DETAILS,
        at=draft.ago(60, 3000),
        fill=values(draft),
    )


def promise_moved(draft: Draft) -> None:
    """The supplier moved its promise date in the portal."""
    draft.event(
        "SUPPLIER",
        ("ship_date_changed", "promise_date_updated", "eta_revised", "portal_update"),
        DATE_DETAILS,
        at=draft.ago(60, 4000),
        fill=values(draft),
    )


def buyer_note(draft: Draft) -> None:
    """The buyer notes the supplier's slippage."""
    draft.message(
        "internal",
        [draft.say(BUYER_SAYS, **values(draft))],
        topic="supplier",
        channel=draft.words.pick(("chat", "phone_note", "email")),
    )


def po_sent(draft: Draft) -> None:
    """The PO went out, which every supplier case shares."""
    draft.event(
        "ERP", ("po_sent", "po_transmitted", "po_created"), PO_SENT, at=draft.ago(2000, 9000)
    )


def loose_update(draft: Draft) -> None:
    """The supplier's delay notice arrives outside the case, keyed by PO and supplier."""
    draft.loose_message(
        "supplier",
        supplier_sentences(draft),
        topic="order status",
        ref_keys=("po_id", "supplier_id"),
        at=draft.ago(30, 1400),
    )


SCENARIO = CauseScenario(
    cause="supplier_delay",
    workflows={
        "supplier_confirmation": 5,
        "receiving": 3,
        "backorder_resolution": 3,
        "replenishment_approval": 2,
    },
    frame=frame,
    strong=(supplier_message, ack_overdue, asn_missing, partial_receipt, promise_moved, buyer_note),
    weak=(po_sent,),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(po_sent, ack_overdue, asn_missing),
)
