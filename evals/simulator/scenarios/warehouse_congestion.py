"""Warehouse congestion: the DC cannot process its work in time."""

from __future__ import annotations

from datetime import timedelta

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

BACKLOG_DETAILS = (
    "Open order backlog {n} vs plan {m}",
    "Backlog alert: {n} orders unpicked",
    "{n} orders waiting for wave release (normal ~{m})",
    "Outbound backlog at {n} lines",
    "Capacity exceeded: {n} open orders, shift capacity {m}",
    "Queue depth {n} pick tasks",
    "Backlog {pct}% above plan",
    "WIP over threshold: {n} orders open",
)
NOT_STARTED_DETAILS = (
    "Wave {wave} released {h}h ago, 0% picked",
    "Order waiting in unreleased wave queue for {h}h",
    "Pick tasks for {order} unassigned for {h} hours",
    "Wave {wave} held: no pickers available",
    "Replen tasks blocking wave {wave}",
    "Order {order} in pick queue position {n}",
    "Pick not started, released {h}h ago",
    "Zone {zone} at capacity, tasks pending",
)
DOCK_DETAILS = (
    "All {doors} doors occupied, {n} trailers queued in yard",
    "Yard full, {n} trailers waiting",
    "Receiving appointment pushed: no door available",
    "Dock congestion, unload ETA +{h}h",
    "{n} inbound trailers unloaded late, putaway backlog",
    "Door {door} blocked, staging lanes full",
)
LABOUR_SAYS = (
    "we're down {k} pickers on 2nd shift, flu going around",
    "agency no-show tonight, only {k} of {m2} temps turned up",
    "dock is full, {trl} trailers in the yard waiting for a door",
    "peak volume, we're running about {d} days behind on singles",
    "short staffed again - {k} call-outs, waves are piling up",
    "we can't get to {order} before tomorrow, the floor is slammed",
    "two reach trucks down and half the team on inventory, picking is crawling",
    "Black Friday volume hit early, backlog is huge",
    "we moved people to receiving, outbound waves are sitting",
    "overtime approved but still behind, {n} orders in queue",
)
DC_EMAIL_SAYS = (
    "Due to high volumes at {site} we are currently running behind on outbound processing.",
    "Labour availability at {site} is limited this week; we are prioritising key accounts.",
    "The DC is operating above capacity and some orders will ship a day later.",
    "We are experiencing a backlog at {site} following the system cutover weekend.",
    "Staffing shortfall on nights has created a processing backlog at {site}.",
)
WAITED_SAYS = (
    "Our driver waited at door {door} from {t} to {t2} and nothing was staged.",
    "Driver was on site at {t} but your dock said the freight was not ready.",
    "We were at {site} on time; the load was not built, driver left after {w} minutes.",
    "Your dock team told the driver they are behind and could not load {shipment}.",
    "Driver checked in {t}, waited {w} min, no pallets ready - departed empty.",
    "Freight for {shipment} was still being picked when our driver arrived.",
)
NEXT_PICKUP = (
    "Earliest next pickup is {day} {t3}.",
    "We can come back {day} at {t3}.",
    "Next available window {day} {t3}.",
    "Rebooked for {day}, {t3}.",
)
STALLED = ("pick not started", "wave not released", "awaiting dock door", "putaway backlog")


def frame(draft: Draft) -> None:
    """Adds the order refs a DC processing case carries."""
    draft.use_refs("order_id")
    if draft.words.chance(0.5):
        draft.use_refs("customer_id")
    if draft.words.chance(0.4):
        draft.use_refs("skus")


def backlog_numbers(draft: Draft) -> None:
    """The backlog attribute is far above the normal level, often with the norm alongside."""
    normal = draft.rng.randint(180, 400)
    backlog = int(normal * draft.rng.uniform(3.0, 8.0))
    draft.attributes["wms_backlog_orders"] = backlog
    if draft.words.chance(0.5):
        key = draft.words.pick(("wms_backlog_normal", "wms_backlog_baseline", "backlog_plan"))
        draft.attributes[key] = normal
    if draft.words.chance(0.5):
        draft.event(
            "WMS",
            ("backlog_alert", "capacity_alert", "backlog_high", "wip_threshold"),
            BACKLOG_DETAILS,
            n=draft.words.number(backlog),
            m=normal,
            pct=int(100 * backlog / normal - 100),
            at=draft.ago(20, 400),
        )


def pick_not_started(draft: Draft) -> None:
    """The order was released long ago but picking has not started."""
    draft.use_refs("order_id")
    draft.event(
        "WMS",
        (
            "pick_not_started",
            "wave_not_released",
            "wave_pending",
            "release_aging",
            "task_unassigned",
        ),
        NOT_STARTED_DETAILS,
        at=draft.ago(10, 120),
        h=draft.rng.randint(5, 30),
        wave=draft.rng.randint(1000, 9999),
        n=draft.rng.randint(200, 1500),
        zone=draft.words.pick("ABCDEF"),
    )


def dock_full(draft: Draft) -> None:
    """The yard and doors are full."""
    draft.event(
        draft.words.pick(("WMS", "WMS", "TMS")),
        ("dock_full", "yard_congestion", "door_unavailable", "appointment_pushed"),
        DOCK_DETAILS,
        at=draft.ago(20, 500),
        doors=draft.rng.randint(12, 40),
        n=draft.rng.randint(4, 25),
        h=draft.rng.randint(2, 12),
    )


def labour_shortage(draft: Draft) -> None:
    """A supervisor says the floor is short-staffed or swamped."""
    text = draft.say(
        LABOUR_SAYS,
        k=draft.rng.randint(4, 18),
        m2=draft.rng.randint(15, 40),
        trl=draft.rng.randint(5, 30),
        n=draft.rng.randint(300, 2000),
        d=draft.rng.choice((1, 2, 3)),
    )
    draft.message(
        "internal",
        [text],
        topic="backlog",
        channel=draft.words.pick(("chat", "chat", "phone_note", "email")),
    )


def headcount(draft: Draft) -> None:
    """The labour plan shows far fewer people than planned."""
    planned = draft.rng.randint(25, 80)
    draft.attributes["labor_headcount_planned"] = planned
    draft.attributes["labor_headcount_actual"] = int(planned * draft.rng.uniform(0.45, 0.75))


def dc_notice(draft: Draft) -> None:
    """The DC tells the customer it is running behind."""
    draft.message(
        "customer" if draft.words.chance(0.3) else "internal",
        [draft.say(DC_EMAIL_SAYS)],
        topic="processing delay",
        channel="email",
        direction="outbound",
    )


def slightly_late_pick(draft: Draft) -> None:
    """Picking started late, which is also compatible with other causes."""
    draft.event(
        "WMS",
        ("pick_started", "wave_released", "task_created"),
        ("Pick started {h}h after release", "Wave released late ({h}h)", "Task created"),
        h=draft.rng.randint(2, 6),
        at=draft.ago(30, 300),
    )


def carrier_waited_sentences(draft: Draft) -> list[str]:
    """Writes a carrier complaint that the freight was not ready, plus the next pickup."""
    arrive = draft.ago(60, 300)
    nxt = draft.setting.detected_at + timedelta(hours=draft.rng.randint(12, 30))
    nxt = nxt.replace(minute=draft.rng.choice((0, 0, 15, 30)))
    return [
        draft.say(
            WAITED_SAYS,
            t=draft.words.clock(arrive),
            w=draft.rng.randint(30, 120),
            t2=draft.words.clock(arrive + timedelta(minutes=draft.rng.randint(30, 90))),
        ),
        draft.say(NEXT_PICKUP, day=draft.words.day(nxt), t3=draft.words.clock(nxt)),
    ]


def loose_update(draft: Draft) -> None:
    """The carrier reports outside the case that the freight was not ready."""
    draft.use_refs("carrier")
    draft.loose_message(
        "carrier",
        carrier_waited_sentences(draft),
        topic="pickup",
        ref_keys=("shipment_id",),
        at=draft.ago(10, 200),
    )


SCENARIO = CauseScenario(
    cause="warehouse_congestion",
    workflows={
        "pick_pack": 6,
        "shipment_confirmation": 2,
        "order_release": 2,
        "receiving": 2,
        "returns_disposition": 1,
    },
    frame=frame,
    strong=(backlog_numbers, pick_not_started, dock_full, labour_shortage, headcount),
    weak=(dc_notice, slightly_late_pick),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(dc_notice, slightly_late_pick, backlog_numbers),
)
