"""Domain models: the contract's case, history, message and eval-line shapes."""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    UrlConstraints,
)

from core.values import AttributeValue, CaseId, ExtraRefValue, FiniteFloat, Instant, Text

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Workflow(StrEnum):
    """The workflows whose stalled steps the orchestrator reports."""

    order_release = "order_release"
    backorder_resolution = "backorder_resolution"
    pick_pack = "pick_pack"
    shipment_confirmation = "shipment_confirmation"
    delivery = "delivery"
    supplier_confirmation = "supplier_confirmation"
    receiving = "receiving"
    replenishment_approval = "replenishment_approval"
    invoice_trigger = "invoice_trigger"
    invoice_match = "invoice_match"
    inventory_sync = "inventory_sync"
    returns_disposition = "returns_disposition"


class System(StrEnum):
    """Systems that emit operational events."""

    ERP = "ERP"
    WMS = "WMS"
    TMS = "TMS"
    CARRIER = "CARRIER"
    SUPPLIER = "SUPPLIER"
    FINANCE = "FINANCE"
    MIDDLEWARE = "MIDDLEWARE"
    CRM = "CRM"


class Channel(StrEnum):
    """Channels a message can arrive through."""

    email = "email"
    edi = "edi"
    portal = "portal"
    chat = "chat"
    phone_note = "phone_note"


class Direction(StrEnum):
    """Whether a message came in or went out."""

    inbound = "inbound"
    outbound = "outbound"


class Party(StrEnum):
    """Who is on the other side of a message."""

    supplier = "supplier"
    carrier = "carrier"
    customer = "customer"
    internal = "internal"


DOCUMENT_REFS = ("order_id", "po_id", "shipment_id", "invoice_id")
PARTY_REFS = ("supplier_id", "customer_id", "carrier")


def _id_shape(value: str) -> re.Pattern[str] | None:
    """Returns a pattern for identifiers shaped like this one, or None when it has no shape."""
    prefix = re.match(r"^([A-Za-z]+[-_ ]?)", value)
    if prefix and any(ch.isdigit() for ch in value):
        return re.compile(rf"\b{re.escape(prefix.group(1))}[A-Za-z0-9-]*\d[A-Za-z0-9]*\b", re.I)
    if value.isdigit() and len(value) >= 6:
        return re.compile(rf"\b{value[:3]}\d{{{len(value) - 3}}}\b")
    return None


class Refs(BaseModel):
    """Business references of a case; unknown keys are kept."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[Text, ExtraRefValue] = Field(init=False)

    order_id: Text | None = None
    shipment_id: Text | None = None
    po_id: Text | None = None
    invoice_id: Text | None = None
    customer_id: Text | None = None
    supplier_id: Text | None = None
    carrier: Text | None = None
    skus: list[Text] = Field(default_factory=list)

    def matching_keys(self) -> dict[str, str]:
        """Returns the document and supplier refs that identify a case to people and systems."""
        keys = ("po_id", "supplier_id", "shipment_id", "order_id", "invoice_id")
        return {k: v for k in keys if (v := getattr(self, k))}

    def document_keys(self) -> dict[str, str]:
        """Returns the document refs; only a shared one makes a loose message evidence."""
        return {k: v for k in DOCUMENT_REFS if (v := getattr(self, k))}

    def party_keys(self) -> dict[str, str]:
        """Returns the party refs; a shared one alone makes a loose message party context."""
        return {k: v for k in PARTY_REFS if (v := getattr(self, k))}

    def other_documents_named(self, text: str) -> list[str]:
        """Returns identifiers in the text shaped like one of these document refs but not it.

        An identifier is shaped like a ref when it shares the ref's letter prefix (PO-, SO-,
        LD-...) or, for an all-digit ref, its first three digits and its length.
        """
        named: list[str] = []
        for own in self.document_keys().values():
            pattern = _id_shape(own)
            found = {m.group(0).casefold() for m in pattern.finditer(text)} if pattern else set()
            named += sorted(found - {own.casefold()})
        return named

    def names_own_document(self, text: str) -> bool:
        """Tells whether the text names one of these document refs itself."""
        folded = text.casefold()
        return any(own.casefold() in folded for own in self.document_keys().values())

    def conflicting_documents(self, other: dict[str, str]) -> list[str]:
        """Returns the document refs that `other` names differently from these refs."""
        own = self.document_keys()
        return [k for k, v in other.items() if k in own and own[k] != v]


class Amount(BaseModel):
    """Money at stake in a case."""

    value: FiniteFloat = Field(ge=0)
    currency: Currency


class Event(BaseModel):
    """An operational event reported by one of the systems."""

    at: Instant
    system: System
    type: Text = Field(min_length=1, max_length=200)
    detail: Text | None = Field(default=None, max_length=20_000)
    code: Text | None = Field(default=None, max_length=20)


class Message(BaseModel):
    """A communication about a case; its body is untrusted text."""

    at: Instant
    channel: Channel
    direction: Direction
    party: Party
    sender: Text | None = None
    subject: Text | None = None
    body: Text = Field(max_length=20_000)


def _stored_url_fits(url: AnyUrl) -> AnyUrl:
    """Refuses a URL whose normalised form (percent-encoded, punycode) outgrows its column."""
    if len(str(url)) > 2048:
        raise ValueError("the URL is longer than 2,048 characters once normalised")
    return url


CallbackUrl = Annotated[
    AnyUrl,
    UrlConstraints(max_length=2048, allowed_schemes=["http", "https"]),
    AfterValidator(_stored_url_fits),
]


class Case(BaseModel):
    """A stalled-workflow case exactly as the orchestrator sends it (CONTRACT.md section 1)."""

    case_id: CaseId
    workflow: Workflow
    stalled_step: Text = Field(min_length=1)
    detected_at: Instant
    sla_due_at: Instant | None = None
    site: Text = Field(min_length=1, max_length=128)  # the width of the cases.site column
    source_system: Text = "orchestrator"
    refs: Refs = Field(default_factory=Refs)
    amount: Amount | None = None
    events: list[Event] = Field(default_factory=list, max_length=500)
    messages: list[Message] = Field(default_factory=list, max_length=200)
    attributes: dict[Text, AttributeValue] = Field(default_factory=dict)
    # An addition to the contract: where this case's callbacks go instead of its key's URL.
    callback_url: CallbackUrl | None = Field(
        default=None,
        description="Where this case's callbacks go instead of the API key's callback URL. It "
        "must fall under one of the key's allowed prefixes (by default the origin of the key's "
        "own callback URL); anything else is a 422.",
    )

    def digest(self) -> str:
        """Returns a stable SHA-256 of the case body, used for idempotent intake."""
        # Without a callback URL the body digests as it did before the field existed, so a
        # case stored earlier and sent again is still the same case.
        unset = {"callback_url"} if self.callback_url is None else set()
        return canonical_digest(self.model_dump(mode="json", exclude=unset))


class Resolution(BaseModel):
    """How a past case was finally resolved."""

    cause: Text
    actions: list[Text] = Field(default_factory=list)
    outcome: Text = ""
    resolved_at: Instant | None = None


class ResolvedCase(Case):
    """A resolved history case: the case shape plus its resolution (CONTRACT.md section 6)."""

    resolution: Resolution


class LooseMessage(Message):
    """A supplier or carrier message that arrived outside a case, with the refs it is about."""

    refs: Refs = Field(default_factory=Refs)

    def message_id(self) -> str:
        """Returns a content-derived id, so that importing a message twice stores it once."""
        return "MSG-" + canonical_digest(self.model_dump(mode="json"))[:20]


class Expected(BaseModel):
    """The label of an evaluation case."""

    cause: str
    actions: list[str] = Field(default_factory=list)
    # Action id -> the parameters a good triager would fill; a left-out one accepts any value.
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    notes: str | None = None


class EvalLine(BaseModel):
    """One line of an evaluation dataset (CONTRACT.md section 5)."""

    case: Case
    expected: Expected


def canonical_digest(data: Any) -> str:
    """Returns the SHA-256 hex digest of data serialised as canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
