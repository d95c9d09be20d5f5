"""Pricing mismatch: price, quantity or tax disagree between PO, receipt and invoice."""

from __future__ import annotations

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

MATCH_TYPES = (
    "match_failed",
    "three_way_match_failed",
    "invoice_blocked",
    "variance_detected",
    "price_variance",
    "qty_variance",
    "tolerance_exceeded",
    "invoice_parked",
)
PRICE_DETAILS = (
    "Price variance {pct}% exceeds tolerance {tol}%",
    "Unit price {inv_price} vs PO {po_price}",
    "Invoice {invoice} blocked: price difference {diff} per unit",
    "PPV {pct}% on {sku} over threshold",
    "Net price mismatch line {line}",
)
QTY_DETAILS = (
    "Qty variance: invoiced {qty_inv}, received {qty_rec}",
    "Invoice qty {qty_inv} > GR qty {qty_rec}",
    "Quantity mismatch on {invoice}: billed {qty_inv} EA, GR {qty_rec} EA",
    "Invoiced quantity exceeds goods receipt",
    "GR/IR imbalance {diff_qty} units",
)
TAX_DETAILS = (
    "Tax amount differs: invoice {tax_a}% vs PO {tax_b}%",
    "VAT code mismatch on {invoice}",
    "Freight charge on invoice not on PO",
    "Surcharge {diff} not agreed",
)
SUPPLIER_SAYS = {
    "price_over": (
        "Apologies, {invoice} was billed at the old list price. We will issue a credit note for the difference.",
        "Our billing team applied the wrong price on {invoice}; a corrected invoice will follow.",
        "You are right, the price on {invoice} should be {po_price}. We'll credit the variance.",
        "The price increase was applied to {invoice} too early, sorry. Credit memo on its way.",
        "We used next year's rate on {invoice} by mistake and will refund {diff} per unit.",
    ),
    "qty_over": (
        "We invoiced the full {qty_inv} units by mistake, only {qty_rec} were shipped. Credit memo to follow.",
        "{invoice} included the backordered lines in error; we will credit {diff_qty} units.",
        "Our system billed the ordered quantity, not the shipped one. Corrected invoice to follow.",
    ),
    "price_under": (
        "We noticed {invoice} was billed below the agreed price; a supplementary invoice will follow.",
        "The discount on {invoice} was applied twice on our side, a debit note will follow.",
    ),
    "qty_under": (
        "The invoice only covers {qty_inv} units; the remaining {diff_qty} will be billed separately.",
        "Please match {invoice} against the partial receipt; balance invoice to follow.",
    ),
    "tax": (
        "The fuel surcharge on {invoice} should not have been applied, sorry about that.",
        "Our tax code on {invoice} was wrong; we will reissue with the correct rate.",
        "The freight line on {invoice} was added automatically, please short-pay it.",
    ),
}
AP_SAYS = {
    "price": (
        "inv is {inv_price}/ea, PO says {po_price}, parked it",
        "price on {invoice} is {pct}% off the PO, need buyer to look",
        "supplier billed at a different rate than our PO has",
        "AP here: {invoice} is blocked for price, {diff} per unit difference",
        "unit price mismatch on {po}: {inv_price} vs {po_price}",
    ),
    "qty": (
        "{invoice} won't match - they billed {qty_inv} but we only received {qty_rec}",
        "GR says {qty_rec}, invoice says {qty_inv}. parked",
        "qty on {invoice} doesn't tie to the receipt, can receiving check?",
        "3-way match failing on {po}, quantities off by {diff_qty}",
    ),
    "tax": (
        "{invoice} has a tax/surcharge line that isn't on the PO",
        "VAT on {invoice} looks wrong, can't match it",
        "extra freight charge on {invoice}, not agreed on {po}",
    ),
}
STALLED = (
    "price variance block",
    "quantity variance block",
    "invoice blocked for payment",
    "tolerance check failed",
)


def values(draft: Draft) -> dict[str, object]:
    """Returns the PO, receipt and invoice figures of this case, drawn on first use."""
    if "pricing" not in draft.facts:
        po_price = round(draft.rng.uniform(0.8, 400), 2)
        qty_rec = draft.rng.randint(10, 2000)
        kind = draft.rng.choices(
            ("price_over", "qty_over", "price_under", "qty_under", "tax"), weights=(5, 3, 2, 2, 1)
        )[0]
        factor = draft.rng.uniform(1.03, 1.25)
        inv_price = round(po_price * factor, 2) if kind == "price_over" else po_price
        inv_price = round(po_price / factor, 2) if kind == "price_under" else inv_price
        qty_inv = (
            qty_rec + draft.rng.randint(1, max(2, qty_rec // 5)) if kind == "qty_over" else qty_rec
        )
        qty_inv = (
            qty_rec - draft.rng.randint(1, max(2, qty_rec // 3)) if kind == "qty_under" else qty_inv
        )
        draft.facts["pricing"] = {
            "kind": kind,
            "po_price": po_price,
            "inv_price": inv_price,
            "qty_rec": qty_rec,
            "qty_inv": max(qty_inv, 0),
            "pct": round(abs(inv_price / po_price - 1) * 100, 1),
            "tol": draft.rng.choice((1, 2, 2.5, 5)),
            "diff": round(abs(inv_price - po_price), 2),
            "diff_qty": abs(qty_inv - qty_rec),
            "line": draft.rng.randint(1, 9),
            "tax_a": draft.rng.choice((19, 20, 8.25, 13)),
            "tax_b": draft.rng.choice((7, 0, 5, 16)),
        }
    return draft.facts["pricing"]


def frame(draft: Draft) -> None:
    """Adds invoice refs and the structured price and quantity facts."""
    draft.use_refs("invoice_id", "po_id", "supplier_id")
    if draft.words.chance(0.4):
        draft.use_refs("skus")
    facts = values(draft)
    draft.attributes["po_price"] = facts["po_price"]
    draft.attributes["invoice_price"] = facts["inv_price"]
    if str(facts["kind"]).startswith("qty") or draft.words.chance(0.6):
        draft.attributes["qty_received"] = facts["qty_rec"]
        draft.attributes["qty_invoiced"] = facts["qty_inv"]


def match_event(draft: Draft) -> None:
    """The match engine reports which variance broke tolerance."""
    facts = values(draft)
    kind = str(facts["kind"])
    bank = (
        PRICE_DETAILS
        if kind.startswith("price")
        else QTY_DETAILS
        if kind.startswith("qty")
        else TAX_DETAILS
    )
    draft.event(
        draft.words.pick(("FINANCE", "FINANCE", "ERP")),
        MATCH_TYPES,
        bank,
        at=draft.ago(5, 600),
        fill=facts,
    )


def supplier_reply(draft: Draft) -> None:
    """The supplier acknowledges the billing difference."""
    draft.message("supplier", supplier_sentences(draft), topic="invoice", at=draft.ago(5, 900))


def supplier_sentences(draft: Draft) -> list[str]:
    """Writes the supplier's explanation of the billing difference."""
    facts = values(draft)
    return [draft.say(SUPPLIER_SAYS[str(facts["kind"])], **facts)]


def ap_note(draft: Draft) -> None:
    """An AP clerk notes the mismatch."""
    facts = values(draft)
    family = str(facts["kind"]).split("_")[0]
    draft.message(
        "internal",
        [draft.say(AP_SAYS[family], **facts)],
        topic="invoice",
        channel=draft.words.pick(("chat", "email", "chat")),
    )


def goods_receipt(draft: Draft) -> None:
    """The goods receipt was posted, which every invoice case shares."""
    draft.event(
        draft.words.pick(("ERP", "WMS")),
        ("goods_receipt", "gr_posted", "receipt_posted"),
        (
            "GR for {po}: {qty_rec} EA received",
            "Receipt posted {qty_rec} units",
            "Goods receipt complete for {po}",
        ),
        at=draft.ago(1500, 9000),
        fill=values(draft),
    )


def invoice_received(draft: Draft) -> None:
    """The invoice arrived, which every invoice case shares."""
    draft.event(
        draft.words.pick(("FINANCE", "MIDDLEWARE")),
        ("invoice_received", "810_received", "invoice_captured"),
        (
            "EDI 810 received for {invoice}",
            "Invoice {invoice} scanned (OCR)",
            "Invoice {invoice} captured from supplier portal",
        ),
        at=draft.ago(60, 3000),
    )


def loose_update(draft: Draft) -> None:
    """The supplier admits the billing error outside the case."""
    draft.loose_message(
        "supplier",
        supplier_sentences(draft),
        topic="invoice",
        ref_keys=("po_id", "supplier_id"),
        at=draft.ago(10, 900),
    )


SCENARIO = CauseScenario(
    cause="pricing_mismatch",
    workflows={"invoice_match": 7, "invoice_trigger": 3},
    frame=frame,
    strong=(match_event, supplier_reply, ap_note),
    weak=(goods_receipt, invoice_received),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(match_event, ap_note),
)
