"""Compliance hold: customs, export, hazmat or other paperwork is missing or held."""

from __future__ import annotations

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

CUSTOMS_TYPES = (
    "customs_hold",
    "held_at_customs",
    "clearance_pending",
    "border_hold",
    "docs_missing",
    "status_exception",
    "exam_hold",
    "entry_rejected",
)
CUSTOMS_DETAILS = (
    "Held by customs at {port}: commercial invoice missing",
    "Customs exam at {port}, awaiting certificate of origin",
    "Entry rejected - HS code missing on line {line}",
    "Awaiting USMCA certificate for release",
    "Broker cannot file entry: packing list missing",
    "Held at {port} for document review",
    "CBP hold, FDA prior notice missing",
    "T1 transit document not closed at {port}",
    "Export declaration (EAD) missing, goods held at {port}",
    "Clearance pending: importer of record unclear",
)
HAZMAT_DETAILS = (
    "DG declaration missing for {un}, carrier refused",
    "Hazmat check failed: no SDS on file for {sku}",
    "Dangerous goods paperwork incomplete ({un})",
    "Lithium battery declaration missing",
    "Placards required for {un}, shipment held",
)
EXPORT_DETAILS = (
    "Export block: denied party screening pending for {customer_id}",
    "ECCN missing for {sku}",
    "Export license required, not on file",
    "Embargo check open, order blocked",
    "Sanctions screening hit (possible match), manual review",
)
BROKER_SAYS = (
    "We need the signed certificate of origin and the packing list to release {shipment}.",
    "Customs at {port} has placed {shipment} on hold pending a corrected commercial invoice.",
    "The entry was rejected because the HS classification is missing for {sku}.",
    "Please send the dangerous goods declaration for {un}; we cannot move the freight without it.",
    "Shipment is under customs examination at {port}. Expect 24-72h once docs are complete.",
    "The importer of record details are incomplete, broker cannot file.",
    "Docs needed: CI, PL, COO. Freight is sitting in bond at {port}.",
    "Our broker flagged {shipment}: value on invoice does not match declared value.",
)
INTERNAL_SAYS = (
    "trade compliance is holding {order}, screening still open",
    "we're missing the COO for {shipment}, who has it?",
    "hazmat paperwork wasn't printed for {un}, driver refused",
    "broker needs a new commercial invoice for {shipment}, values were off",
    "export docs for {order} never got sent to the forwarder",
)
ARRIVED_DETAILS = (
    "Arrived at border crossing {port}",
    "Arrived at port of entry {port}",
    "In bond at {port}",
    "Arrived {port}, awaiting clearance",
)
STALLED = (
    "awaiting customs clearance",
    "export documents pending",
    "held for compliance review",
    "dangerous goods documentation missing",
)


def values(draft: Draft) -> dict[str, object]:
    """Returns this case's hazmat number and line for phrasing."""
    return {
        "un": draft.words.pick(("UN1263", "UN3481", "UN1993", "UN3480", "UN1950", "UN2794")),
        "line": draft.rng.randint(1, 14),
    }


def frame(draft: Draft) -> None:
    """Adds shipment and order refs and a cross-border flag now and then."""
    draft.use_refs("shipment_id", "carrier")
    if draft.words.chance(0.8):
        draft.use_refs("order_id")
    if draft.words.chance(0.5):
        draft.use_refs("customer_id")
    if draft.words.chance(0.5):
        draft.use_refs("skus")
    if draft.words.chance(0.4):
        draft.attributes[draft.words.pick(("incoterm", "incoterms"))] = draft.words.pick(
            ("DDP", "DAP", "FCA", "EXW", "CPT")
        )


def customs_hold(draft: Draft) -> None:
    """The carrier or broker reports a customs hold, often with CA or BD."""
    draft.event(
        draft.words.pick(("CARRIER", "CARRIER", "TMS")),
        CUSTOMS_TYPES,
        CUSTOMS_DETAILS,
        at=draft.ago(30, 1500),
        code=draft.rng.choice(("CA", "CA", "BD", "BD", "AJ", None)),
        fill=values(draft),
    )
    if draft.words.chance(0.5):
        draft.attributes["customs_status"] = draft.words.pick(
            ("held", "exam", "pending_docs", "rejected")
        )


def hazmat_problem(draft: Draft) -> None:
    """Dangerous-goods paperwork is missing."""
    facts = values(draft)
    draft.event(
        draft.words.pick(("TMS", "WMS", "CARRIER")),
        ("dg_check_failed", "hazmat_hold", "dangerous_goods_exception", "pickup_refused"),
        HAZMAT_DETAILS,
        at=draft.ago(20, 600),
        fill=facts,
    )
    draft.attributes["hazmat"] = True
    if draft.words.chance(0.6):
        draft.attributes["un_number"] = facts["un"]


def export_screening(draft: Draft) -> None:
    """Export control or screening blocks the order."""
    draft.event(
        "ERP",
        ("export_block", "screening_hold", "trade_compliance_block"),
        EXPORT_DETAILS,
        at=draft.ago(20, 1200),
    )
    if draft.words.chance(0.5):
        draft.attributes["export_license_required"] = True


def broker_message(draft: Draft) -> None:
    """The carrier or customs broker asks for documents."""
    draft.message(
        "carrier", [draft.say(BROKER_SAYS, **values(draft))], topic="customs", at=draft.ago(10, 900)
    )


def internal_note(draft: Draft) -> None:
    """Trade compliance or shipping says papers are missing."""
    draft.message(
        "internal",
        [draft.say(INTERNAL_SAYS, **values(draft))],
        topic="docs",
        channel=draft.words.pick(("chat", "email", "phone_note")),
    )


def arrived_border(draft: Draft) -> None:
    """The freight reached a border or port, which alone proves nothing."""
    draft.event(
        "CARRIER",
        ("arrived_border", "arrived_port", "in_bond", "arrival_scan"),
        ARRIVED_DETAILS,
        at=draft.ago(120, 2500),
    )


def loose_update(draft: Draft) -> None:
    """The broker's document request arrives outside the case, keyed by the shipment."""
    draft.loose_message(
        "carrier",
        [draft.say(BROKER_SAYS, **values(draft))],
        topic="customs",
        ref_keys=("shipment_id",),
        at=draft.ago(10, 900),
    )


SCENARIO = CauseScenario(
    cause="compliance_hold",
    workflows={"delivery": 3, "shipment_confirmation": 3, "receiving": 2, "order_release": 2},
    frame=frame,
    strong=(customs_hold, hazmat_problem, export_screening, broker_message, internal_note),
    weak=(arrived_border,),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(arrived_border,),
)
