"""Scores proposed action parameters against a label's `expected.params` (CONTRACT.md section 5).

A parameter the label leaves out accepts any value. Values compare by the type the taxonomy
declares: dates as dates, timestamps as instants, numbers within a small tolerance, ids and
enums case-insensitively, free text by its words, lists and maps item by item.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from core.models import Case
from core.parameters.provenance import ParamSource
from core.results import TriageResult
from core.taxonomy import Taxonomy

Verdict = Literal["right", "wrong", "missing"]
ABS_TOLERANCE = 0.01
REL_TOLERANCE = 0.005
INSTANT_TOLERANCE = timedelta(minutes=1)
_WORD = re.compile(r"[a-z0-9]+")


class ParamCheck(BaseModel):
    """One labelled parameter of a proposed action: what was expected, proposed, and the verdict."""

    action: str
    param: str
    expected: Any
    proposed: Any
    verdict: Verdict


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _instant(value: Any) -> datetime | None:
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _day(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        return None


def _words(value: Any) -> list[str]:
    return _WORD.findall(str(value).casefold().replace("_", " "))


def _same_text(expected: Any, proposed: Any) -> bool:
    """Tells whether two texts say the same: equal words, or one's words all within the other's."""
    want, have = _words(expected), _words(proposed)
    if not want or not have:
        return want == have
    return set(want) <= set(have) or set(have) <= set(want)


def same_value(kind: str, expected: Any, proposed: Any) -> bool:
    """Tells whether a proposed value equals the expected one for a parameter of this type."""
    if kind in ("integer", "number"):
        want, have = _number(expected), _number(proposed)
        if want is None or have is None:
            return False
        return math.isclose(want, have, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)
    if kind == "datetime":
        want_at, have_at = _instant(expected), _instant(proposed)
        return bool(want_at and have_at and abs(want_at - have_at) <= INSTANT_TOLERANCE)
    if kind == "date":
        want_day, have_day = _day(expected), _day(proposed)
        return want_day is not None and want_day == have_day
    if kind == "string_list":
        return _same_items(expected, proposed)
    if kind == "map":
        if not isinstance(expected, Mapping) or not isinstance(proposed, Mapping):
            return False
        return all(_same_text(v, proposed.get(k, "")) for k, v in expected.items())
    if kind == "string":
        return _same_text(expected, proposed)
    return str(expected).strip().casefold() == str(proposed).strip().casefold()


def _same_items(expected: Any, proposed: Any) -> bool:
    """Tells whether two lists name the same items, each matched as text, in any order."""
    want = expected if isinstance(expected, list) else [expected]
    have = proposed if isinstance(proposed, list) else [proposed]
    covered = all(any(_same_text(w, h) for h in have) for w in want)
    return covered and all(any(_same_text(w, h) for w in want) for h in have)


def check_params(
    expected: Mapping[str, Mapping[str, Any]], result: TriageResult | None, taxonomy: Taxonomy
) -> tuple[list[ParamCheck], int]:
    """Returns the labelled parameters of the proposed actions checked, and all values proposed."""
    if result is None:
        return [], 0
    checks: list[ParamCheck] = []
    proposed_values = 0
    for proposal in result.proposals:
        params = proposal.params
        proposed_values += sum(not _empty(v) for v in params.values())
        spec = taxonomy.action_index.get(proposal.action)
        for name, want in expected.get(proposal.action, {}).items():
            have = params.get(name)
            declared = spec.params.get(name) if spec else None
            kind = declared.type if declared else "string"
            verdict: Verdict = (
                "missing"
                if _empty(have)
                else ("right" if same_value(kind, want, have) else "wrong")
            )
            checks.append(
                ParamCheck(
                    action=proposal.action,
                    param=name,
                    expected=want,
                    proposed=have,
                    verdict=verdict,
                )
            )
    return checks, proposed_values


# ---- values sourced from another document ----------------------------------------------------


def names_other_document(case: Case, text: str) -> bool:
    """Tells whether a text names a document of the case's kinds but never the case's own."""
    return bool(case.refs.other_documents_named(text)) and not case.refs.names_own_document(text)


_SENTENCE_END = re.compile(r"[.;!?\n](?=\s|$)")


def _sentence_around(text: str, span: str | None) -> str:
    """Returns the sentence of the text that holds the span, or the whole text without one."""
    where = text.find(span) if span else -1
    if where < 0 or not span:
        return text
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, where)]
    end = _SENTENCE_END.search(text, where + len(span))
    return text[(starts[-1] if starts else 0) : end.end() if end else len(text)]


def _source_text(case: Case, source: ParamSource) -> str | None:
    if source.index is None:
        return None
    if source.kind == "event" and source.index < len(case.events):
        event = case.events[source.index]
        return f"{event.type} {event.detail or ''}"
    if source.kind == "message" and source.index < len(case.messages):
        message = case.messages[source.index]
        return f"{message.subject or ''} {message.body}"
    return None


def other_document_params(case: Case, result: TriageResult | None) -> list[str]:
    """Returns `action.param` for each proposed value whose source is about another document."""
    if result is None:
        return []
    matched = {m.message_id: m for m in result.matched_messages}
    found = []
    for proposal in result.proposals:
        for name, source in proposal.provenance.items():
            if _empty(proposal.params.get(name)):
                continue
            if source.message_id is not None:
                message = matched.get(source.message_id)
                other = message is None or message.matched_by != "refs"
                other = other or bool(
                    message and case.refs.conflicting_documents(message.document_refs)
                )
            else:
                # The sentence a value was read from decides: a message about two orders is
                # about this case only where it names this case's document.
                text = _source_text(case, source)
                sentence = _sentence_around(text, source.span) if text is not None else None
                other = sentence is not None and names_other_document(case, sentence)
            if other:
                found.append(f"{proposal.action}.{name}")
    return found
