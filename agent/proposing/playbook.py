"""Chooses the catalogue actions for a cause from the configured playbook and the case's facts."""

from __future__ import annotations

from core.models import Case
from core.taxonomy import CauseSpec


def _number(case: Case, key: str) -> float | None:
    value = case.attributes.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def is_overbilled(case: Case) -> bool:
    """Tells whether the invoice asks for more than the PO price or the received quantity allow."""
    price_po, price_inv = _number(case, "po_price"), _number(case, "invoice_price")
    qty_rcv, qty_inv = _number(case, "qty_received"), _number(case, "qty_invoiced")
    over_price = price_po is not None and price_inv is not None and price_inv > price_po
    over_qty = qty_rcv is not None and qty_inv is not None and qty_inv > qty_rcv
    return over_price or over_qty


def case_facts(case: Case) -> set[str]:
    """Returns the facts a conditional playbook entry can require."""
    facts: set[str] = set()
    if case.refs.customer_id:
        facts.add("customer")
    if case.refs.order_id:
        facts.add("order")
    if case.refs.shipment_id:
        facts.add("shipment")
    if case.sla_due_at is not None:
        facts.add("sla")
    if is_overbilled(case):
        facts.add("overbilled")
    erp, wms = _number(case, "erp_on_hand"), _number(case, "wms_on_hand")
    if erp is not None and wms is not None and wms < erp:
        facts.add("short_stock")
    return facts


def select_actions(cause: CauseSpec, case: Case) -> list[str]:
    """Returns the playbook actions for a cause plus the conditional ones the case qualifies for."""
    facts = case_facts(case)
    amount = case.amount.value if case.amount else 0.0
    actions = list(cause.playbook)
    for entry in cause.conditional:
        if not set(entry.requires) <= facts:
            continue
        if entry.amount_above is not None and amount <= entry.amount_above:
            continue
        if entry.action not in actions:
            actions.append(entry.action)
    return actions
