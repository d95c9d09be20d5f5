"""Feature extraction for the local classifier: text n-grams, structured facts and cue counts."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer

from agent.classifiers.cues import count_cues
from core.models import Case, Event, MatchedMessage, Scalar
from core.rendering import case_text, event_text

_DIGITS = re.compile(r"\d+")
_BLOCKED_CREDIT = ("block", "hold", "limit", "suspend", "stop", "over")
_FALSE = {"false", "no", "n", "0", "missing", "none"}
_NUMERIC_PAIRS = (
    ("erp_on_hand", "wms_on_hand", "onhand"),
    ("po_price", "invoice_price", "price"),
    ("qty_received", "qty_invoiced", "qty_match"),
    ("qty_ordered", "qty_received", "qty_receipt"),
)


@dataclass(frozen=True)
class Fragment:
    """A piece of a case to featurise: its text and its structured facts."""

    text: str
    facts: dict[str, float]


def normalise_text(text: str) -> str:
    """Returns lower-cased text with digit runs collapsed, so ids and quantities are not memorised."""
    return _DIGITS.sub("0", text.lower())


def case_fragment(case: Case, messages: Sequence[MatchedMessage] = ()) -> Fragment:
    """Returns the whole case, plus the loose messages retrieved for it, as one fragment."""
    loose = [_loose_text(m) for m in messages]
    text = "\n".join([case_text(case), *loose])
    facts = {f"wf={case.workflow.value}": 1.0}
    for event in case.events:
        facts.update(_event_facts(event))
    parties = [(m.party.value, m.direction.value) for m in case.messages]
    parties += [(m.party, "inbound") for m in messages]
    for party, direction in parties:
        facts[f"msg={party}:{direction}"] = 1.0
    if any(m.matched_by == "refs" for m in messages):
        facts["loose_by_refs"] = 1.0
    facts.update(attribute_facts(case.attributes))
    if case.sla_due_at is not None and case.detected_at > case.sla_due_at:
        facts["sla_breached"] = 1.0
    facts["n_events"] = math.log1p(len(case.events)) / 3.0
    facts.update(_cue_facts(text))
    return Fragment(text=text, facts=facts)


def event_fragment(event: Event) -> Fragment:
    """Returns one event alone as a fragment, for citing evidence."""
    text = event_text(event)
    return Fragment(text=text, facts={**_event_facts(event), **_cue_facts(text)})


def text_fragment(text: str, party: str) -> Fragment:
    """Returns one message text alone as a fragment, for citing evidence."""
    return Fragment(text=text, facts={f"msg={party}:inbound": 1.0, **_cue_facts(text)})


def matched_message_text(message: MatchedMessage) -> str:
    """Returns a retrieved loose message as text, in the same shape as a case message."""
    return _loose_text(message)


def _loose_text(message: MatchedMessage) -> str:
    subject = f"{message.subject}. " if message.subject else ""
    return f"{message.party} message: {subject}{message.body}"


def _event_facts(event: Event) -> dict[str, float]:
    facts = {f"sys={event.system.value}": 1.0, f"etype={normalise_text(event.type)}": 1.0}
    if event.code:
        facts[f"code={event.code.strip().upper()}"] = 1.0
    return facts


def _cue_facts(text: str) -> dict[str, float]:
    return {f"cue={cause}": math.log1p(n) for cause, n in count_cues(text).items()}


def attribute_facts(attributes: Mapping[str, Scalar | list[Scalar]]) -> dict[str, float]:
    """Returns facts derived from the case attributes that hold whatever the wording."""
    facts: dict[str, float] = {}
    for key, value in attributes.items():
        name = key.lower()
        if value is None or value == "" or value == []:
            continue
        facts[f"attr={name}"] = 1.0
        if isinstance(value, bool) or (isinstance(value, str) and len(value) <= 24):
            facts[f"attr={name}={normalise_text(str(value))}"] = 1.0
    facts.update(_pair_facts(attributes))
    facts.update(_status_facts(attributes))
    return facts


def _pair_facts(attributes: Mapping[str, Scalar | list[Scalar]]) -> dict[str, float]:
    facts: dict[str, float] = {}
    for left, right, label in _NUMERIC_PAIRS:
        a, b = _number(attributes.get(left)), _number(attributes.get(right))
        if a is None or b is None:
            continue
        gap = abs(a - b) / max(abs(a), abs(b), 1e-9)
        facts[f"{label}_differs" if gap > 0.005 else f"{label}_agrees"] = 1.0
        facts[f"{label}_gap"] = min(gap, 1.0)
    uoms = {str(v).strip().lower() for k, v in attributes.items() if "uom" in k.lower() and v}
    if len(uoms) > 1:
        facts["uom_differs"] = 1.0
    return facts


def _status_facts(attributes: Mapping[str, Scalar | list[Scalar]]) -> dict[str, float]:
    facts: dict[str, float] = {}
    credit = str(attributes.get("credit_status") or "").lower()
    if credit:
        blocked = any(word in credit for word in _BLOCKED_CREDIT)
        facts["credit_blocked" if blocked else "credit_ok"] = 1.0
    backlog = _number(attributes.get("wms_backlog_orders"))
    if backlog is not None:
        facts["backlog_level"] = math.log1p(max(backlog, 0.0)) / math.log(1000.0)
    if str(attributes.get("last_sync_error") or "").strip():
        facts["sync_error"] = 1.0
    ack = attributes.get("po_ack_received")
    if ack is not None:
        missing = ack is False or str(ack).strip().lower() in _FALSE
        facts["po_ack_missing" if missing else "po_ack_received"] = 1.0
    return facts


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


class FeatureSpace:
    """Turns fragments into one sparse matrix: word and char TF-IDF plus weighted facts."""

    def __init__(self, *, fact_weight: float = 1.0, char_weight: float = 1.0) -> None:
        self.fact_weight = fact_weight
        self.char_weight = char_weight
        self.words = TfidfVectorizer(
            preprocessor=normalise_text,
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            max_features=30_000,
            dtype=np.float64,
        )
        self.chars = TfidfVectorizer(
            preprocessor=normalise_text,
            analyzer="char_wb",
            ngram_range=(3, 5),
            min_df=3,
            sublinear_tf=True,
            max_features=40_000,
            dtype=np.float64,
        )
        self.facts = DictVectorizer(sparse=True)

    def fit_transform(self, fragments: Sequence[Fragment]) -> sparse.csr_matrix:
        """Learns vocabularies and fact names from the fragments and returns their rows."""
        texts = [f.text for f in fragments]
        return self._stack(
            self.words.fit_transform(texts),
            self.chars.fit_transform(texts),
            self.facts.fit_transform([f.facts for f in fragments]),
        )

    def transform(self, fragments: Sequence[Fragment]) -> sparse.csr_matrix:
        """Returns one feature row per fragment."""
        texts = [f.text for f in fragments]
        return self._stack(
            self.words.transform(texts),
            self.chars.transform(texts),
            self.facts.transform([f.facts for f in fragments]),
        )

    def _stack(self, words: Any, chars: Any, facts: Any) -> sparse.csr_matrix:
        blocks = [words, self.char_weight * chars, self.fact_weight * facts]
        return sparse.csr_matrix(sparse.hstack(blocks, format="csr"))
