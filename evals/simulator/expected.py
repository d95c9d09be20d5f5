"""The good-triager playbook: which actions a case of a given cause should get."""

from __future__ import annotations

from collections.abc import Mapping

EXPEDITE_ABOVE = 5000.0


def _has_ref(case: Mapping[str, object], key: str) -> bool:
    """Tells whether the case carries a non-null ref."""
    refs = case.get("refs")
    return isinstance(refs, Mapping) and refs.get(key) not in (None, "", [])


def _amount_value(case: Mapping[str, object]) -> float:
    """Returns the money at stake, or zero when there is none."""
    amount = case.get("amount")
    if isinstance(amount, Mapping) and isinstance(amount.get("value"), int | float):
        return float(amount["value"])
    return 0.0


def _number(attributes: Mapping[str, object], key: str) -> float | None:
    """Returns a numeric attribute, or None when absent or not a number."""
    value = attributes.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def supplier_overbilled(case: Mapping[str, object]) -> bool:
    """Tells whether the invoice price or quantity exceeds the PO price or the receipt."""
    raw = case.get("attributes")
    attributes: Mapping[str, object] = raw if isinstance(raw, Mapping) else {}
    pairs = (("invoice_price", "po_price"), ("qty_invoiced", "qty_received"))
    for billed_key, agreed_key in pairs:
        billed, agreed = _number(attributes, billed_key), _number(attributes, agreed_key)
        if billed is not None and agreed is not None and billed > agreed:
            return True
    return False


def expected_actions(cause: str, case: Mapping[str, object]) -> list[str]:
    """Returns the actions a good triager proposes for the cause, given the case's facts."""
    customer = _has_ref(case, "customer_id")
    sla = case.get("sla_due_at") is not None
    if cause == "carrier_cutoff_missed":
        return ["rebook_carrier"] + (["notify_customer"] if customer and sla else [])
    if cause == "carrier_delay":
        actions = ["escalate_to_carrier"]
        if _amount_value(case) > EXPEDITE_ABOVE:
            actions.append("expedite_shipment")
        return actions + (["notify_customer"] if customer else [])
    if cause == "warehouse_congestion":
        return ["reprioritize_wave"] + (["notify_customer"] if customer and sla else [])
    if cause == "inventory_discrepancy":
        actions = ["create_cycle_count", "post_inventory_adjustment"]
        return actions + (["reallocate_order"] if _has_ref(case, "order_id") else [])
    if cause == "pricing_mismatch":
        return ["hold_invoice"] + (["issue_credit_memo"] if supplier_overbilled(case) else [])
    if cause == "compliance_hold":
        return ["request_compliance_documents"] + (["notify_customer"] if customer else [])
    return list(FIXED_PLAYBOOK.get(cause, ("route_to_team",)))


FIXED_PLAYBOOK: dict[str, tuple[str, ...]] = {
    "supplier_delay": ("request_supplier_confirmation", "update_po_eta"),
    "integration_failure": ("replay_integration_message",),
    "master_data_error": ("correct_master_data",),
    "credit_hold": ("route_to_team",),
    "unknown": ("route_to_team",),
}
