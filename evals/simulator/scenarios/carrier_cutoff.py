"""Carrier cutoff missed: goods were ready at origin but the pickup or cutoff was missed."""

from __future__ import annotations

from datetime import timedelta

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

MISS_TYPES = (
    "pickup_missed",
    "carrier_no_show",
    "missed_pickup",
    "pickup_failed",
    "pickup_exception",
    "attempted_pickup",
    "driver_departed",
    "no_pickup",
)
MISS_DETAILS = (
    "Driver departed {t}, trailer full",
    "No trailer available at {site}",
    "Carrier arrived after dock close ({t})",
    "Pickup attempt cancelled - no capacity on route",
    "Driver left at cutoff, freight staged at door {door} not loaded",
    "Missed scheduled pickup window {t}",
    "Carrier did not show for {t} appointment",
    "Trailer swap not performed, load left on dock",
    "Pickup not completed: driver out of hours",
    "Linehaul cutoff {t} passed before driver arrival",
    "PU not made - equipment shortage",
    "Driver refused: no empty trailer for drop",
)
STAGE_TYPES = (
    "pack_complete",
    "staged",
    "load_ready",
    "shipment_staged",
    "cartons_staged",
    "packing_done",
    "ready_to_ship",
)
STAGE_DETAILS = (
    "{n} cartons packed, staged at door {door}",
    "{n} pallets staged lane {door}, ready for {carrier}",
    "Load {shipment} ready for pickup since {t}",
    "Pack-out complete, {n} cartons on dock",
    "All lines packed and labelled, waiting on carrier",
    "Staged for {carrier} pickup, BOL printed",
    "{n} pallets wrapped and staged",
    "Order {order} packed ({n} ctns), moved to outbound",
)
NEXT_PICKUP = (
    "Next available pickup is {day} {t2}.",
    "Earliest next pickup: {day} {t2}.",
    "We can send a truck {day} at {t2}.",
    "Rescheduled pickup for {day} {t2}.",
    "Earliest we can recover the load is {day} around {t2}.",
    "New PU appt {day} {t2}.",
    "Driver can be back {day}, window opens {t2}.",
    "Best option is the {t2} run {day}.",
)
CARRIER_SAYS = (
    "Our driver left at cutoff with a full trailer.",
    "Unfortunately our driver could not make the {t} pickup at {site}.",
    "The driver ran out of hours before reaching your dock.",
    "We had no trailer available for the {area} route today.",
    "Pickup for {shipment} was missed due to equipment shortage.",
    "Driver arrived after your shipping cutoff and the dock was closed.",
    "Our route was overbooked and {shipment} got bumped.",
    "Sorry, the truck for {shipment} did not make it in time today.",
    "We missed the pickup at {site}; driver was held at a prior stop.",
    "No show on our side for {shipment} - dispatch error.",
)
INTERNAL_SAYS = (
    "truck never showed for {carrier}, freight sitting at door {door} since {t}",
    "{carrier} missed the pickup again, {n} pallets still on the dock",
    "driver left before we loaded {shipment}, it was all staged",
    "{carrier} no-show at {site}, load ready since {t}",
    "carrier cutoff passed, our stuff was packed in time tho",
    "{shipment} packed + staged, {carrier} didn't come",
    "{carrier} says no trailer today for {shipment}",
    "missed PU on {shipment}, not our fault, pallets were wrapped at {t}",
)
CUTOFF_DETAILS = (
    "Carrier cutoff {t} passed for {carrier}",
    "Tender {shipment} accepted, pickup appt {t}",
    "Pickup appointment {t} passed, no pickup scan",
    "No departure scan for {shipment}",
    "Cutoff for {carrier} lane {area} is {t}",
    "Load {shipment} not departed, appt was {t}",
)
STALLED = (
    "waiting for carrier pickup",
    "carrier pickup not confirmed",
    "load not picked up",
    "pickup confirmation missing",
)


def frame(draft: Draft) -> None:
    """Adds the shipment refs a carrier pickup case carries."""
    draft.use_refs("shipment_id", "carrier")
    if draft.words.chance(0.8):
        draft.use_refs("order_id")
    if draft.words.chance(0.55):
        draft.use_refs("customer_id")
    if draft.words.chance(0.5):
        draft.use_refs("skus")


def carrier_event(draft: Draft) -> None:
    """The carrier reports the missed pickup, often with X12 T3."""
    moment = draft.ago(60, 200)
    code = draft.rng.choice(("T3", "T3", "T3", None, None, "AJ"))
    draft.event(
        "CARRIER", MISS_TYPES, MISS_DETAILS, at=moment, code=code, t=draft.words.clock(moment)
    )


def staged_before_cutoff(draft: Draft) -> None:
    """The DC had the freight packed and staged ahead of the pickup."""
    moment = draft.ago(210, 480)
    draft.event(
        "WMS",
        STAGE_TYPES,
        STAGE_DETAILS,
        at=moment,
        n=draft.rng.randint(2, 40),
        t=draft.words.clock(moment),
    )


def carrier_message(draft: Draft) -> None:
    """The carrier explains the miss and offers the earliest next pickup."""
    draft.message("carrier", carrier_sentences(draft), topic="pickup", at=draft.ago(5, 55))


def carrier_sentences(draft: Draft) -> list[str]:
    """Writes the carrier's explanation plus the earliest next pickup time."""
    miss = draft.ago(60, 240)
    nxt = draft.setting.detected_at + timedelta(hours=draft.rng.randint(12, 40))
    nxt = nxt.replace(minute=draft.rng.choice((0, 0, 30)))
    return [
        draft.say(CARRIER_SAYS, t=draft.words.clock(miss)),
        draft.say(NEXT_PICKUP, day=draft.words.day(nxt), t2=draft.words.clock(nxt)),
    ]


def internal_chat(draft: Draft) -> None:
    """Someone on the dock complains the truck never came."""
    staged = draft.ago(210, 480)
    text = draft.say(INTERNAL_SAYS, t=draft.words.clock(staged), n=draft.rng.randint(2, 26))
    channel = draft.words.pick(("chat", "chat", "phone_note"))
    draft.message("internal", [text], topic="pickup", channel=channel, at=draft.ago(5, 55))


def tms_cutoff(draft: Draft) -> None:
    """The TMS notes the cutoff or appointment passing without a pickup scan."""
    moment = draft.ago(30, 200)
    draft.event(
        "TMS",
        (
            "pickup_overdue",
            "no_pickup_scan",
            "appointment_missed",
            "cutoff_passed",
            "tender_status",
        ),
        CUTOFF_DETAILS,
        at=moment,
        t=draft.words.clock(moment),
    )


def loose_update(draft: Draft) -> None:
    """The carrier's explanation arrives outside the case, keyed by the shipment."""
    draft.loose_message(
        "carrier",
        carrier_sentences(draft),
        topic="pickup",
        ref_keys=("shipment_id",),
        at=draft.ago(5, 120),
    )


SCENARIO = CauseScenario(
    cause="carrier_cutoff_missed",
    workflows={"shipment_confirmation": 7, "delivery": 2, "pick_pack": 1},
    frame=frame,
    strong=(carrier_event, carrier_message, internal_chat, tms_cutoff),
    weak=(staged_before_cutoff,),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(staged_before_cutoff, tms_cutoff),
)
