"""Fills an action's parameters with concrete values taken from the case and its evidence."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from core.models import Case, MatchedMessage
from core.rendering import case_text

_LOCATION = re.compile(r"\b([A-Z]{1,3}-\d{1,3}-\d{1,3}(?:-\d{1,3})?)\b")
_TIME = re.compile(
    r"\b(?:tomorrow|today|mon|tue|wed|thu|fri|sat|sun)\w*\.?\s*(?:at\s*)?\d{1,2}[:.]\d{2}\b|\b\d{1,2}[:.]\d{2}\b",
    re.I,
)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b")
_DOCUMENTS = {
    "certificate of origin": "certificate_of_origin",
    "commercial invoice": "commercial_invoice",
    "packing list": "packing_list",
    "sds": "safety_data_sheet",
    "msds": "safety_data_sheet",
    "safety data sheet": "safety_data_sheet",
    "dangerous goods": "dangerous_goods_declaration",
    "hazmat": "dangerous_goods_declaration",
    "export licen": "export_license",
    "eccn": "export_license",
    "phytosanitary": "phytosanitary_certificate",
}
_TEAMS = {
    "invoice_match": "accounts_payable",
    "invoice_trigger": "billing",
    "order_release": "order_management",
    "supplier_confirmation": "procurement",
    "replenishment_approval": "procurement",
    "inventory_sync": "inventory_control",
}

Extractor = Callable[[Case, Sequence[MatchedMessage]], dict[str, Any]]


def _number(case: Case, key: str) -> float | None:
    value = case.attributes.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _all_text(case: Case, messages: Sequence[MatchedMessage]) -> str:
    return "\n".join([case_text(case), *(m.body for m in messages)])


def _carrier_texts(case: Case, messages: Sequence[MatchedMessage]) -> list[str]:
    texts = [m.body for m in case.messages if m.party.value == "carrier"]
    texts += [m.body for m in messages if m.party == "carrier"]
    texts += [e.detail or "" for e in case.events if e.system.value in ("CARRIER", "TMS")]
    return texts


def _first(pattern: re.Pattern[str], texts: Sequence[str]) -> str | None:
    for text in texts:
        if match := pattern.search(text):
            return match.group(0).strip()
    return None


def _location(case: Case) -> str | None:
    explicit = case.attributes.get("location")
    if isinstance(explicit, str) and explicit:
        return explicit
    return _first(_LOCATION, [e.detail or "" for e in case.events])


def _rebook(case: Case, messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    return {
        "carrier": case.refs.carrier,
        "shipment_id": case.refs.shipment_id,
        "order_id": case.refs.order_id,
        "earliest_pickup": _first(_TIME, _carrier_texts(case, messages)),
    }


def _shipment(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    codes = [e.code for e in case.events if e.code]
    return {
        "carrier": case.refs.carrier,
        "shipment_id": case.refs.shipment_id,
        "order_id": case.refs.order_id,
        "status_codes": codes,
    }


def _inventory_adjustment(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    erp, wms = _number(case, "erp_on_hand"), _number(case, "wms_on_hand")
    delta = wms - erp if erp is not None and wms is not None else None
    return {
        "site": case.site,
        "sku": case.refs.skus[0] if case.refs.skus else None,
        "location": _location(case),
        "quantity_delta": delta,
    }


def _cycle_count(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    return {"site": case.site, "skus": list(case.refs.skus), "location": _location(case)}


def _supplier(case: Case, messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    texts = [m.body for m in case.messages if m.party.value == "supplier"]
    texts += [m.body for m in messages if m.party == "supplier"]
    return {
        "po_id": case.refs.po_id,
        "supplier_id": case.refs.supplier_id,
        "new_eta": _first(_DATE, texts),
    }


def _credit_memo(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    po_price, inv_price = _number(case, "po_price"), _number(case, "invoice_price")
    qty_rcv, qty_inv = _number(case, "qty_received"), _number(case, "qty_invoiced")
    amount = 0.0
    if po_price is not None and inv_price is not None and qty_inv is not None:
        amount += max(0.0, inv_price - po_price) * qty_inv
    if qty_rcv is not None and qty_inv is not None and inv_price is not None:
        amount += max(0.0, qty_inv - qty_rcv) * inv_price
    return {
        "invoice_id": case.refs.invoice_id,
        "po_id": case.refs.po_id,
        "supplier_id": case.refs.supplier_id,
        "amount": round(amount, 2) if amount else None,
        "currency": case.amount.currency if case.amount else None,
    }


def _invoice(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    finance = [e.detail for e in case.events if e.system.value == "FINANCE" and e.detail]
    return {
        "invoice_id": case.refs.invoice_id,
        "po_id": case.refs.po_id,
        "reason": finance[-1] if finance else case.stalled_step,
    }


def _integration(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    failed = [e for e in case.events if e.system.value == "MIDDLEWARE"]
    return {
        "interface": failed[-1].type if failed else None,
        "error": (failed[-1].detail if failed else None) or case.attributes.get("last_sync_error"),
        "document_refs": case.refs.matching_keys(),
    }


def _master_data(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    hints = {
        k: v for k, v in case.attributes.items() if "uom" in k or "item" in k or "location" in k
    }
    return {"skus": list(case.refs.skus), "site": case.site, "observed": hints}


def _documents(case: Case, messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    text = _all_text(case, messages).lower()
    docs = sorted({doc for cue, doc in _DOCUMENTS.items() if cue in text})
    return {
        "shipment_id": case.refs.shipment_id,
        "order_id": case.refs.order_id,
        "documents": docs or ["unspecified"],
    }


def _notify(case: Case, messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    return {
        "customer_id": case.refs.customer_id,
        "order_id": case.refs.order_id,
        "shipment_id": case.refs.shipment_id,
        "sla_due_at": case.sla_due_at.isoformat() if case.sla_due_at else None,
    }


def _route(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    return {
        "team": _TEAMS.get(case.workflow.value, f"{case.site.lower()}_operations"),
        "site": case.site,
    }


def _credit_hold(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    return {"customer_id": case.refs.customer_id, "order_id": case.refs.order_id}


def _wave(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    return {
        "site": case.site,
        "order_id": case.refs.order_id,
        "backlog": case.attributes.get("wms_backlog_orders"),
    }


def _reallocate(case: Case, _messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    return {"order_id": case.refs.order_id, "skus": list(case.refs.skus), "site": case.site}


EXTRACTORS: dict[str, Extractor] = {
    "rebook_carrier": _rebook,
    "expedite_shipment": _shipment,
    "escalate_to_carrier": _shipment,
    "reprioritize_wave": _wave,
    "create_cycle_count": _cycle_count,
    "request_supplier_confirmation": _supplier,
    "request_compliance_documents": _documents,
    "notify_customer": _notify,
    "route_to_team": _route,
    "post_inventory_adjustment": _inventory_adjustment,
    "reallocate_order": _reallocate,
    "update_po_eta": _supplier,
    "replay_integration_message": _integration,
    "correct_master_data": _master_data,
    "release_credit_hold": _credit_hold,
    "issue_credit_memo": _credit_memo,
    "hold_invoice": _invoice,
}


def parameters_for(action: str, case: Case, messages: Sequence[MatchedMessage]) -> dict[str, Any]:
    """Returns the concrete parameters of an action; catalogue additions get the case refs."""
    extractor = EXTRACTORS.get(action)
    if extractor is None:
        return {"case_refs": case.refs.matching_keys(), "site": case.site}
    return extractor(case, messages)
