"""A case under construction: scenario cues add events, messages, refs and attributes to it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from evals.simulator.correspondence import make_message
from evals.simulator.wording import Wording
from evals.simulator.world import Setting, stamp

REF_ORDER = (
    "order_id",
    "shipment_id",
    "po_id",
    "invoice_id",
    "customer_id",
    "supplier_id",
    "carrier",
    "skus",
)

# The subject line of a message names the reference that party thinks in.
SUBJECT_REF = {"carrier": "shipment_id", "supplier": "po_id", "customer": "order_id"}


@dataclass
class Draft:
    """Collects the evidence of one simulated case before it is frozen into a case dict."""

    setting: Setting
    words: Wording
    workflow: str = ""
    stalled_step: str = ""
    refs: dict[str, object] = field(default_factory=dict)
    amount: dict[str, object] | None = None
    sla_due_at: datetime | None = None
    events: list[dict[str, object]] = field(default_factory=list)
    messages: list[dict[str, object]] = field(default_factory=list)
    attributes: dict[str, object] = field(default_factory=dict)
    loose: list[dict[str, object]] = field(default_factory=list)
    facts: dict[str, dict[str, object]] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)

    @property
    def rng(self) -> random.Random:
        """Returns the seeded random source shared by the whole simulation."""
        return self.words.rng

    def ref_value(self, key: str) -> object:
        """Returns the setting's value for one ref key."""
        s = self.setting
        values: dict[str, object] = {
            "order_id": s.order_id,
            "shipment_id": s.shipment_id,
            "po_id": s.po_id,
            "invoice_id": s.invoice_id,
            "customer_id": s.customer.id,
            "supplier_id": s.supplier.id,
            "carrier": s.carrier.name,
            "skus": list(s.skus),
        }
        return values[key]

    def use_refs(self, *keys: str) -> None:
        """Makes the case carry these refs, taking their values from the setting."""
        for key in keys:
            self.refs.setdefault(key, self.ref_value(key))

    def values(self, extra: dict[str, object]) -> dict[str, object]:
        """Returns the placeholders every phrasing may use, plus call-specific ones."""
        s = self.setting
        base: dict[str, object] = {
            "site": s.site,
            "area": s.area,
            "order": s.order_id,
            "shipment": s.shipment_id,
            "po": s.po_id,
            "invoice": s.invoice_id,
            "customer": s.customer.name,
            "customer_id": s.customer.id,
            "supplier": s.supplier.name,
            "supplier_id": s.supplier.id,
            "carrier": s.carrier.name,
            "sku": s.skus[0],
            "skus": ", ".join(s.skus),
            "loc": s.location,
            "door": s.door,
            "hub": s.hub,
            "port": s.port,
        }
        base.update(extra)
        return base

    def say(self, templates: Sequence[str], **extra: object) -> str:
        """Picks a phrasing and fills it with this case's names and numbers."""
        return self.words.fill(templates, self.values(extra))

    def ago(self, low: int, high: int) -> datetime:
        """Returns a moment between low and high minutes before detection."""
        return self.setting.detected_at - timedelta(minutes=self.rng.randint(low, high))

    def event(
        self,
        system: str,
        types: Sequence[str],
        details: Sequence[str],
        *,
        at: datetime | None = None,
        code: str | None = None,
        fill: dict[str, object] | None = None,
        **extra: object,
    ) -> None:
        """Adds one operational event with a varied type and detail."""
        extra = {**(fill or {}), **extra}
        moment = at or self.ago(5, 900)
        self.events.append(
            {
                "at": stamp(moment),
                "system": system,
                "type": self.words.pick(types),
                "detail": self.say(details, **extra),
                "code": code,
            }
        )

    def _org(self, party: str) -> tuple[str, str]:
        """Returns the organisation name and mail domain a party writes from."""
        s = self.setting
        if party == "carrier":
            return s.carrier.name, s.carrier.domain
        if party == "supplier":
            return s.supplier.name, s.supplier.domain
        if party == "customer":
            return s.customer.name, s.customer.domain
        return "ops", "ourco.example"

    def _build_message(
        self,
        party: str,
        sentences: list[str],
        topic: str,
        at: datetime,
        channel: str | None,
        direction: str,
    ) -> dict[str, object]:
        """Builds a message about this case's main reference for the party."""
        org, domain = self._org(party)
        ref_key = SUBJECT_REF.get(party, "order_id")
        return make_message(
            self.words,
            at=at,
            party=party,
            sentences=sentences,
            org=org,
            domain=domain,
            ref=str(self.ref_value(ref_key)),
            topic=topic,
            channel=channel,
            direction=direction,
        )

    def message(
        self,
        party: str,
        sentences: list[str],
        *,
        topic: str,
        at: datetime | None = None,
        channel: str | None = None,
        direction: str = "inbound",
    ) -> None:
        """Adds a message to the case's own communications."""
        moment = at or self.ago(5, 600)
        self.messages.append(
            self._build_message(party, sentences, topic, moment, channel, direction)
        )

    def loose_message(
        self,
        party: str,
        sentences: list[str],
        *,
        topic: str,
        ref_keys: Sequence[str],
        at: datetime | None = None,
        channel: str | None = None,
    ) -> dict[str, object]:
        """Adds a message that arrived outside the case, linked only by matching refs."""
        self.use_refs(*ref_keys)
        moment = at or self.ago(10, 720)
        message = self._build_message(party, sentences, topic, moment, channel, "inbound")
        message["refs"] = {key: self.refs[key] for key in ref_keys}
        self.loose.append(message)
        return message

    def to_case(self) -> dict[str, object]:
        """Freezes the draft into a contract-shaped case dict."""
        refs = self._frozen_refs()
        events = sorted(self.events, key=lambda e: str(e["at"]))
        if self.rng.random() < 0.12:
            self.rng.shuffle(events)
        case: dict[str, object] = {
            "case_id": self.setting.case_id,
            "workflow": self.workflow,
            "stalled_step": self.stalled_step,
            "detected_at": stamp(self.setting.detected_at),
            "sla_due_at": stamp(self.sla_due_at) if self.sla_due_at else None,
            "site": self.setting.site,
        }
        if self.rng.random() < 0.4:
            case["source_system"] = "orchestrator"
        case.update(
            {
                "refs": refs,
                "amount": self.amount,
                "events": events,
                "messages": sorted(self.messages, key=lambda m: str(m["at"])),
                "attributes": dict(self.attributes),
            }
        )
        return case

    def _frozen_refs(self) -> dict[str, object]:
        """Orders refs canonically and sometimes spells out the absent ones as null."""
        spell_nulls = self.rng.random() < 0.35
        refs: dict[str, object] = {}
        for key in REF_ORDER:
            if key in self.refs:
                refs[key] = self.refs[key]
            elif spell_nulls and key != "skus":
                refs[key] = None
        return refs
