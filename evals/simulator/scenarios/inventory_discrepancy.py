"""Inventory discrepancy: physical stock and system stock disagree."""

from __future__ import annotations

from datetime import timedelta

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

SHORT_TYPES = (
    "short_pick",
    "pick_short",
    "short_picked",
    "pick_exception",
    "location_empty",
    "zero_pick",
    "pick_shortage",
)
SHORT_DETAILS = (
    "Picker found {found} of {want} at {loc}",
    "Location {loc} empty, expected {want}",
    "Short {gap} EA at {loc}, picker flagged",
    "{sku}: short pick {found}/{want} in {loc}",
    "Pick exception at {loc}: qty not available",
    "Only {found} units in bin {loc}",
    "Zero pick on {sku}, bin {loc}",
    "Shortage reported at {loc} ({gap} missing)",
)
COUNT_TYPES = (
    "cycle_count",
    "count_variance",
    "cc_variance",
    "recount_complete",
    "physical_count",
    "count_posted",
)
COUNT_DETAILS = (
    "Location {loc} counted {found}, expected {want}",
    "Variance -{gap} EA on {sku} at {loc}",
    "Recount confirms {found} at {loc}",
    "Cycle count {sku}: book {want} / phys {found}",
    "Blind count at {loc} = {found}",
    "Count variance {pct}% on {sku}",
)
DAMAGE_DETAILS = (
    "{gap} cartons crushed, found during putaway QA at {loc}",
    "Wrong lot in {loc}: found lot L{lot} expected L{lot2}",
    "{sku} found in {loc2} instead of {loc}",
    "Damaged stock quarantined: {gap} EA {sku}",
    "Mixed SKU in {loc}, {sku} partially missing",
    "Expired lot L{lot} blocked at {loc}",
)
INTERNAL_SAYS = (
    "bin {loc} is empty but system says {want}",
    "found {sku} in overflow {loc2}, not in {loc}",
    "counted {loc} twice, only {found} there",
    "ERP shows {want} on hand, floor has {found}",
    "pickers keep shorting {sku}, something's off with the count",
    "the {sku} stock was damaged on the last receipt, nobody adjusted it",
    "we've got {found} of {sku}, the system thinks {want}",
    "inventory control: variance on {sku}, recount done, physical is {found}",
)
SYNC_OK = (
    "Inventory snapshot delivered to ERP",
    "Stock sync completed, 0 errors",
    "Nightly inventory interface OK",
    "Delta sync {sku} posted",
)
DELIVERED_SAYS = (
    "Our records show the {qty} units on {po} were delivered on {day}, POD signed by your receiving.",
    "{po} shipped complete and was delivered {day}; the signed BOL is attached.",
    "We delivered the full quantity ({qty}) of {sku} on {day}. Please check your dock.",
    "Nothing is outstanding on {po} from our side - delivered in full {day}.",
    "Per carrier POD the goods for {po} arrived at {site} on {day}.",
    "There is no backorder on our side; {qty} EA delivered {day}.",
)
STALLED = (
    "short pick reported",
    "allocation failed",
    "availability check failed",
    "cycle count variance open",
)


def quantities(draft: Draft) -> dict[str, object]:
    """Returns this case's system and physical quantities, drawing them on first use."""
    if "stock" not in draft.facts:
        want = draft.rng.randint(6, 400)
        found = draft.rng.randint(0, max(0, want - 2))
        draft.facts["stock"] = {
            "want": want,
            "found": found,
            "gap": want - found,
            "pct": round(100 * (want - found) / want),
            "loc2": f"{draft.setting.location}-OF",
        }
    return draft.facts["stock"]


def frame(draft: Draft) -> None:
    """Adds skus, the order and the stock figures an inventory case carries."""
    draft.use_refs("skus")
    if draft.words.chance(0.7):
        draft.use_refs("order_id")
    if draft.words.chance(0.35):
        draft.use_refs("customer_id")
    if draft.words.chance(0.75):
        figures = quantities(draft)
        draft.attributes["erp_on_hand"] = figures["want"]
        draft.attributes["wms_on_hand"] = figures["found"]
    if draft.words.chance(0.6):
        draft.attributes["location"] = draft.setting.location


def short_pick(draft: Draft) -> None:
    """The picker found less than expected at the location."""
    draft.event("WMS", SHORT_TYPES, SHORT_DETAILS, at=draft.ago(20, 400), fill=quantities(draft))


def cycle_count(draft: Draft) -> None:
    """A count confirms the variance."""
    draft.event("WMS", COUNT_TYPES, COUNT_DETAILS, at=draft.ago(5, 200), fill=quantities(draft))


def damage_or_wrong_lot(draft: Draft) -> None:
    """Stock is damaged, mislocated or the wrong lot."""
    draft.event(
        draft.words.pick(("WMS", "WMS", "ERP")),
        (
            "qa_exception",
            "damage_reported",
            "lot_mismatch",
            "mislocated_stock",
            "inventory_exception",
        ),
        DAMAGE_DETAILS,
        at=draft.ago(60, 2000),
        lot=draft.rng.randint(1000, 9999),
        lot2=draft.rng.randint(1000, 9999),
        fill=quantities(draft),
    )


def internal_chat(draft: Draft) -> None:
    """Someone on the floor says the bin and the system disagree."""
    draft.message(
        "internal",
        [draft.say(INTERNAL_SAYS, **quantities(draft))],
        topic="stock",
        channel=draft.words.pick(("chat", "chat", "phone_note", "email")),
    )


def sync_healthy(draft: Draft) -> None:
    """The interfaces are healthy, so the gap is physical rather than a failed message."""
    draft.event(
        "MIDDLEWARE",
        ("sync_ok", "interface_ok", "snapshot_delivered"),
        SYNC_OK,
        at=draft.ago(5, 300),
    )
    if draft.words.chance(0.5):
        draft.attributes["last_sync_error"] = None


def backorder_created(draft: Draft) -> None:
    """The shortfall rolled into a backorder."""
    draft.use_refs("order_id")
    draft.event(
        "ERP",
        ("backorder_created", "line_backordered", "allocation_failed"),
        (
            "{sku} backordered on {order}",
            "Allocation failed for {order}: insufficient stock",
            "ATP zero for {sku}",
            "Line 2 of {order} backordered",
        ),
        at=draft.ago(30, 900),
    )


def loose_update(draft: Draft) -> None:
    """The supplier says outside the case that everything was delivered in full."""
    delivered = draft.setting.detected_at - timedelta(days=draft.rng.randint(2, 20))
    text = draft.say(DELIVERED_SAYS, qty=draft.rng.randint(24, 600), day=draft.words.day(delivered))
    draft.loose_message(
        "supplier",
        [text],
        topic="delivery status",
        ref_keys=("po_id", "supplier_id"),
        at=draft.ago(30, 1400),
    )


SCENARIO = CauseScenario(
    cause="inventory_discrepancy",
    workflows={
        "pick_pack": 4,
        "inventory_sync": 3,
        "order_release": 2,
        "backorder_resolution": 2,
        "replenishment_approval": 1,
        "returns_disposition": 1,
    },
    frame=frame,
    strong=(short_pick, cycle_count, damage_or_wrong_lot, internal_chat),
    weak=(sync_healthy, backorder_created),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(backorder_created,),
)
