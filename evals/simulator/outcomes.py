"""How resolved history cases ended, in the free text people write when closing a case."""

from __future__ import annotations

from datetime import datetime, timedelta

from evals.simulator.draft import Draft
from evals.simulator.world import stamp

OUTCOMES: dict[str, tuple[str, ...]] = {
    "carrier_cutoff_missed": (
        "Rebooked for {t} pickup, delivered a day late",
        "Rebooked with {carrier}, left next morning",
        "Moved to backup carrier, shipped same evening",
        "Carrier recovered load on the {t} run",
        "rebooked, customer ok with 1 day slip",
        "Load picked up next day, no penalty",
    ),
    "carrier_delay": (
        "Escalated to {carrier}; freight recovered, delivered {h}h late",
        "Carrier expedited from {hub}, delivered next day",
        "Weather cleared, delivered with delay",
        "Claimed late delivery with carrier, customer informed",
        "Re-tendered to another carrier",
        "escalation worked, team upgrade to expedited service",
    ),
    "warehouse_congestion": (
        "Wave reprioritised, shipped on second shift",
        "Added overtime, backlog cleared in {h}h",
        "Moved order to priority wave, shipped next morning",
        "Borrowed staff from receiving, shipped",
        "backlog cleared after weekend shift",
        "Prioritised key account orders; shipped late",
    ),
    "inventory_discrepancy": (
        "Cycle count confirmed shortage, adjustment posted, order reallocated",
        "Found stock in overflow location, moved and adjusted",
        "Damaged units written off, reallocated",
        "Count corrected, order filled from {site} reserve",
        "adjusted -{h} EA after recount",
        "Wrong lot corrected; inventory adjusted",
    ),
    "supplier_delay": (
        "Supplier confirmed new ship date, PO ETA updated",
        "Partial received, balance ETA updated",
        "Supplier shipped {h} days late; ETA updated in ERP",
        "Expedited by supplier after escalation",
        "PO confirmed after reminder, new date entered",
        "Sourced balance from alternate vendor",
    ),
    "integration_failure": (
        "Replayed message from DLQ, posted OK",
        "Connector token renewed, messages replayed",
        "IDoc reprocessed after fix, document posted",
        "Middleware restarted, backlog drained",
        "Re-sent 945, ERP updated",
        "replayed {h} stuck messages, all posted",
    ),
    "master_data_error": (
        "UoM conversion added, receipt posted",
        "Item extended to {site}, order released",
        "Location created in ERP, putaway posted",
        "Ship-to linked to sold-to, released",
        "Price condition corrected by master data team",
        "Case pack fixed in item master",
    ),
    "credit_hold": (
        "Finance released after payment received",
        "Credit limit raised by AR, order released",
        "Customer paid overdue balance, hold lifted",
        "Order cancelled by customer, hold remained",
        "AR approved one-time release",
        "released after CFO approval",
    ),
    "pricing_mismatch": (
        "Invoice held, supplier issued credit note",
        "Corrected invoice received and matched",
        "Credit memo posted for price variance",
        "Held invoice; supplementary invoice accepted",
        "Short-paid to PO price, supplier agreed",
        "Variance accepted within revised tolerance",
    ),
    "compliance_hold": (
        "Certificate of origin sent to broker, cleared in {h}h",
        "DG declaration provided, shipped",
        "Commercial invoice corrected, customs released",
        "Screening cleared, order released",
        "Docs uploaded to broker portal; released next day",
        "Export license attached, shipped",
    ),
    "unknown": (
        "Could not determine root cause; reprocessed manually",
        "Closed after it cleared by itself",
        "Root cause not found; monitoring",
        "Resolved by ops lead, cause not recorded",
    ),
}


def resolution(draft: Draft, cause: str, actions: list[str]) -> dict[str, object]:
    """Writes the resolution of a history case: cause, actions, outcome and a later close time."""
    detected: datetime = draft.setting.detected_at
    closed = detected + timedelta(minutes=draft.rng.randint(20, 6 * 1440))
    outcome = draft.say(OUTCOMES[cause], t=draft.words.clock(closed), h=draft.rng.randint(2, 48))
    return {
        "cause": cause,
        "actions": actions,
        "outcome": draft.words.lowercase(outcome, 0.15),
        "resolved_at": stamp(closed),
    }
