"""The texts a parameter may be read from, each with its provenance; evidence about other documents is left out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.models import Case
from core.parameters.provenance import ParamSource
from core.results import MatchedMessage

# A PO number holds three digits or more and is not a price: "vs PO 1 520,00" and "PO 15.20"
# compare amounts with the PO's, they name no other PO.
_PO_MENTION = re.compile(
    r"\bP\.?O\.?\s*(?:#|no\.?|number)?\s*[:#-]?\s*"
    r"((?=[A-Z-]*\d[A-Z-]*\d[A-Z-]*\d)[A-Z0-9-]+)(?![A-Z0-9-]|[.,]\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SourceText:
    """One piece of text about the case, when it was written, and where it sits."""

    text: str
    at: datetime
    source: ParamSource

    def cite(self, span: str) -> ParamSource:
        """Returns this text's provenance narrowed to the span a value was read from."""
        return self.source.model_copy(update={"span": span})


def _normalised_po(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", value.upper()).removeprefix("PO")


def mentions_another_po(case: Case, text: str) -> bool:
    """Tells whether the text names a PO number other than the case's."""
    own = _normalised_po(case.refs.po_id) if case.refs.po_id else None
    return any(_normalised_po(m.group(1)) != own for m in _PO_MENTION.finditer(text))


def mentions_another_document(case: Case, text: str) -> bool:
    """Tells whether the text names another PO, or an id shaped like one of the case's documents."""
    return mentions_another_po(case, text) or bool(case.refs.other_documents_named(text))


def is_about_case(case: Case, message: MatchedMessage) -> bool:
    """Tells whether a retrieved message is evidence about this case's own documents."""
    if message.matched_by != "refs":
        return False  # similar or party-only messages are about other cases or the party at large
    return not case.refs.conflicting_documents(message.document_refs)


_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
# Where a reply's earlier mail starts: an Outlook header block or a client's "wrote:" line, in
# the languages partners write in. What follows is the history the reply answers.
_EARLIER_MAIL = re.compile(
    r"^[ \t]*(?:-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|oorspronkelijk bericht)\s*-{2,}"
    r"|(?:on|am|le|el|op)\b.{0,120}\b(?:wrote|schrieb|a écrit|escribió|schreef)\s*:"
    r"|from:.*\n[ \t]*(?:sent|date):)",
    re.IGNORECASE | re.MULTILINE,
)


def unquoted(body: str) -> str:
    """Returns what a message itself says: without quoted lines and the earlier mail it answers."""
    if (earlier := _EARLIER_MAIL.search(body)) is not None and body[: earlier.start()].strip():
        body = body[: earlier.start()]
    return _QUOTED_LINE.sub("", body)


def party_texts(
    case: Case, messages: Sequence[MatchedMessage], party: str, systems: Sequence[str]
) -> list[SourceText]:
    """Returns what one party said about this case: its inbound messages, events and matched ones.

    An outbound message to the party is our question, not its answer: a date in it is ours.
    """
    texts = [
        SourceText(unquoted(m.body), m.at, ParamSource(kind="message", index=i))
        for i, m in enumerate(case.messages)
        if m.party.value == party and m.direction.value == "inbound"
    ]
    texts += [
        SourceText(e.detail, e.at, ParamSource(kind="event", index=i))
        for i, e in enumerate(case.events)
        if e.system.value in systems and e.detail
    ]
    texts += [
        SourceText(unquoted(m.body), m.at, ParamSource(kind="message", message_id=m.message_id))
        for m in messages
        if m.party == party and is_about_case(case, m)
    ]
    return [kept for t in texts if (kept := own_part(case, t)) is not None]


_SENTENCE_END = re.compile(r"[.!?\n](?=\s|$)")


def own_part(case: Case, text: SourceText) -> SourceText | None:
    """Returns the text, or where it also names other documents only its sentences about ours.

    A sentence counts as ours when it names one of the case's documents and no other: one
    that names none may continue about the other document ("It ships on 12/20"), so it goes.
    """
    if not mentions_another_document(case, text.text):
        return text
    sentences = [s.strip() for s in _SENTENCE_END.split(text.text)]
    ours = [
        s
        for s in sentences
        if case.refs.names_own_document(s) and not mentions_another_document(case, s)
    ]
    return SourceText(" ".join(ours), text.at, text.source) if ours else None


def evidence_texts(case: Case, messages: Sequence[MatchedMessage]) -> list[SourceText]:
    """Returns every text about this case (stalled step, events, messages), each cut to its own part."""
    texts = [
        SourceText(
            case.stalled_step, case.detected_at, ParamSource(kind="case", keys=["stalled_step"])
        )
    ]
    texts += [
        SourceText(e.detail or e.type, e.at, ParamSource(kind="event", index=i))
        for i, e in enumerate(case.events)
    ]
    texts += [
        SourceText(
            f"{m.subject or ''} {unquoted(m.body)}", m.at, ParamSource(kind="message", index=i)
        )
        for i, m in enumerate(case.messages)
    ]
    texts += [
        SourceText(unquoted(m.body), m.at, ParamSource(kind="message", message_id=m.message_id))
        for m in messages
        if is_about_case(case, m)
    ]
    return [kept for t in texts if (kept := own_part(case, t)) is not None]


def latest_first(texts: Sequence[SourceText]) -> list[SourceText]:
    """Returns the texts newest first, so a revised value wins over the one it replaced."""
    return sorted(texts, key=lambda t: t.at, reverse=True)
