"""Carrier delay: the carrier holds or slows freight after pickup or rejects the tender."""

from __future__ import annotations

from datetime import timedelta

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

EXCEPTION_TYPES = (
    "in_transit_exception",
    "delivery_exception",
    "delay_reported",
    "shipment_delayed",
    "status_exception",
    "exception_214",
    "linehaul_delay",
    "eta_slip",
    "transit_delay",
)
# Each reason comes with the X12 214 status reason code a carrier would send with it.
REASONS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (
        "AO",
        (
            "Weather delay at {hub} terminal",
            "Snow storm, interstate closed near {hub}",
            "Severe weather - terminal {hub} closed",
            "Hurricane-related service suspension",
        ),
    ),
    (
        "AI",
        (
            "Mechanical breakdown, tractor replaced at {hub}",
            "Equipment failure en route",
            "Reefer unit failure, load transferred",
        ),
    ),
    (
        "A1",
        (
            "Missed delivery, rescheduled",
            "Delivery attempt missed, driver out of hours",
            "Delivery not completed - late arrival at consignee",
        ),
    ),
    ("AF", ("Accident en route, freight being transloaded", "Traffic accident, delay expected")),
    ("AA", ("Mis-sort at {hub}, freight routed to wrong terminal", "Misrouted via {hub}")),
    ("P1", ("Processing delay at {hub} cross-dock", "Held at {hub} - linehaul capacity")),
    ("AJ", ("Carrier related delay", "Linehaul missed connection at {hub}")),
    (
        None,
        (
            "Running ~{h}h behind schedule",
            "Delayed in transit, new ETA pending",
            "Freight held at {hub} for capacity",
        ),
    ),
)
CARRIER_SAYS = (
    "Freight was picked up on {day} and is delayed at our {hub} terminal due to weather.",
    "The load is sitting at {hub}; linehaul capacity is tight this week.",
    "{shipment} missed its connection at {hub} and will move on the next schedule.",
    "We had a tractor breakdown near {hub}; the trailer is being recovered.",
    "Your shipment was mis-sorted at {hub} and is being re-routed.",
    "Due to road closures around {hub}, all lanes west are running a day late.",
    "Our terminal at {hub} is backed up; the freight is on the dock there.",
    "Delivery was attempted late and the consignee was closed; we will redeliver.",
    "The driver is delayed, traffic incident on the route.",
    "Shipment is in transit but behind plan, we expect to recover {h} hours.",
)
NEW_ETA = (
    "Revised ETA {day}.",
    "New ETA: {day} by {t}.",
    "We expect delivery {day}.",
    "Updated delivery estimate {day} EOD.",
    "ETA now {day}, {t}.",
    "Target redelivery {day}.",
)
TENDER_DETAILS = (
    "Carrier declined tender (990 D): no capacity on lane {area}-{hub}",
    "Tender for {shipment} rejected by {carrier}",
    "Load rejected - capacity",
    "990 decline received from {carrier}, re-tender required",
    "Spot tender expired without acceptance",
)
PICKED_DETAILS = (
    "Picked up {n} pallets, PRO {pro}",
    "Pickup scan at {site}",
    "Departed {site}",
    "Shipment picked up, BOL {shipment}",
    "Loaded and departed origin {t}",
    "Arrived at {hub} terminal",
)
STALE_DETAILS = (
    "No tracking scan for {h} hours since departure",
    "Last scan {hub}, {h}h ago",
    "Tracking not updated since pickup",
    "ETA passed, no delivery scan",
    "No movement reported at {hub} for {h}h",
)
CUSTOMER_SAYS = (
    "Where is our order {order}? It was promised for {day}.",
    "Our receiving team has been waiting for the truck all morning.",
    "We still have not received {order}; can you give us an ETA?",
    "The shipment was due yesterday and the tracking has not moved.",
    "Please advise on the status of {order}, our store shelves are empty.",
    "Any update on delivery? We have a promo starting {day}.",
)
INTERNAL_SAYS = (
    "{carrier} says {shipment} is stuck at {hub}, weather",
    "tracking on {shipment} hasn't moved in {h}h, called {carrier}",
    "{carrier} rejected the tender, need another carrier for {shipment}",
    "load's at the {hub} terminal, they're behind",
    "{shipment} left on time, carrier is late on the linehaul",
)
STALLED = (
    "in transit past ETA",
    "carrier tracking stale",
    "tender not accepted",
    "delivery appointment missed",
)


def frame(draft: Draft) -> None:
    """Adds the shipment refs a delivery case carries."""
    draft.use_refs("shipment_id", "carrier")
    if draft.words.chance(0.85):
        draft.use_refs("order_id")
    if draft.words.chance(0.6):
        draft.use_refs("customer_id")
    if draft.words.chance(0.4):
        draft.use_refs("skus")


def transit_exception(draft: Draft) -> None:
    """The carrier sends an in-transit exception with a reason code."""
    code, details = draft.rng.choice(REASONS)
    moment = draft.ago(30, 1800)
    draft.event(
        "CARRIER",
        EXCEPTION_TYPES,
        details,
        at=moment,
        code=code if draft.words.chance(0.8) else None,
        h=draft.rng.randint(4, 40),
    )


def tender_rejected(draft: Draft) -> None:
    """The carrier declines the tender."""
    draft.event(
        "TMS",
        ("tender_rejected", "load_rejected", "tender_declined", "990_decline"),
        TENDER_DETAILS,
        at=draft.ago(60, 900),
    )


def carrier_sentences(draft: Draft) -> list[str]:
    """Writes the carrier's delay explanation and a revised ETA."""
    eta = draft.setting.detected_at + timedelta(hours=draft.rng.randint(10, 90))
    pickup = draft.setting.detected_at - timedelta(days=draft.rng.randint(1, 4))
    sentences = [draft.say(CARRIER_SAYS, day=draft.words.day(pickup), h=draft.rng.randint(3, 30))]
    if draft.words.chance(0.8):
        sentences.append(draft.say(NEW_ETA, day=draft.words.day(eta), t=draft.words.clock(eta)))
    return sentences


def carrier_message(draft: Draft) -> None:
    """The carrier explains the delay in a message on the case."""
    draft.message("carrier", carrier_sentences(draft), topic="delay", at=draft.ago(10, 600))


def picked_up(draft: Draft) -> None:
    """The freight was picked up, which rules out a missed cutoff."""
    moment = draft.ago(600, 4000)
    types = ("picked_up", "pickup_scan", "departed_origin", "in_transit", "arrived_terminal")
    draft.event(
        "CARRIER",
        types,
        PICKED_DETAILS,
        at=moment,
        n=draft.rng.randint(1, 26),
        pro=draft.rng.randint(100000000, 999999999),
        t=draft.words.clock(moment),
    )


def tracking_stale(draft: Draft) -> None:
    """Tracking has gone quiet since the freight left."""
    types = ("tracking_stale", "no_scan", "scan_gap", "eta_missed")
    draft.event(
        draft.words.pick(("TMS", "CARRIER")),
        types,
        STALE_DETAILS,
        at=draft.ago(10, 300),
        h=draft.rng.randint(18, 80),
    )


def customer_chases(draft: Draft) -> None:
    """The customer asks where the goods are."""
    promised = draft.setting.detected_at - timedelta(days=draft.rng.randint(0, 2))
    draft.message(
        "customer",
        [draft.say(CUSTOMER_SAYS, day=draft.words.day(promised))],
        topic="where is my order",
        at=draft.ago(10, 400),
    )


def internal_chat(draft: Draft) -> None:
    """An internal transport planner relays what the carrier said."""
    draft.message(
        "internal",
        [draft.say(INTERNAL_SAYS, h=draft.rng.randint(12, 70))],
        topic="delay",
        channel=draft.words.pick(("chat", "phone_note", "email")),
    )


def loose_update(draft: Draft) -> None:
    """The carrier's delay notice arrives outside the case, keyed by the shipment."""
    refs = ("shipment_id", "order_id") if draft.words.chance(0.3) else ("shipment_id",)
    draft.loose_message(
        "carrier", carrier_sentences(draft), topic="delay", ref_keys=refs, at=draft.ago(10, 400)
    )


SCENARIO = CauseScenario(
    cause="carrier_delay",
    workflows={"delivery": 7, "shipment_confirmation": 2, "returns_disposition": 1},
    frame=frame,
    strong=(transit_exception, tender_rejected, carrier_message, internal_chat),
    weak=(picked_up, tracking_stale, customer_chases),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(tracking_stale, customer_chases),
)
