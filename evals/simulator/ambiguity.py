"""Hard cases: two plausible causes with subtle or out-of-case evidence, and true unknowns."""

from __future__ import annotations

from dataclasses import dataclass

from evals.simulator.draft import Draft
from evals.simulator.noise import add_routine_events
from evals.simulator.scenarios import SCENARIOS
from evals.simulator.workflows import STALLED_STEPS, WORKFLOW_REFS, WORKFLOWS


@dataclass(frozen=True)
class Confusion:
    """A pair of causes that look alike in some workflows, and what separates them."""

    truth: str
    runner_up: str
    workflows: tuple[str, ...]
    loose_decides: bool
    runner_strong: float
    why: str
    runner_cues: tuple[str, ...] = ()


CONFUSIONS: tuple[Confusion, ...] = (
    Confusion(
        "carrier_cutoff_missed",
        "warehouse_congestion",
        ("shipment_confirmation", "pick_pack"),
        True,
        0.7,
        "the DC looks busy, but the carrier admits its driver missed the pickup",
    ),
    Confusion(
        "warehouse_congestion",
        "carrier_cutoff_missed",
        ("shipment_confirmation",),
        True,
        0.0,
        "a pickup exception blames the carrier, but the carrier says nothing was staged",
        ("carrier_event", "tms_cutoff"),
    ),
    Confusion(
        "carrier_delay",
        "carrier_cutoff_missed",
        ("delivery", "shipment_confirmation"),
        True,
        0.0,
        "no departure scan suggests a missed pickup, but the carrier says it picked up and is delayed",
        ("staged_before_cutoff", "tms_cutoff"),
    ),
    Confusion(
        "carrier_cutoff_missed",
        "carrier_delay",
        ("delivery",),
        True,
        0.0,
        "stale tracking suggests a transit delay, but the carrier never picked the load up",
    ),
    Confusion(
        "compliance_hold",
        "carrier_delay",
        ("delivery", "shipment_confirmation"),
        True,
        0.3,
        "the freight looks stuck in transit, but the broker says documents are missing",
    ),
    Confusion(
        "carrier_delay",
        "compliance_hold",
        ("delivery",),
        True,
        0.0,
        "the freight sits at a border, but the carrier reports an operational delay",
    ),
    Confusion(
        "supplier_delay",
        "integration_failure",
        ("supplier_confirmation", "receiving"),
        True,
        0.0,
        "a missing acknowledgement could be a lost EDI message, but the supplier says it is late",
    ),
    Confusion(
        "integration_failure",
        "supplier_delay",
        ("supplier_confirmation", "receiving"),
        True,
        0.0,
        "the acknowledgement or ASN is missing, but the supplier sent it and got a 997",
    ),
    Confusion(
        "inventory_discrepancy",
        "supplier_delay",
        ("backorder_resolution", "replenishment_approval"),
        True,
        0.0,
        "stock looks like it never arrived, but the supplier delivered in full",
    ),
    Confusion(
        "supplier_delay",
        "inventory_discrepancy",
        ("backorder_resolution",),
        True,
        0.0,
        "ERP and WMS disagree on stock, but the supplier says the goods are backordered",
    ),
    Confusion(
        "pricing_mismatch",
        "master_data_error",
        ("invoice_match",),
        True,
        0.4,
        "a pricing condition could be stale, but the supplier admits the billing error",
    ),
    Confusion(
        "master_data_error",
        "pricing_mismatch",
        ("invoice_match",),
        True,
        0.0,
        "the match failed on price, but the supplier bills the agreed price the PO lacks",
    ),
    Confusion(
        "inventory_discrepancy",
        "integration_failure",
        ("inventory_sync", "order_release"),
        False,
        0.0,
        "a sync error is on record, but a count confirms the physical shortage",
    ),
    Confusion(
        "integration_failure",
        "inventory_discrepancy",
        ("inventory_sync",),
        False,
        0.0,
        "ERP and WMS stock differ, but the difference is a message that never posted",
    ),
    Confusion(
        "credit_hold",
        "integration_failure",
        ("order_release",),
        False,
        0.0,
        "a retry is pending, but the release is blocked by credit",
    ),
    Confusion(
        "warehouse_congestion",
        "inventory_discrepancy",
        ("pick_pack",),
        False,
        0.0,
        "stock figures differ slightly, but the pick never started for lack of capacity",
    ),
    Confusion(
        "master_data_error",
        "integration_failure",
        ("receiving", "inventory_sync"),
        False,
        0.0,
        "the error surfaced in middleware, but the record itself is wrong",
    ),
)

UNSURE_SAYS = (
    "Any update on this one?",
    "not sure what's holding this, nothing in the logs",
    "checked WMS and ERP, both look fine?",
    "customer is asking, can someone look",
    "No idea why this is stuck - everything shows green.",
    "Escalating: stuck again, root cause unclear.",
    "I see conflicting statuses, can't tell which is right",
    "who owns this? been sitting for a day",
    "Carrier says one thing, the system says another.",
    "could be anything tbh",
)


def build_confusion(draft: Draft, confusion: Confusion) -> str:
    """Builds a hard case for the confusion and returns the note explaining it."""
    truth, runner = SCENARIOS[confusion.truth], SCENARIOS[confusion.runner_up]
    draft.workflow = draft.words.pick(confusion.workflows)
    truth.open(draft)
    runner.frame(draft)
    if confusion.runner_cues:
        runner.add_named(draft, confusion.runner_cues, draft.rng.choice((1, 2)))
    else:
        runner.add_hints(draft, draft.rng.choice((1, 2)))
    if draft.words.chance(confusion.runner_strong):
        runner.add_strong(draft, 1)
    if confusion.loose_decides and truth.loose is not None:
        truth.add_hints(draft, 1)
        truth.loose(draft)
        decisive = draft.loose[-1]
        where = (
            f"decisive evidence only in the loose {decisive['party']} {decisive['channel']} "
            f"message at {decisive['at']} (refs {format_refs(decisive)})"
        )
    else:
        truth.add_strong(draft, 1)
        where = f"decisive evidence is subtle: {draft.evidence[-1]}"
    return f"ambiguous; runner-up {confusion.runner_up}: {confusion.why}; {where}"


def format_refs(message: dict[str, object]) -> str:
    """Writes a loose message's refs as key=value pairs."""
    refs = message.get("refs")
    items = refs.items() if isinstance(refs, dict) else ()
    return ", ".join(f"{key}={value}" for key, value in items)


def build_unknown(draft: Draft) -> str:
    """Builds a case with missing or conflicting evidence and returns the note explaining it."""
    draft.workflow = draft.words.pick(WORKFLOWS)
    draft.stalled_step = draft.words.pick(STALLED_STEPS[draft.workflow])
    draft.use_refs(*WORKFLOW_REFS[draft.workflow])
    if draft.words.chance(0.45):
        add_routine_events(draft, draft.rng.choice((0, 1, 2)))
        if draft.words.chance(0.6):
            draft.message("internal", [draft.words.pick(UNSURE_SAYS)], topic="stuck")
        return "unknown: almost no evidence beyond the stalled step; route to a person"
    fitting = [s for s in SCENARIOS.values() if draft.workflow in s.workflows]
    candidates = fitting if len(fitting) >= 2 else list(SCENARIOS.values())
    picked = draft.rng.sample(candidates, min(len(candidates), draft.rng.choice((2, 2, 3))))
    # Frames are skipped on purpose: they carry structured facts that would settle the cause.
    for scenario in picked:
        scenario.add_weak(draft, 1)
    if draft.words.chance(0.5):
        draft.message("internal", [draft.words.pick(UNSURE_SAYS)], topic="stuck")
    names = ", ".join(s.cause for s in picked)
    return f"unknown: faint, conflicting hints of {names}; none is supported well enough"
