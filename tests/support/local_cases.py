"""Small hand-written cases and histories for the local classifier tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.models import Case, Event, Message, ResolvedCase
from core.results import MatchedMessage, SimilarCase
from core.taxonomy import Taxonomy, load_taxonomy
from tests.support.cases import make_case

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
Row = tuple[str, str, str, str | None, str]

# Per cause: (workflow, stalled step, [(system, type, detail, code)], message body, attributes).
# Wording varies on purpose so the model cannot key on one phrase.
_CUTOFF: list[Row] = [
    (
        "shipment_confirmation",
        "awaiting ship confirmation",
        "Driver departed 16:30, trailer full",
        "T3",
        "Our driver left at cutoff, next pickup tomorrow.",
    ),
    (
        "shipment_confirmation",
        "no carrier scan",
        "No trailer available for the 17:00 pickup",
        "T3",
        "Sorry, no driver tonight.",
    ),
    (
        "delivery",
        "shipment not picked up",
        "Pickup missed, carrier arrived after cut-off",
        None,
        "We missed the collection, rebooking.",
    ),
    (
        "shipment_confirmation",
        "awaiting carrier departure",
        "Driver no-show at door 4",
        "T3",
        "Driver did not show, freight still on the dock.",
    ),
    (
        "shipment_confirmation",
        "ship confirm overdue",
        "Cartons staged at door 9, carrier left before cutoff",
        None,
        "Next available pickup is 08:00.",
    ),
    (
        "delivery",
        "awaiting pickup scan",
        "Collection not made: trailer was full",
        "T3",
        "Trailer full, we'll come back in the morning.",
    ),
    (
        "shipment_confirmation",
        "waiting on carrier",
        "Missed the pickup window",
        None,
        "Apologies, missed cutoff today.",
    ),
]
_CREDIT: list[Row] = [
    (
        "order_release",
        "order not released",
        "Customer over credit limit by 1,900",
        "C2",
        "Finance placed the account on hold.",
    ),
    (
        "order_release",
        "release blocked",
        "Credit check failed: past due balance",
        None,
        "Customer has overdue invoices.",
    ),
    (
        "order_release",
        "held in ERP",
        "Credit block on sold-to",
        "C2",
        "Account exceeds the credit limit.",
    ),
    (
        "pick_pack",
        "order held before picking",
        "Finance hold applied, unpaid invoices",
        None,
        "Please do not ship until payment arrives.",
    ),
    (
        "order_release",
        "order stuck at release",
        "Credit exposure above limit",
        None,
        "Collections team reviewing account.",
    ),
    (
        "order_release",
        "awaiting release",
        "Credit hold: dunning level 3",
        "C2",
        "Customer promised payment Friday.",
    ),
]
_INTEGRATION: list[Row] = [
    (
        "inventory_sync",
        "ERP not updated",
        "HTTP 503 from ERP endpoint, message in dead letter",
        None,
        "The interface errored overnight.",
    ),
    (
        "shipment_confirmation",
        "ship confirm not posted",
        "Sync failed: timeout after 30s",
        None,
        "WMS shows shipped but ERP does not.",
    ),
    (
        "invoice_trigger",
        "invoice not created",
        "Message stuck in queue, retries exhausted",
        None,
        "Looks like the IDoc never arrived.",
    ),
    (
        "inventory_sync",
        "snapshot missing",
        "Dead-letter: mapping error on field qty",
        None,
        "Middleware rejected the payload.",
    ),
    (
        "receiving",
        "GR not posted",
        "Failed to post goods receipt: HTTP 500",
        None,
        "Receipt done in WMS, not in ERP.",
    ),
    (
        "shipment_confirmation",
        "ASN not sent",
        "Connection refused by EDI gateway, DLQ",
        None,
        "EDI error again.",
    ),
]
_PRICING: list[Row] = [
    (
        "invoice_match",
        "three-way match failed",
        "Price variance 6.5% exceeds tolerance 2%",
        None,
        "We billed at the old list price, credit note coming.",
    ),
    (
        "invoice_match",
        "invoice parked",
        "Invoice price differs from PO price",
        None,
        "Unit price on the invoice is wrong.",
    ),
    (
        "invoice_match",
        "match exception",
        "Quantity variance: invoiced 420, received 400",
        None,
        "We overbilled 20 units.",
    ),
    (
        "invoice_match",
        "invoice blocked for payment",
        "Price difference above tolerance",
        None,
        "Contract price was not applied.",
    ),
    (
        "invoice_match",
        "three-way match failed",
        "Tax mismatch on invoice",
        None,
        "Surcharge added by mistake.",
    ),
    (
        "invoice_match",
        "AP exception",
        "Match failed: unit price 46.00 vs 43.00",
        None,
        "Price increase not agreed.",
    ),
]
# Genuinely unknown: routine events and unsure notes, no cue and no decisive fact.
_UNKNOWN: list[Row] = [
    ("order_release", "order not released", "Status refreshed", None, "Any update on this one?"),
    ("delivery", "no proof of delivery", "Record viewed", None, "not sure what is holding this"),
    ("pick_pack", "pick not confirmed", "Report generated", None, "everything shows green?"),
    ("receiving", "receipt open", "Task reassigned", None, "who owns this one?"),
    ("invoice_match", "invoice waiting", "Note added", None, "Root cause unclear, please look."),
    ("inventory_sync", "snapshot late", "Dashboard refreshed", None, "could be anything"),
]
CAUSES: dict[str, list[Row]] = {
    "carrier_cutoff_missed": _CUTOFF,
    "credit_hold": _CREDIT,
    "integration_failure": _INTEGRATION,
    "pricing_mismatch": _PRICING,
}
_SYSTEMS = {
    "carrier_cutoff_missed": ("CARRIER", "pickup_exception", "carrier"),
    "credit_hold": ("FINANCE", "hold_applied", "internal"),
    "integration_failure": ("MIDDLEWARE", "sync_error", "internal"),
    "pricing_mismatch": ("FINANCE", "match_failed", "supplier"),
    "unknown": ("ERP", "status_update", "internal"),
}
# Structured facts the orchestrator knows, keyed as in the contract examples.
_FACTS: dict[str, dict[str, Any]] = {
    "credit_hold": {"credit_status": "blocked"},
    "pricing_mismatch": {"po_price": 43.0, "invoice_price": 46.5},
}


def taxonomy() -> Taxonomy:
    """Returns the shipped default taxonomy."""
    return load_taxonomy()


def make_local_case(**over: Any) -> Case:
    """Returns a valid case with overrides."""
    body: dict[str, Any] = {
        "case_id": "EXC-T-1",
        "workflow": "shipment_confirmation",
        "stalled_step": "awaiting ship confirmation",
        "detected_at": START + timedelta(hours=9),
        "site": "DC-ATL",
    }
    return Case.model_validate(make_case(**{**body, **over}))


def event(system: str, type_: str, detail: str, code: str | None = None, hour: int = 1) -> Event:
    """Returns an event at START plus the given hours."""
    return Event(
        at=START + timedelta(hours=hour), system=system, type=type_, detail=detail, code=code
    )


def message(body: str, party: str = "carrier") -> Message:
    """Returns an inbound email."""
    return Message(
        at=START + timedelta(hours=5), channel="email", direction="inbound", party=party, body=body
    )


def resolved(cause: str, index: int, row: Row) -> ResolvedCase:
    """Returns a resolved history case built from one row of a cause's table."""
    workflow, step, detail, code, body = row
    system, type_, party = _SYSTEMS[cause]
    noise = event("ERP", "order_released", f"SO-{7000 + index} released", hour=0)
    case = make_local_case(
        case_id=f"H-{cause[:4]}-{index}",
        workflow=workflow,
        stalled_step=step,
        events=[noise, event(system, type_, detail, code)],
        messages=[message(body, party)],
        attributes=_FACTS.get(cause, {}),
    )
    return ResolvedCase.model_validate(
        {
            **case.model_dump(),
            "resolution": {"cause": cause, "actions": ["route_to_team"], "outcome": "done"},
        }
    )


def history(causes: tuple[str, ...] = tuple(CAUSES)) -> list[ResolvedCase]:
    """Returns 6-7 resolved cases per cause with varied wording."""
    return [resolved(c, i, row) for c in causes for i, row in enumerate(CAUSES[c])]


def history_with_unknowns() -> list[ResolvedCase]:
    """Returns the history plus a few genuinely unknown cases, so abstention can be learned."""
    return [*history(), *(resolved("unknown", i, row) for i, row in enumerate(_UNKNOWN))]


def cutoff_case() -> Case:
    """Returns an unseen, clear carrier-cutoff case whose decisive event is the last one."""
    return make_local_case(
        case_id="EXC-NEW-1",
        events=[
            event("ERP", "order_released", "SO-88123 released to DC-ATL", hour=0),
            event("WMS", "pack_complete", "12 cartons packed, staged at door 14", hour=2),
            event(
                "CARRIER",
                "pickup_missed",
                "Driver departed at 16:30 with a full trailer",
                "T3",
                hour=4,
            ),
        ],
        messages=[message("Hi, invoice copy attached for last month.", "customer")],
    )


def similar(case_id: str, cause: str, similarity: float = 0.8) -> SimilarCase:
    """Returns a retrieved history case."""
    return SimilarCase(
        case_id=case_id, similarity=similarity, cause=cause, actions=[], outcome="", summary=""
    )


def matched(message_id: str, body: str, party: str = "carrier") -> MatchedMessage:
    """Returns a loose message matched by refs."""
    return MatchedMessage(
        message_id=message_id,
        matched_by="refs",
        score=1.0,
        party=party,
        at=START,
        subject=None,
        body=body,
    )
