"""Structured facts from case attributes: relations that hold whatever the wording or key spelling.

Other people name the same attribute differently (`erp_on_hand`, `onhand_erp`, `ERP OnHand`), so
keys are matched by the words they contain rather than by exact name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from core.values import Scalar

Attributes = Mapping[str, Scalar | list[Scalar]]

_DIGITS = re.compile(r"\d+")
_SPLIT = re.compile(r"[^a-z0-9]+")
_BLOCKED_CREDIT = ("block", "hold", "limit", "suspend", "stop", "over", "exceed", "past due")
_FALSE = {"false", "no", "n", "0", "missing", "none", "pending", "not received", "overdue"}
_TRUE = {"true", "yes", "y"}
_CLEAR = ("clear", "released", "ok", "none", "n/a", "passed", "approved", "good", "accepted")
# An error value that says the error is over.
_RECOVERED = re.compile(r"\b(?:recovered|retried ok|resolved|succeeded on retry|cleared|fixed)\b")
# (fact label, words the first key must hold, words the second key must hold).
_PAIRS = (
    ("onhand", ("erp", "hand"), ("wms", "hand")),
    ("onhand", ("book", "qty"), ("phys", "qty")),
    ("onhand", ("system", "qty"), ("count", "qty")),
    ("price", ("po", "price"), ("inv", "price")),
    ("price", ("order", "price"), ("inv", "price")),
    ("price", ("contract", "price"), ("inv", "price")),
    ("qty_match", ("qty", "rec"), ("qty", "inv")),
    ("qty_match", ("quantity", "rec"), ("quantity", "inv")),
    ("qty_receipt", ("qty", "order"), ("qty", "rec")),
    # What the supplier's ship notice says against what the PO ordered: a short shipment.
    ("qty_receipt", ("po", "qty"), ("asn", "qty")),
    ("qty_receipt", ("po", "qty"), ("qty", "ship")),
    ("labour", ("headcount", "plan"), ("headcount", "actual")),
    ("labour", ("labor", "plan"), ("labor", "actual")),
    ("labour", ("labour", "plan"), ("labour", "actual")),
)
# A charge (price, rate, tax, fee) and the documents or parties that state one.
_MONEY_WORDS = frozenset(
    {"price", "rate", "tax", "vat", "cost", "charge", "fee", "tariff", "fx", "surcharge"}
)
_SIDE_WORDS = frozenset(
    {
        "po",
        "order",
        "contract",
        "expected",
        "agreed",
        "quoted",
        "quote",
        "list",
        "catalog",
        "catalogue",
        "customer",
        "supplier",
        "vendor",
        "invoice",
        "invoiced",
        "inv",
        "billed",
        "bill",
        "credited",
        "charged",
        "receipt",
        "received",
        "master",
        "system",
        "erp",
    }
)
_FILLER_WORDS = frozenset({"unit", "per", "each", "ea", "amount", "value", "pct", "percent"})
# Words naming what travels between systems, for counts of failed messages.
_INTERFACE_WORDS = frozenset(
    {
        "edi",
        "idoc",
        "message",
        "messages",
        "msg",
        "msgs",
        "interface",
        "api",
        "queue",
        "transmission",
        "transmissions",
        "integration",
        "middleware",
        "esb",
    }
)
# Words of a key that holds a difference, not a figure: `count_variance`, `onhand_delta`.
_DIFFERENCE_WORDS = frozenset({"variance", "var", "diff", "difference", "delta", "gap", "pct"})
# Two figures of the same thing within half a percent of each other are the same figure.
_SAME = 0.005
_BACKLOG_NORMS = ("normal", "baseline", "plan", "typical", "avg", "average", "capacity")
# Facts that on their own settle a cause whatever the wording, and the cause each points at
# (CONTRACT.md, the taxonomy's "typical evidence" column).
FACT_CAUSES = {
    "onhand_differs": "inventory_discrepancy",
    "price_differs": "pricing_mismatch",
    "qty_match_differs": "pricing_mismatch",
    "qty_receipt_differs": "supplier_delay",
    "uom_differs": "master_data_error",
    "credit_blocked": "credit_hold",
    "sync_error": "integration_failure",
    "po_ack_missing": "supplier_delay",
    "backlog_high": "warehouse_congestion",
    "labour_short": "warehouse_congestion",
    "compliance_flag": "compliance_hold",
    "master_field_missing": "master_data_error",
}
# Fields of an item's master record that a working item cannot leave empty or at zero: its
# weight and dimensions, its barcodes, its unit conversions.
_MASTER_FIELD_WORDS = frozenset(
    {
        "weight",
        "length",
        "width",
        "height",
        "dims",
        "dimension",
        "dimensions",
        "volume",
        "cube",
        "gtin",
        "ean",
        "upc",
        "barcode",
        "conversion",
    }
)
# Replenishment parameters, which a stocked item cannot have at zero: `min_qty`, `fwd_max`,
# `reorder_point`. "min" alone may be minutes, so a stock word must come with it.
_PLANNING_BOUNDS = frozenset({"min", "max", "minimum", "maximum", "reorder"})
_PLANNING_WORDS = frozenset({"qty", "quantity", "stock", "level", "fwd", "point", "replen"})
_EMPTY_VALUES = frozenset({"", "0", "null", "none", "missing", "n/a", "blank", "empty"})


def _relative_gap(a: float, b: float) -> float:
    """Returns how far apart two figures are, relative to the larger."""
    return abs(a - b) / max(abs(a), abs(b), 1e-9)


def same_figure(a: float, b: float) -> bool:
    """Tells whether two figures of the same thing are one figure (within half a percent)."""
    return _relative_gap(a, b) <= _SAME


@lru_cache(maxsize=4096)
def _words(key: str) -> frozenset[str]:
    """Returns the words of an attribute key and their prefixes, `onhand` and `on_hand` alike."""
    words = _key_words(key)
    # Prefixes let `inv` match `invoice` and `rec` match `received`.
    return words | {w[:n] for w in words for n in (3, 4, 5)}


@lru_cache(maxsize=4096)
def _key_words(key: str) -> frozenset[str]:
    """Returns the whole words of an attribute key, with `onhand` and `on_hand` alike."""
    return frozenset(_SPLIT.split(key.lower().replace("onhand", "on_hand"))) - {""}


def _find(attributes: Attributes, needed: tuple[str, ...]) -> float | None:
    wanted = set(needed)
    for key, value in attributes.items():
        if wanted <= _words(key):
            number = _number(value)
            if number is not None:
                return number
    return None


def attribute_facts(attributes: Attributes) -> dict[str, float]:
    """Returns facts derived from the case attributes that hold whatever the wording."""
    facts: dict[str, float] = {}
    for key, value in attributes.items():
        if value is None or value == "" or value == []:
            continue
        facts[f"attr={key.lower()}"] = 1.0
        if isinstance(value, bool):
            facts[f"attr={key.lower()}={str(value).lower()}"] = 1.0
    facts.update(_pair_facts(attributes))
    facts.update(_status_facts(attributes))
    facts.update(_load_facts(attributes))
    facts.update(_count_facts(attributes))
    if any(_is_missing_master_field(key, value) for key, value in attributes.items()):
        facts["master_field_missing"] = 1.0
    return facts


def _is_missing_master_field(key: str, value: Scalar | list[Scalar]) -> bool:
    """Tells whether an item master field or replenishment parameter is empty or zero.

    `item_gross_weight_kg: 0.0`, `uom_conversion_cs_ea: null`, `min_qty: 0`: reference data
    missing, whatever the case's wording (CONTRACT.md's master_data_error).
    """
    words = _key_words(key)
    field = bool(words & _MASTER_FIELD_WORDS)
    planning = bool(words & _PLANNING_BOUNDS) and bool(words & _PLANNING_WORDS)
    if not (field or planning) or words & _DIFFERENCE_WORDS or isinstance(value, bool | list):
        return False
    if value is None:
        return True
    number = _number(value)
    return number == 0 if number is not None else str(value).strip().lower() in _EMPTY_VALUES


def _pair_facts(attributes: Attributes) -> dict[str, float]:
    facts: dict[str, float] = {}
    for label, left, right in _PAIRS:
        a, b = _find(attributes, left), _find(attributes, right)
        if a is None or b is None or f"{label}_gap" in facts:
            continue
        gap = _relative_gap(a, b)
        facts[f"{label}_differs" if gap > _SAME else f"{label}_agrees"] = 1.0
        facts[f"{label}_gap"] = min(gap, 1.0)
    if "price_gap" not in facts:
        facts.update(_money_pair_facts(attributes))
    uoms = {
        str(v).strip().lower()
        for k, v in attributes.items()
        if {"uom", "unit"} & _words(k) and v and _number(v) is None
    }
    if len(uoms) > 1:
        facts["uom_differs"] = 1.0
    return facts


def _money_pair_facts(attributes: Attributes) -> dict[str, float]:
    """Compares two figures of the same charge as two documents or parties state it.

    A failed match is one charge stated twice and differing: `contract_rate` against
    `invoice_rate`, `order_fx_rate` against `invoice_fx_rate`, `tax_expected` against
    `tax_invoiced`, `billed_price` against `credited_price`. Keys are grouped by what is left
    once the document and party words are taken out, so a tax rate is never set against a price.
    """
    groups: dict[frozenset[str], list[tuple[frozenset[str], float]]] = {}
    for key, value in attributes.items():
        words = frozenset(_SPLIT.split(key.lower())) - {""}
        number = _number(value) if not isinstance(value, list) else None
        if number is None or not words & _MONEY_WORDS or not words & _SIDE_WORDS:
            continue
        concept = frozenset(w for w in words - _SIDE_WORDS - _FILLER_WORDS if not w.isdigit())
        groups.setdefault(concept, []).append((words & _SIDE_WORDS, number))
    for stated in groups.values():
        pairs = [(a, b) for i, a in enumerate(stated) for b in stated[i + 1 :] if a[0] != b[0]]
        if not pairs:
            continue
        (_, a), (_, b) = pairs[0]
        gap = _relative_gap(a, b)
        return {"price_differs" if gap > _SAME else "price_agrees": 1.0, "price_gap": min(gap, 1.0)}
    return {}


def _status_facts(attributes: Attributes) -> dict[str, float]:
    facts: dict[str, float] = {}
    lowered = {k.lower(): v for k, v in attributes.items()}
    credit = " ".join(str(v).lower() for k, v in lowered.items() if "credit" in k and "status" in k)
    if credit.strip():
        blocked = any(word in credit for word in _BLOCKED_CREDIT)
        facts["credit_blocked" if blocked else "credit_ok"] = 1.0
    limit, exposure = _find(attributes, ("credit", "limit")), _find(attributes, ("exposure",))
    if limit is not None and exposure is not None and exposure > limit:
        facts["credit_blocked"] = 1.0
    sync = [v for k, v in lowered.items() if "sync" in k or "integration_error" in k]
    states = {_error_state(v) for v in sync}
    if "standing" in states:
        facts["sync_error"] = 1.0
    elif "recovered" in states:
        # An error that is over: a feature of its own, never evidence of a failure now.
        facts["sync_recovered"] = 1.0
    if any(_is_interface_failure_count(key, value) for key, value in attributes.items()):
        facts["sync_error"] = 1.0
    for key, value in lowered.items():
        if "ack" in _words(key) or "acknowledg" in key:
            text = str(value).strip().lower()
            missing = value is False or text in _FALSE
            facts["po_ack_missing" if missing else "po_ack_received"] = 1.0
        on_time = {"on", "time"} <= _words(key) or "ontime" in _words(key)
        if on_time and (value is True or str(value).lower() in _TRUE):
            facts["on_time"] = 1.0
        if {"customs", "export", "hazmat", "dg", "licence", "license"} & _words(key):
            text = str(value).strip().lower()
            if value is True or (text and not any(w in text for w in _CLEAR) and text != "false"):
                facts["compliance_flag"] = 1.0
            elif {"customs", "export"} & _words(key) and any(w in text for w in _CLEAR):
                # A customs or export filing status that reads clean: "accepted", "released".
                facts["compliance_clear"] = 1.0
    return facts


def _count_facts(attributes: Attributes) -> dict[str, float]:
    """Returns `count_agrees` when a physical count of the stock equals every book figure.

    `cycle_count_result: 48` beside `erp_on_hand: 48` and `wms_on_hand: 48`: somebody counted
    and the shelf holds what the systems say, so stock and book do not disagree. A count that
    differs from a book figure settles nothing here: the on-hand pairs read that.
    """
    counts, books = [], []
    for key, value in attributes.items():
        number = _number(value) if not isinstance(value, list) else None
        if number is None:
            continue
        words = _key_words(key)
        if words & _DIFFERENCE_WORDS:
            continue
        if _is_stock_count(words):
            counts.append(number)
        elif _is_book_figure(words):
            books.append(number)
    if not counts or not books:
        return {}
    if all(_relative_gap(c, b) <= _SAME for c in counts for b in books):
        return {"count_agrees": 1.0}
    return {}


def _is_book_figure(words: frozenset[str]) -> bool:
    """Tells whether a key names the stock a system holds: `erp_on_hand`, `book_qty`."""
    return "hand" in words or bool(
        {"book", "system"} & words and {"qty", "quantity", "stock"} & words
    )


def _is_stock_count(words: frozenset[str]) -> bool:
    """Tells whether a key names a count of the stock on the shelf, not of lines or retries."""
    if "counted" in words or ("cycle" in words and "count" in words):
        return True
    return "count" in words and bool({"physical", "phys", "result", "qty", "quantity"} & words)


def _error_state(value: Scalar | list[Scalar]) -> Literal["standing", "recovered"] | None:
    """Returns whether a sync or integration error value reports an error that stands, or one over.

    "timeout 3 days ago, retried OK" and "HTTP 429 - recovered" report errors that are over; an
    empty value or "none" reports no error.
    """
    text = str(value or "").strip().lower()
    if not text or text in _FALSE:
        return None
    return "recovered" if _RECOVERED.search(text) else "standing"


def _is_interface_failure_count(key: str, value: Scalar | list[Scalar]) -> bool:
    """Tells whether an attribute counts messages that failed between systems, and is above 0.

    `dead_letter_count: 1`, `edi_error_count: 3`, `failed_messages: 2`: a message stuck in a
    dead-letter or error queue is the integration failure itself, whatever the case's wording.
    """
    words = _words(key)
    dead = bool({"dead", "dlq"} & words)
    failed = bool({"error", "errors", "fail", "failed", "reject", "rejected"} & words)
    if not dead and not (failed and _INTERFACE_WORDS & words):
        return False
    number = _number(value) if not isinstance(value, list) else None
    return number is not None and number > 0


def _load_facts(attributes: Attributes) -> dict[str, float]:
    facts: dict[str, float] = {}
    backlog = next(
        (
            _number(v)
            for k, v in attributes.items()
            if "backlog" in _words(k) and not set(_BACKLOG_NORMS) & _words(k)
        ),
        None,
    )
    norm = None
    for word in _BACKLOG_NORMS:
        norm = norm if norm is not None else _find(attributes, ("backlog", word))
    if backlog is not None:
        facts["backlog_level"] = math.log1p(max(backlog, 0.0)) / math.log(1000.0)
        if norm is not None and norm > 0 and backlog != norm:
            facts["backlog_ratio"] = min(max(backlog / norm, 0.0), 5.0) / 5.0
            if backlog > 1.5 * norm:
                facts["backlog_high"] = 1.0
        if norm is not None and norm > 0 and backlog <= norm:
            facts["backlog_within_norm"] = 1.0
    if _labour_short(attributes):
        facts["labour_short"] = 1.0
    return facts


def _labour_short(attributes: Attributes) -> bool:
    """Returns whether the first planned/actual labour pair found shows fewer people than planned.

    Reads the same pair `_pair_facts` compares, so `labour_short` fires exactly when
    `labour_differs` does and the actual figure is the lower one.
    """
    for label, plan_key, actual_key in _PAIRS:
        if label != "labour":
            continue
        planned, actual = _find(attributes, plan_key), _find(attributes, actual_key)
        if planned is None or actual is None:
            continue
        return _relative_gap(planned, actual) > _SAME and actual < planned
    return False


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def digits_collapsed(text: str) -> str:
    """Returns lower-cased text with digit runs collapsed, so ids and quantities are not memorised."""
    return _DIGITS.sub("0", text.lower())
