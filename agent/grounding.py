"""Grounding: the domain evidence for a cause that the case's own documents hold.

The classifier's probability also rests on wording learnt from history, on similar cases and on
messages about other documents. None of those says what happened to this case, so an action may
run with no person only when the case itself, or a message about its own documents, carries a
cue phrase, a standard code or a decisive attribute fact for the decided cause; and only when
they hold nothing that says the decided cause's condition was checked and does not hold, that
nobody has established the cause, or that settles another cause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.classifiers.cleared import cleared_topics
from agent.classifiers.codes import code_cause, segment_codes
from agent.classifiers.cues import cleared_cues, count_cues, states_condition
from agent.classifiers.facts import FACT_CAUSES, attribute_facts
from agent.classifiers.receiver import receiver_stopped
from agent.classifiers.undetermined import undetermined_statements
from agent.proposing.sources import SourceText, evidence_texts
from core.models import Case
from core.results import MatchedMessage

# How many times less likely a cause is once the case's own documents say its condition was
# checked and does not hold ("customs released the entry", an invoice that agrees with the order,
# a credit status that reads ok). Such statements are rare in the history, where a resolved case
# carries its cause's evidence, so the model cannot learn their weight; a set likelihood ratio
# stands in, as for statements that the cause is undetermined (agent/classifiers/abstention.py).
# Chosen on the 24 older independent sets: 0.1 and 0.2 alike, 0.4 weaker
# (evals/results/issue-14.md, eleventh round).
COUNTERED_ODDS = 0.2
# At most this many causes are discounted, the most likely first.
MAX_COUNTERED = 3
# How many times likelier a cause is when the case's decisive attribute facts all point at it,
# beyond the weight the model learnt for them. In the history a cause's wording always comes with
# its fact, so the model spreads the weight over both (`price_differs` earns about 0.8 logits);
# out of the simulator the wording is missing and the fact alone is under-weighed. Chosen on the
# 24 older independent sets: x2 and x4 raised mean macro-F1 by 0.011 and 0.016, with 10 of 585
# and 16 of 629 automatic runs wrong against 9 of 537 (evals/results/issue-14.md, eleventh round).
BACKED_ODDS = 2.0
# Facts that two causes share: the ERP and the WMS disagreeing on stock is what a failed sync
# leaves as well as what a miscount does. A case holding one gets no backing at all.
_SHARED_FACTS = frozenset({"onhand_differs"})
# The counter evidence that says the cause's own condition does not hold; an undetermined cause
# is the abstention model's to weigh, and a conflicting fact is already a feature of the model.
_CHECKED_ABSENT = ("fact:", "cleared:", "receiver:")


@dataclass(frozen=True)
class Grounding:
    """What the case's own documents hold for the decided cause, and against it."""

    own: list[str]
    counter: list[str]


@dataclass(frozen=True)
class CaseReading:
    """The case's attribute facts and its texts about itself, read once for any number of causes."""

    case: Case
    facts: Mapping[str, float]
    texts: Sequence[SourceText]

    def own(self, cause: str) -> list[str]:
        """Returns what the case's own documents hold for the cause (see own_evidence)."""
        return _own(self.case, self.facts, self.texts, cause)

    def counter(self, cause: str) -> list[str]:
        """Returns what the case's own documents hold against the cause (see counter_evidence)."""
        return _counter(self.case, self.facts, self.texts, cause)

    def ground(self, cause: str) -> Grounding:
        """Returns the case's own evidence for the cause and its counter evidence."""
        return Grounding(own=self.own(cause), counter=self.counter(cause))

    def checked_absent(self, cause: str) -> bool:
        """Tells whether the case says the cause's condition was checked and does not hold."""
        return any(item.startswith(_CHECKED_ABSENT) for item in self.counter(cause))

    def backed_cause(self) -> str | None:
        """Returns the one cause every decisive attribute fact points at, if it is not countered."""
        present = [fact for fact in FACT_CAUSES if self.facts.get(fact)]
        causes = {FACT_CAUSES[fact] for fact in present}
        if len(causes) != 1 or _SHARED_FACTS.intersection(present):
            return None
        (cause,) = causes
        return None if self.checked_absent(cause) else cause

    def weigh_records(
        self, probabilities: Mapping[str, float], causes: Sequence[str]
    ) -> dict[str, float]:
        """Returns the probabilities weighed by what the case's own records say of `causes`.

        The cause the decisive facts back gets its odds times BACKED_ODDS. Then the most likely
        of `causes` is checked: a countered one has its odds cut by COUNTERED_ODDS, and the next
        most likely is checked, until one is not countered or MAX_COUNTERED have been. Each
        time the rest of the distribution, `unknown` included, grows or shrinks in proportion.
        """
        probs = dict(probabilities)
        backed = self.backed_cause()
        if backed is not None and backed in causes and backed in probs:
            probs = _with_odds(probs, backed, BACKED_ODDS)
        left = [c for c in causes if c in probs]
        for _ in range(MAX_COUNTERED):
            if not left:
                break
            top = max(left, key=lambda c: (probs[c], c))
            if not self.checked_absent(top):
                break
            probs = _with_odds(probs, top, COUNTERED_ODDS)
            left.remove(top)
        return probs


def read_case(case: Case, messages: Sequence[MatchedMessage]) -> CaseReading:
    """Reads the case's attribute facts and the texts that count as evidence about it."""
    return CaseReading(case, attribute_facts(case.attributes), evidence_texts(case, messages))


def ground(case: Case, messages: Sequence[MatchedMessage], cause: str) -> Grounding:
    """Returns the case's own evidence for the cause and its counter evidence, in one reading."""
    return read_case(case, messages).ground(cause)


def _with_odds(probs: Mapping[str, float], cause: str, ratio: float) -> dict[str, float]:
    """Returns the distribution with the cause's odds times `ratio`, the rest scaled to fit."""
    p = probs[cause]
    if p <= 0.0 or p >= 1.0:
        return dict(probs)
    weighed = p * ratio / (1.0 - p + p * ratio)
    scale = (1.0 - weighed) / (1.0 - p)
    return {c: weighed if c == cause else q * scale for c, q in probs.items()}


def own_evidence(case: Case, messages: Sequence[MatchedMessage], cause: str) -> list[str]:
    """Returns what in the case's own documents points at the cause: facts, codes and cue sources.

    Each item names its kind and where it sits: `fact:credit_blocked`, `code:C2`, `cue:event`.
    For a cause with condition cues (cues.CONDITION_CUES), a text's cue counts only where the text
    also states the condition: an import desk's broker, entry and HS code are not a hold.
    Retrieved messages count only when matched by this case's refs and naming no other document
    of the same kind; a text that also names another document counts by its sentences about ours.
    """
    return read_case(case, messages).own(cause)


def _own(
    case: Case, facts: Mapping[str, float], texts: Sequence[SourceText], cause: str
) -> list[str]:
    found = {f"fact:{fact}" for fact, c in FACT_CAUSES.items() if c == cause and facts.get(fact)}
    for event in case.events:
        codes = [*([event.code] if event.code else []), *segment_codes(event.detail or "")]
        found |= {f"code:{code.strip().upper()}" for code in codes if code_cause(code) == cause}
    for text in texts:
        said = statements(text.text)
        if count_cues(said).get(cause) and states_condition(said, cause):
            found.add(f"cue:{text.source.kind}")
    return sorted(found)


# A sentence ends at ".", "!" or "?" before a space, or at a line break; one ending in "?" asks.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n")


def statements(text: str) -> str:
    """Returns the text without its questions: "Is the carrier having trouble again?" guesses.

    A cue phrase in a question is somebody's hypothesis about the case, not a report of it.
    """
    if "?" not in text:
        return text
    return "\n".join(s for s in _SENTENCE_BREAK.split(text) if not s.rstrip().endswith("?"))


# Attribute facts that say a cause's condition was checked and is not there: the invoice agrees
# with the order on price and quantity, the carrier was on time, the warehouse's backlog is at or
# below its norm, the customs filing reads accepted or released, a physical count equals the book.
# Stock agreeing between the ERP and the WMS alone is not one: an inventory discrepancy is
# physical stock against the systems, which may agree with each other.
COUNTER_FACTS: dict[str, tuple[str, ...]] = {
    "inventory_discrepancy": ("count_agrees",),
    "pricing_mismatch": ("price_agrees", "qty_match_agrees"),
    "carrier_delay": ("on_time",),
    "warehouse_congestion": ("backlog_within_norm",),
    "compliance_hold": ("compliance_clear",),
}
# A credit status that plainly says the account is in order. facts.py reads every status without
# a blocking word as not blocked ("pending_review", "B"); holding an action back needs more.
_CREDIT_IN_ORDER = frozenset({"ok", "okay", "good", "approved", "released", "active", "clear"})


def counter_evidence(case: Case, messages: Sequence[MatchedMessage], cause: str) -> list[str]:
    """Returns what in the case's own documents says the cause's condition does not hold.

    `fact:price_agrees` or `fact:credit_in_order` when the attributes show the condition checked
    and absent (and no attribute fact supports the cause), `cleared:message` when a text names the
    cause's condition only to say it is fine or lifted ("customs released it", "no count
    variance"), `undetermined:message` when a text says nobody has established the cause ("can't
    call it", "root cause unclear") whatever cause was decided, `receiver:message` against a
    carrier delay when a text says the consignee refused or put off a delivery that was not late
    (agent/classifiers/receiver.py), and `conflict:credit_blocked` when an attribute fact that
    settles another cause is there too. A case often starts from a
    wrong guess that a later message corrects; the classifier may still follow the guess's
    wording, and a person should look before anything runs.
    """
    return read_case(case, messages).counter(cause)


def _counter(
    case: Case, facts: Mapping[str, float], texts: Sequence[SourceText], cause: str
) -> list[str]:
    # A decisive fact for another cause: the case's own records conflict with the decision.
    found = {
        f"conflict:{fact}" for fact, c in FACT_CAUSES.items() if c != cause and facts.get(fact)
    }
    if not any(facts.get(fact) for fact, c in FACT_CAUSES.items() if c == cause):
        found |= {f"fact:{fact}" for fact in COUNTER_FACTS.get(cause, ()) if facts.get(fact)}
        if cause == "credit_hold" and _credit_in_order(case):
            found.add("fact:credit_in_order")
    for text in texts:
        lowered = text.text.lower()
        if cleared_cues(text.text).get(cause) or cause in cleared_topics(lowered):
            found.add(f"cleared:{text.source.kind}")
        if undetermined_statements(text.text):
            found.add(f"undetermined:{text.source.kind}")
        if cause == "carrier_delay" and receiver_stopped(statements(text.text)):
            found.add(f"receiver:{text.source.kind}")
    return sorted(found)


def _credit_in_order(case: Case) -> bool:
    statuses = [
        str(value).strip().lower()
        for key, value in case.attributes.items()
        if "credit" in key.lower() and "status" in key.lower()
    ]
    return bool(statuses) and all(s in _CREDIT_IN_ORDER for s in statuses)
