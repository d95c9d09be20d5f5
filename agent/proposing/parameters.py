"""Fills an action's parameters with concrete values from the case and its evidence, each with its source."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from agent.proposing.dates import last_date, pickup_offer
from agent.proposing.sources import (
    SourceText,
    evidence_texts,
    latest_first,
    mentions_another_document,
    party_texts,
    unquoted,
)
from core.models import Case
from core.parameters import screen_params
from core.parameters.provenance import ParamSource
from core.results import MatchedMessage
from core.taxonomy import ActionSpec

# A bin code: three to five short segments, letters or digits, taken whole (never the tail of a
# longer code such as PHX-R-14-02-C); it must hold both a letter and a digit.
_LOCATION = re.compile(
    r"(?<![\w-])((?:[A-Z]{1,3}|\d{1,3})(?:-(?:[A-Z]{1,3}|\d{1,3})){2,4})(?![\w-])"
)
# How each document is commonly named; checked as whole words, case-insensitively. A short form
# followed by a number ("AWB 057-4412", "B/L 8812") is the id of a document at hand, not a request.
_ID_FOLLOWS = r"(?!\s*(?:no\.?|#|:)?\s*\d)"
_DOCUMENTS = tuple(
    (re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE), doc)
    for pattern, doc in (
        (
            r"certificat(?:e|ion)s? of origin|(?:usmca|cusma|nafta) cert\w*|coo",
            "certificate_of_origin",
        ),
        # A preferential-origin movement certificate, not a certificate of origin.
        (
            r"eur\.?1(?: movement certificates?)?|movement certificates?",
            "eur_1_movement_certificate",
        ),
        (r"commercial invoices?|pro[- ]?forma invoices?", "commercial_invoice"),
        (r"packing lists?|packing slips?", "packing_list"),
        (rf"bills? of lading|(?:b/l|bol){_ID_FOLLOWS}|sea ?waybill", "bill_of_lading"),
        (rf"air ?way ?bills?|awb{_ID_FOLLOWS}", "air_waybill"),
        (r"m?sds|(?:material )?safety data sheets?", "safety_data_sheet"),
        (
            r"(?:dangerous goods|dg|hazmat|hazardous (?:goods|materials?)) declarations?|dgd|"
            r"shipper'?s declaration for dangerous goods",
            "dangerous_goods_declaration",
        ),
        (
            r"un ?38\.3(?: test)?(?: summary| report)?|battery test (?:summary|report)",
            "un38_3_test_summary",
        ),
        (r"export licen[cs]es?", "export_license"),
        (r"end[- ]?us(?:e|er) (?:statement|certificate)s?", "end_use_statement"),
        (r"import (?:licen[cs]es?|permits?)", "import_license"),
        (r"phytosanitary(?: certificates?)?", "phytosanitary_certificate"),
        (
            r"ispm[- ]?15|heat[- ]treatment certificates?|fumigation certificates?",
            "heat_treatment_certificate",
        ),
        (r"certificates? of analysis|coa", "certificate_of_analysis"),
        (r"certificates? of conformity|coc", "certificate_of_conformity"),
        (r"(?:eu )?declarations? of conformity", "declaration_of_conformity"),
        (r"(?:veterinary |sanitary )?health certificates?", "health_certificate"),
        (
            r"fda (?:food )?(?:facility )?registration(?: number)?|ffr(?: number)?",
            "fda_registration",
        ),
        (
            r"(?:fda )?prior notice",
            "fda_prior_notice",
        ),
        (r"insurance certificates?|certificate of insurance", "insurance_certificate"),
    )
)
# A sentence that asks for, or misses, a document: a document merely mentioned (the invoice that
# claims a preference, the declaration already filed) is context, not what is to be requested.
_NEEDED = re.compile(
    r"\b(?:missing|required?|requires|requested|requests?|need(?:s|ed)?|provide[ds]?|send|"
    r"submit|obtain|without|not (?:provided|attached|received|included)|absent|incomplete|"
    r"awaiting|pending|outstanding|expired|invalid|lacks?|no valid|falta|faltan|fehlt|fehlen|"
    r"ben[öo]tig\w*|manque\w*|requis|ontbreek\w*|vereist)\b",
    re.IGNORECASE,
)
# A clause ends a sentence or turns on a contrast ("the invoice claims X, but no certificate was
# provided"): only the clause that asks names what to request.
_CLAUSE = re.compile(r"(?<=[.!?])\s+|,?\s+but\s+", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[a-z][.)]|[-*\u2022])\s+")


# The head noun of a document's name: one left over in an asking clause, outside every name
# the vocabulary knows ("a free sale certificate"), means the list would be incomplete.
_DOCUMENT_HEAD = re.compile(
    r"\b(?:certificat(?:e|ion)s?|statements?|licen[cs]es?|permits?|invoices?|declarations?|"
    r"papers|extracts?|notices?|forms?|sheets?|summar(?:y|ies)|registrations?)\b",
    re.IGNORECASE,
)


def _requested_documents(clause: str) -> tuple[dict[str, str], bool]:
    """Returns the documents a clause asks for by name, and whether it names others as well."""
    named: dict[str, str] = {}
    spans: list[tuple[int, int]] = []
    for pattern, doc in _DOCUMENTS:
        for match in pattern.finditer(clause):
            named.setdefault(doc, match.group(0))
            spans.append(match.span())
    unnamed = any(
        not any(start <= head.start() < end for start, end in spans)
        for head in _DOCUMENT_HEAD.finditer(clause)
    )
    return named, unnamed


def _asking_clauses(text: str) -> list[str]:
    """Returns the clauses of a text that ask for something, list items counting as their lead's."""
    asking: list[str] = []
    lead_asks = False
    for line in text.splitlines():
        if _LIST_ITEM.match(line) and lead_asks:
            asking.append(line)
            continue
        clauses = _CLAUSE.split(line)
        asking += [clause for clause in clauses if _NEEDED.search(clause)]
        # A line that ends on a colon introduces a list: its items are what it asks for.
        lead_asks = line.rstrip().endswith(":") and bool(_NEEDED.search(clauses[-1]))
    return asking


_TEAMS = {
    "invoice_match": "accounts_payable",
    "invoice_trigger": "billing",
    "order_release": "order_management",
    "supplier_confirmation": "procurement",
    "replenishment_approval": "procurement",
    "inventory_sync": "inventory_control",
}


class Found(NamedTuple):
    """A value read for a parameter and where it was read from."""

    value: Any
    source: ParamSource


Extracted = dict[str, Found | None]
Extractor = Callable[[Case, Sequence[MatchedMessage]], Extracted]


def _ref(case: Case, key: str) -> Found | None:
    value = getattr(case.refs, key, None)
    return Found(value, ParamSource(kind="refs", keys=[key])) if value else None


def _refs(case: Case, *keys: str) -> Extracted:
    return {key: _ref(case, key) for key in keys}


def _field(value: Any, *keys: str) -> Found | None:
    return Found(value, ParamSource(kind="case", keys=list(keys))) if value else None


def _number(case: Case, key: str) -> float | None:
    value = case.attributes.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _attribute(value: Any, *keys: str) -> Found | None:
    return None if value is None else Found(value, ParamSource(kind="attribute", keys=list(keys)))


def _skus(case: Case) -> Found | None:
    return (
        Found(list(case.refs.skus), ParamSource(kind="refs", keys=["skus"]))
        if case.refs.skus
        else None
    )


def _location(case: Case) -> Found | None:
    explicit = case.attributes.get("location")
    if isinstance(explicit, str) and explicit:
        return _attribute(explicit, "location")
    found: dict[str, Found] = {}
    texts = [
        (e.detail or "", ParamSource(kind="event", index=i)) for i, e in enumerate(case.events)
    ]
    texts += [
        (unquoted(m.body), ParamSource(kind="message", index=i))
        for i, m in enumerate(case.messages)
        if m.party.value == "internal"
    ]
    for text, source in texts:
        for match in _LOCATION.finditer(text):
            code = match.group(1)
            if re.search(r"[A-Z]", code) and re.search(r"\d", code) and code not in found:
                found[code] = Found(code, source.model_copy(update={"span": code}))
    # Two bins named (a count over several locations, a note that the stock went to another
    # bin) leave the choice to the reviewer.
    return next(iter(found.values())) if len(found) == 1 else None


def _first_pickup(texts: Sequence[SourceText]) -> Found | None:
    for text in latest_first(texts):
        if offer := pickup_offer(text.text, text.at):
            return Found(offer[0].isoformat(), text.cite(offer[1]))
    return None


def _first_eta(texts: Sequence[SourceText]) -> Found | None:
    for text in latest_first(texts):
        if found := last_date(text.text, text.at):
            return Found(found[0].isoformat(), text.cite(found[1]))
    return None


def _rebook(case: Case, messages: Sequence[MatchedMessage]) -> Extracted:
    carrier_texts = party_texts(case, messages, "carrier", ("CARRIER", "TMS"))
    return {
        **_refs(case, "carrier", "shipment_id", "order_id"),
        "earliest_pickup": _first_pickup(carrier_texts),
    }


def _shipment(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    coded = [(i, e.code) for i, e in enumerate(case.events) if e.code]
    codes = None
    if coded:
        span = ", ".join(code for _, code in coded)
        source = ParamSource(kind="event", index=coded[-1][0], span=span)
        codes = Found([code for _, code in coded], source)
    return {**_refs(case, "carrier", "shipment_id", "order_id"), "status_codes": codes}


def _inventory_adjustment(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    erp, wms = _number(case, "erp_on_hand"), _number(case, "wms_on_hand")
    delta = wms - erp if erp is not None and wms is not None else None
    return {
        "site": _field(case.site, "site"),
        "sku": _skus(case) and Found(case.refs.skus[0], ParamSource(kind="refs", keys=["skus"])),
        "location": _location(case),
        "quantity_delta": _attribute(delta, "wms_on_hand", "erp_on_hand"),
        "unit_cost": _attribute(_number(case, "unit_cost"), "unit_cost"),
        "currency": _field(case.amount.currency if case.amount else None, "amount.currency"),
    }


def _cycle_count(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    return {"site": _field(case.site, "site"), "skus": _skus(case), "location": _location(case)}


def _supplier(case: Case, messages: Sequence[MatchedMessage]) -> Extracted:
    supplier_texts = party_texts(case, messages, "supplier", ("SUPPLIER",))
    return {**_refs(case, "po_id", "supplier_id"), "new_eta": _first_eta(supplier_texts)}


def _credit_memo(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    po_price, inv_price = _number(case, "po_price"), _number(case, "invoice_price")
    qty_rcv, qty_inv = _number(case, "qty_received"), _number(case, "qty_invoiced")
    amount = 0.0
    if po_price is not None and inv_price is not None and qty_inv is not None:
        amount += max(0.0, inv_price - po_price) * qty_inv
    if qty_rcv is not None and qty_inv is not None and inv_price is not None:
        amount += max(0.0, qty_inv - qty_rcv) * inv_price
    keys = ("po_price", "invoice_price", "qty_received", "qty_invoiced")
    return {
        **_refs(case, "invoice_id", "po_id", "supplier_id"),
        "amount": _attribute(round(amount, 2), *keys) if amount else None,
        "currency": _field(case.amount.currency if case.amount else None, "amount.currency"),
    }


def _last_event_about_case(case: Case, system: str) -> Found | None:
    """Returns the detail of the system's last event about this case, not about another document."""
    about = [
        (i, e.detail)
        for i, e in enumerate(case.events)
        if e.system.value == system and e.detail and not mentions_another_document(case, e.detail)
    ]
    if not about:
        return None
    index, detail = about[-1]
    return Found(detail, ParamSource(kind="event", index=index, span=detail))


def _invoice(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    # The reason is the last finance event about this invoice: one about another invoice of the
    # same PO (paid, credited) says nothing about why this one is held.
    reason = _last_event_about_case(case, "FINANCE") or _field(case.stalled_step, "stalled_step")
    return {**_refs(case, "invoice_id", "po_id"), "reason": reason}


def _integration(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    # The error is the last middleware event about this case: one naming another document (a
    # message for another shipment that went through) says nothing about ours.
    error = _last_event_about_case(case, "MIDDLEWARE") or _attribute(
        case.attributes.get("last_sync_error") or None, "last_sync_error"
    )
    refs = case.refs.matching_keys()
    # An event's type says what happened (retry_exhausted, queue_depth), not which interface
    # failed; only a stated interface is proposed, and the error text keeps the rest.
    named = case.attributes.get("interface")
    return {
        "interface": _attribute(named, "interface") if isinstance(named, str) and named else None,
        "error": error,
        "document_refs": Found(refs, ParamSource(kind="refs", keys=sorted(refs))) if refs else None,
    }


def _master_data(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    hints = {
        k: v for k, v in case.attributes.items() if "uom" in k or "item" in k or "location" in k
    }
    return {
        "skus": _skus(case),
        "site": _field(case.site, "site"),
        "observed": _attribute(hints, *sorted(hints)) if hints else None,
    }


def _documents(case: Case, messages: Sequence[MatchedMessage]) -> Extracted:
    found: dict[str, tuple[SourceText, str]] = {}
    incomplete = False
    for text in evidence_texts(case, messages):
        for clause in _asking_clauses(text.text):
            named, unnamed = _requested_documents(clause)
            incomplete |= unnamed
            for doc, span in named.items():
                found.setdefault(doc, (text, span))
    docs = sorted(found)
    # None asked for by name, or one asked for that the vocabulary cannot name: a person says
    # which, since a placeholder or a partial list would be a value the evidence does not give.
    if not docs or incomplete:
        return {**_refs(case, "shipment_id", "order_id"), "documents": None}
    text, span = found[docs[0]]
    return {**_refs(case, "shipment_id", "order_id"), "documents": Found(docs, text.cite(span))}


def _notify(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    due = case.sla_due_at.isoformat() if case.sla_due_at else None
    return {
        **_refs(case, "customer_id", "order_id", "shipment_id"),
        "sla_due_at": _field(due, "sla_due_at"),
    }


def _route(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    team = _TEAMS.get(case.workflow.value, f"{case.site.lower()}_operations")
    return {"team": _field(team, "workflow", "site"), "site": _field(case.site, "site")}


def _credit_hold(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    return _refs(case, "customer_id", "order_id")


def _wave(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    backlog = case.attributes.get("wms_backlog_orders")
    return {
        "site": _field(case.site, "site"),
        **_refs(case, "order_id"),
        "backlog": _attribute(backlog, "wms_backlog_orders"),
    }


def _reallocate(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    return {**_refs(case, "order_id"), "skus": _skus(case), "site": _field(case.site, "site")}


def _case_refs(case: Case, _messages: Sequence[MatchedMessage]) -> Extracted:
    refs = case.refs.matching_keys()
    return {
        "case_refs": Found(refs, ParamSource(kind="refs", keys=sorted(refs))) if refs else None,
        "site": _field(case.site, "site"),
    }


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


def propose_parameters(
    spec: ActionSpec, case: Case, messages: Sequence[MatchedMessage]
) -> tuple[dict[str, Any], dict[str, ParamSource]]:
    """Returns an action's schema-valid parameters (bad values left empty) and each one's source."""
    found = EXTRACTORS.get(spec.id, _case_refs)(case, messages)
    raw = {name: item.value for name, item in found.items() if item is not None}
    params, _dropped = screen_params(spec, raw, now=case.detected_at)
    provenance = {
        name: item.source
        for name, item in found.items()
        if item is not None and params.get(name) is not None
    }
    return params, provenance
