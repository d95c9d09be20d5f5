"""The one case factory, `make_case(**over)`, and named variants: JSON bodies an orchestrator sends."""

from __future__ import annotations

import copy
import secrets
from typing import Any

T = "2026-11-20T{}:00Z"


def unique(prefix: str) -> str:
    """Returns a case id no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


def make_case(**over: Any) -> dict[str, Any]:
    """Returns a minimal valid case body; keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "case_id": unique("T-MIN"),
        "workflow": "shipment_confirmation",
        "stalled_step": "awaiting ship confirmation from WMS",
        "detected_at": T.format("17:05"),
        "site": "DC-ATL",
    }
    body.update(copy.deepcopy(over))
    return body


def make_cutoff_case(amount: float = 4200.0, **over: Any) -> dict[str, Any]:
    """Returns a clear carrier-cutoff case: packed and staged, pickup missed (T3), trailer full."""
    return make_case(
        case_id=unique("T-CUT"),
        workflow="shipment_confirmation",
        stalled_step="waiting for carrier pickup",
        sla_due_at=T.format("20:00"),
        refs={
            "order_id": "SO-88123",
            "shipment_id": "SH-55120",
            "customer_id": "C-1001",
            "carrier": "UPS",
            "skus": ["SKU-2231"],
        },
        amount={"value": amount, "currency": "USD"},
        events=[
            {
                "at": T.format("15:40"),
                "system": "WMS",
                "type": "pack_complete",
                "detail": "12 cartons packed, staged at door 14, ready for UPS",
                "code": None,
            },
            {
                "at": T.format("16:31"),
                "system": "CARRIER",
                "type": "pickup_missed",
                "detail": "Pickup missed: driver departed 16:30 at cutoff, trailer full",
                "code": "T3",
            },
        ],
        messages=[
            {
                "at": T.format("16:45"),
                "channel": "email",
                "direction": "inbound",
                "party": "carrier",
                "sender": "dispatch@carrier.example",
                "subject": "Re: SH-55120 pickup",
                "body": "Our driver left at cutoff, the trailer was full. Next pickup 08:00.",
            }
        ],
        attributes={"wms_backlog_orders": 120, "erp_status": "released"},
        **over,
    )


def make_inventory_case(amount: float = 3200.0, **over: Any) -> dict[str, Any]:
    """Returns a clear inventory discrepancy (ERP 16 vs WMS 4, short pick, count variance)."""
    return make_case(
        case_id=unique("T-INV"),
        workflow="inventory_sync",
        stalled_step="nightly inventory reconciliation exception",
        refs={"skus": ["SKU-4410"]},
        amount={"value": amount, "currency": "USD"},
        events=[
            {
                "at": T.format("09:10"),
                "system": "WMS",
                "type": "short_pick",
                "detail": "Short pick SKU-4410 at A-12-3: expected 16, found 4",
                "code": None,
            },
            {
                "at": T.format("10:05"),
                "system": "WMS",
                "type": "cycle_count_variance",
                "detail": "Cycle count variance SKU-4410 at A-12-3: counted 4, system 16",
                "code": None,
            },
            {
                "at": T.format("10:47"),
                "system": "WMS",
                "type": "recount_complete",
                "detail": "Recount confirms 4 at A-12-3",
                "code": None,
            },
        ],
        attributes={"erp_on_hand": 16, "wms_on_hand": 4, "last_sync_error": None},
        **over,
    )


def make_unknown_case(**over: Any) -> dict[str, Any]:
    """Returns a case with no evidence at all: just a stalled step."""
    return make_case(
        case_id=unique("T-UNK"),
        workflow="returns_disposition",
        stalled_step="step 7 pending",
        **over,
    )
