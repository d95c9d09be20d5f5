"""Grounding: the domain evidence for a cause that the case's own documents hold.

The classifier's probability also rests on wording learnt from history, on similar cases and on
messages about other documents. None of those says what happened to this case, so an action may
run with no person only when the case itself, or a message about its own documents, carries a
cue phrase, a standard code or a decisive attribute fact for the decided cause.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.classifiers.codes import code_cause, segment_codes
from agent.classifiers.cues import count_cues
from agent.classifiers.facts import FACT_CAUSES, attribute_facts
from agent.proposing.sources import evidence_texts
from core.models import Case
from core.results import MatchedMessage


def own_evidence(case: Case, messages: Sequence[MatchedMessage], cause: str) -> list[str]:
    """Returns what in the case's own documents points at the cause: facts, codes and cue sources.

    Each item names its kind and where it sits: `fact:credit_blocked`, `code:C2`, `cue:event`.
    Retrieved messages count only when matched by this case's refs and naming no other document
    of the same kind; a text that also names another document counts by its sentences about ours.
    """
    found: set[str] = set()
    facts = attribute_facts(case.attributes)
    found |= {f"fact:{fact}" for fact, c in FACT_CAUSES.items() if c == cause and facts.get(fact)}
    for event in case.events:
        codes = [*([event.code] if event.code else []), *segment_codes(event.detail or "")]
        found |= {f"code:{code.strip().upper()}" for code in codes if code_cause(code) == cause}
    for text in evidence_texts(case, messages):
        if count_cues(text.text).get(cause):
            found.add(f"cue:{text.source.kind}")
    return sorted(found)
