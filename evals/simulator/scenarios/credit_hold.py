"""Credit hold: the customer's credit status blocks release or shipment."""

from __future__ import annotations

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

CREDIT_STATUSES = (
    "blocked",
    "hold",
    "over_limit",
    "CREDIT HOLD",
    "B",
    "blocked_past_due",
    "on_hold",
    "stop",
)
HOLD_TYPES = (
    "hold_applied",
    "credit_block",
    "credit_check_failed",
    "order_blocked",
    "credit_hold",
    "release_denied",
    "dunning_block",
)
HOLD_DETAILS = (
    "Customer over credit limit by {over}",
    "Past-due balance {days} days, auto credit block",
    "Credit check failed: exposure {exposure} vs limit {limit}",
    "Order {order} blocked: credit check (status B)",
    "Dunning level {level} - deliveries blocked",
    "Credit limit exceeded, requires AR approval",
    "Account {customer_id} on credit stop",
    "Risk category high, manual release needed",
)
AR_SAYS = (
    "{customer} is {days}+ days past due, can't release {order} until they pay",
    "credit put {customer_id} on hold this morning, over limit by {over}",
    "Finance won't release {order}: open AR {exposure} against a {limit} limit.",
    "{customer} bounced a payment, account is blocked",
    "AR says they need a payment or a limit increase before we ship",
    "pls don't release anything for {customer} - collections call pending",
    "order is fine ops-wise, it's the credit block holding it",
)
CUSTOMER_SAYS = (
    "We sent payment last week, please release our order {order}.",
    "Our AP team confirms the wire went out {day}. Why is {order} not shipping?",
    "We were told there is a hold on our account; can you check?",
    "Please release {order}, remittance attached.",
    "Is there a problem with our account? Order {order} shows on hold in the portal.",
)
CARRIER_HOLD = (
    "Shipment held per shipper - credit hold",
    "Held at origin, shipper hold C2",
    "Do not load per shipper: account hold",
    "Pickup cancelled by shipper (credit)",
)
STALLED = (
    "order on credit block",
    "release blocked by credit check",
    "awaiting credit release",
    "finance hold",
)


def values(draft: Draft) -> dict[str, object]:
    """Returns this case's credit figures, drawn on first use."""
    if "credit" not in draft.facts:
        limit = draft.rng.choice((5000, 10000, 25000, 50000, 100000, 250000))
        over = draft.rng.randint(200, max(400, limit // 3))
        draft.facts["credit"] = {
            "limit": draft.words.number(limit),
            "over": draft.words.number(over),
            "exposure": draft.words.number(limit + over),
            "days": draft.rng.choice((30, 45, 60, 90)),
            "level": draft.rng.randint(2, 4),
            "day": draft.words.day(draft.ago(1440, 10000)),
            "limit_value": limit,
            "exposure_value": limit + over,
        }
    return draft.facts["credit"]


def frame(draft: Draft) -> None:
    """Adds the order and customer refs a credit case always carries."""
    draft.use_refs("order_id", "customer_id")
    if draft.workflow == "shipment_confirmation":
        draft.use_refs("shipment_id")


def status_attribute(draft: Draft) -> None:
    """The credit status attribute says the account is blocked."""
    draft.attributes["credit_status"] = draft.words.pick(CREDIT_STATUSES)
    if draft.words.chance(0.5):
        facts = values(draft)
        draft.attributes["credit_limit"] = facts["limit_value"]
        draft.attributes["credit_exposure"] = facts["exposure_value"]


def finance_event(draft: Draft) -> None:
    """Finance or the ERP applies a credit block."""
    draft.event(
        draft.words.pick(("FINANCE", "FINANCE", "ERP")),
        HOLD_TYPES,
        HOLD_DETAILS,
        at=draft.ago(10, 900),
        fill=values(draft),
    )


def carrier_code(draft: Draft) -> None:
    """The transport side records a shipper hold with X12 C2."""
    draft.use_refs("shipment_id")
    draft.event(
        draft.words.pick(("TMS", "CARRIER")),
        ("shipment_held", "status_update", "pickup_cancelled", "hold"),
        CARRIER_HOLD,
        at=draft.ago(10, 400),
        code="C2",
    )


def ar_note(draft: Draft) -> None:
    """Accounts receivable explains the block."""
    draft.message(
        "internal",
        [draft.say(AR_SAYS, **values(draft))],
        topic="credit",
        channel=draft.words.pick(("chat", "email", "phone_note")),
    )


def customer_pleads(draft: Draft) -> None:
    """The customer says they paid and asks for release."""
    draft.message("customer", [draft.say(CUSTOMER_SAYS, **values(draft))], topic="order hold")


def crm_watch(draft: Draft) -> None:
    """The CRM flags the account for review, which is suggestive but not a block."""
    draft.event(
        "CRM",
        ("account_flagged", "account_review", "risk_flag"),
        (
            "Account {customer_id} on watch list",
            "Account review scheduled",
            "Customer risk score raised",
        ),
        at=draft.ago(1000, 9000),
    )


SCENARIO = CauseScenario(
    cause="credit_hold",
    workflows={
        "order_release": 7,
        "shipment_confirmation": 2,
        "backorder_resolution": 1,
        "pick_pack": 1,
    },
    frame=frame,
    strong=(status_attribute, finance_event, carrier_code, ar_note),
    weak=(customer_pleads, crm_watch),
    loose=None,
    stalled_steps=STALLED,
    hints=(crm_watch, customer_pleads),
)
