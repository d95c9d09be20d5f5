"""The one interface behind which the local and the LLM classifiers sit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, Field

from core.models import Case
from core.results import Evidence, MatchedMessage, SimilarCase


def is_evidence_about(case: Case, message: MatchedMessage) -> bool:
    """Tells whether a retrieved message may count as evidence about the case.

    A party-only match is context about the party (CONTRACT.md section 6), and a message whose
    refs name another document of a kind the case has (another PO, order, shipment or invoice)
    is about that document, however it was matched.
    """
    return message.is_evidence and not case.refs.conflicting_documents(message.document_refs)


@dataclass(frozen=True)
class ClassifierInput:
    """A case with the context retrieved for it; party-only messages are kept apart from evidence.

    Messages about another document of the same kind are dropped: they are neither evidence about
    the case nor the party background `party_context` holds.
    """

    case: Case
    similar: list[SimilarCase] = field(default_factory=list)
    messages: list[MatchedMessage] = field(default_factory=list)
    party_context: list[MatchedMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Every classifier reads `messages` as evidence, so a party-only match never reaches it.
        party = [m for m in self.messages if not m.is_evidence]
        evidence = [m for m in self.messages if is_evidence_about(self.case, m)]
        if len(evidence) != len(self.messages):
            object.__setattr__(self, "messages", evidence)
        if party:
            object.__setattr__(self, "party_context", [*self.party_context, *party])


class CauseScores(BaseModel):
    """A classifier's calibrated probability for every cause, before threshold and conformal sets."""

    probabilities: dict[str, float]
    evidence: Evidence = Field(default_factory=Evidence)
    classifier: str
    model: str | None = None
    rationale: str | None = None
    prompt_hash: str | None = None
    fallback_reason: str | None = None
    flags: list[str] = Field(default_factory=list)
    usage: dict[str, float] = Field(default_factory=dict)
    conformal_qhat: float | None = None


class Classifier(Protocol):
    """Scores a case against the taxonomy."""

    @property
    def name(self) -> str:
        """Returns the classifier's name as recorded in results (`local` or `llm`)."""
        ...

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns calibrated cause probabilities and the evidence that drove them."""
        ...
