"""Master data error: reference data such as UoM, item, location or hierarchy is wrong."""

from __future__ import annotations

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

VALIDATION_TYPES = (
    "validation_error",
    "posting_error",
    "master_data_check_failed",
    "document_rejected",
    "lookup_failed",
    "item_not_found",
    "uom_error",
)
UOM_DETAILS = (
    "UoM conversion missing: {uom_a}->{uom_b} for {sku}",
    "No conversion factor {uom_a}/{uom_b} ({sku})",
    "Quantity {qty} {uom_a} cannot be converted to base unit {uom_b}",
    "Received {qty} {uom_a}, PO ordered in {uom_b}: unit mismatch",
    "Case pack for {sku} is {pack} in WMS but 1 in ERP",
)
ITEM_DETAILS = (
    "Item {sku} not found in item master for site {site}",
    "Material {sku} not extended to plant {site}",
    "Unknown item {sku} on line {line}",
    "{sku} blocked: material status 'in creation'",
    "GTIN on ASN not mapped to any item",
    "Item {sku} has no storage type assigned",
)
LOCATION_DETAILS = (
    "Putaway location {loc} does not exist in ERP",
    "Storage bin {loc} not defined",
    "Location {loc} inactive in location master",
    "Ship-from location {site} missing for item",
)
PARTY_DETAILS = (
    "Ship-to {customer_id}-01 not assigned to sold-to {customer_id}",
    "Customer {customer_id} missing in sales org",
    "Partner function SH not maintained for {customer_id}",
    "Vendor {supplier_id} has no purchasing org data",
    "Payment terms missing on vendor {supplier_id}",
)
PRICE_DETAILS = (
    "No valid price condition PB00 for {sku}, valid-from {valid}",
    "Pricing condition expired {valid} for {sku}",
    "Contract price not maintained for {supplier_id}/{sku}",
    "Info record missing for {supplier_id} / {sku}",
)
STEWARD_SAYS = (
    "item {sku} was created last week but only extended to the main DC, not {site}",
    "the UoM on {sku} is wrong - should be {uom_a} of {pack}, master has {uom_b}",
    "bin {loc} was renamed in WMS but never set up in ERP",
    "new ship-to for {customer} never got linked to the parent account",
    "the contract price for {sku} wasn't loaded after the {valid} price change",
    "someone set the case pack on {sku} to 1, it's {pack} per case",
    "{sku} still has status 'in creation', nobody released the material",
)
SUPPLIER_SAYS = (
    "We ship {sku} in cases of {pack} per our catalogue; your PO lists the quantity in {uom_b}.",
    "Please note our new price list effective {valid} was agreed with your buyer; your system still uses the old contract price.",
    "The item number on your PO ({sku}) was superseded; we shipped the replacement part.",
    "Our invoice uses the agreed price; the PO seems to be on an expired price condition.",
    "We invoiced per case ({pack} EA); the PO was raised per each, hence the difference.",
    "The ship-to address on {po} does not match any delivery address we have for you.",
)
STALLED = (
    "document failed validation",
    "posting rejected",
    "item lookup failed",
    "unit of measure conversion failed",
)


def values(draft: Draft) -> dict[str, object]:
    """Returns this case's units, pack size and dates for phrasing, drawn on first use."""
    if "master" not in draft.facts:
        uom_a, uom_b = draft.rng.sample(["CS", "EA", "BX", "PAL", "PK", "CT"], 2)
        draft.facts["master"] = {
            "uom_a": uom_a,
            "uom_b": uom_b,
            "pack": draft.rng.choice((6, 10, 12, 24, 48)),
            "qty": draft.rng.randint(2, 300),
            "line": draft.rng.randint(1, 12),
            "valid": draft.words.pick(("2026-10-01", "10/1", "1 Oct", "Sept 1", "2026-09-15")),
        }
    return draft.facts["master"]


def frame(draft: Draft) -> None:
    """Adds the refs a master-data case points at."""
    draft.use_refs("skus")
    if draft.workflow in ("receiving", "invoice_match", "replenishment_approval"):
        draft.use_refs("po_id", "supplier_id")
    if draft.workflow == "invoice_match":
        draft.use_refs("invoice_id")
    if draft.workflow in ("order_release", "pick_pack"):
        draft.use_refs("order_id", "customer_id")


def uom_mismatch(draft: Draft) -> None:
    """A unit-of-measure conversion is missing or wrong."""
    facts = values(draft)
    draft.event(
        draft.words.pick(("ERP", "WMS", "MIDDLEWARE")),
        VALIDATION_TYPES,
        UOM_DETAILS,
        at=draft.ago(10, 500),
        fill=facts,
    )
    if draft.words.chance(0.7):
        draft.attributes[draft.words.pick(("uom_po", "po_uom", "order_uom"))] = facts["uom_b"]
        draft.attributes[draft.words.pick(("uom_received", "asn_uom", "uom_wms"))] = facts["uom_a"]
    if draft.words.chance(0.3):
        draft.attributes["uom_conversion_factor"] = None


def item_missing(draft: Draft) -> None:
    """The item is unknown or not set up for the site."""
    draft.event(
        draft.words.pick(("ERP", "WMS", "MIDDLEWARE")),
        VALIDATION_TYPES,
        ITEM_DETAILS,
        at=draft.ago(10, 500),
        fill=values(draft),
    )


def location_missing(draft: Draft) -> None:
    """A storage location does not exist in one system."""
    draft.event(
        draft.words.pick(("ERP", "WMS")),
        VALIDATION_TYPES,
        LOCATION_DETAILS,
        at=draft.ago(10, 500),
        fill=values(draft),
    )


def party_missing(draft: Draft) -> None:
    """A customer or vendor record is incomplete."""
    draft.event("ERP", VALIDATION_TYPES, PARTY_DETAILS, at=draft.ago(10, 500), fill=values(draft))


def price_condition(draft: Draft) -> None:
    """A pricing condition is missing or expired."""
    draft.event(
        draft.words.pick(("ERP", "FINANCE")),
        VALIDATION_TYPES,
        PRICE_DETAILS,
        at=draft.ago(10, 500),
        fill=values(draft),
    )


def steward_note(draft: Draft) -> None:
    """The master-data team or a planner spots the bad record."""
    draft.message(
        "internal",
        [draft.say(STEWARD_SAYS, **values(draft))],
        topic="master data",
        channel=draft.words.pick(("chat", "email", "chat")),
    )


def generic_validation(draft: Draft) -> None:
    """A vague validation failure that could have several reasons."""
    draft.event(
        draft.words.pick(("ERP", "MIDDLEWARE")),
        ("validation_failed", "posting_error"),
        (
            "Document failed validation ({k} errors)",
            "Posting rejected, see log",
            "Check failed on line {line}",
        ),
        at=draft.ago(5, 300),
        k=draft.rng.randint(1, 4),
        fill=values(draft),
    )


def loose_update(draft: Draft) -> None:
    """The supplier explains outside the case that the buyer's data is out of date."""
    draft.loose_message(
        "supplier",
        [draft.say(SUPPLIER_SAYS, **values(draft))],
        topic="PO data",
        ref_keys=("po_id", "supplier_id"),
        at=draft.ago(30, 1400),
    )


SCENARIO = CauseScenario(
    cause="master_data_error",
    workflows={
        "receiving": 3,
        "order_release": 3,
        "invoice_match": 2,
        "inventory_sync": 2,
        "replenishment_approval": 1,
        "pick_pack": 1,
    },
    frame=frame,
    strong=(
        uom_mismatch,
        item_missing,
        location_missing,
        party_missing,
        price_condition,
        steward_note,
    ),
    weak=(generic_validation,),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(generic_validation,),
)
