"""The context index interface, and the record shapes every implementation shares."""

from __future__ import annotations

import json
from collections.abc import Mapping, Set
from typing import Protocol

from core.models import Case, LooseMessage, ResolvedCase
from core.plain_text import case_text, message_text
from core.results import SimilarCase

HISTORY_COLLECTION = "history"
MESSAGES_COLLECTION = "messages"
SUMMARY_CHARS = 240

Metadata = Mapping[str, str | int | float | bool | None]


class ContextIndex(Protocol):
    """Stores resolved history and loose messages and finds those similar to a case."""

    def add_history(self, items: list[ResolvedCase]) -> None:
        """Upserts resolved cases by case id."""
        ...

    def similar_history(
        self, case: Case, k: int, exclude_ids: Set[str] = frozenset()
    ) -> list[SimilarCase]:
        """Returns up to k resolved cases most similar to the case, best first."""
        ...

    def add_messages(self, items: list[tuple[str, LooseMessage]]) -> None:
        """Upserts loose messages by message id."""
        ...

    def similar_messages(self, case: Case, k: int) -> list[tuple[str, float]]:
        """Returns up to k (message id, similarity) pairs most similar to the case, best first."""
        ...

    def history_count(self) -> int:
        """Returns how many resolved cases are stored."""
        ...

    def reset(self) -> None:
        """Removes every stored case and message."""
        ...

    def ping(self) -> int:
        """Counts the stored history afresh, raising when the index cannot be reached."""
        ...


def case_summary(case: Case) -> str:
    """Returns a short one-line text of a case: workflow, stalled step and its first events."""
    text = " | ".join(case_text(case).splitlines())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def history_metadata(item: ResolvedCase) -> dict[str, str]:
    """Returns the resolution of a history case as flat metadata (lists as JSON strings)."""
    return {
        "case_id": item.case_id,
        "cause": item.resolution.cause,
        "actions": json.dumps(item.resolution.actions),
        "outcome": item.resolution.outcome,
        "summary": case_summary(item),
        "workflow": item.workflow.value,
    }


def similar_case(metadata: Metadata, similarity: float) -> SimilarCase:
    """Returns the SimilarCase stored under the metadata, with similarity clipped to [0, 1]."""
    return SimilarCase(
        case_id=str(metadata["case_id"]),
        similarity=min(1.0, max(0.0, similarity)),
        cause=str(metadata["cause"]),
        actions=list(json.loads(str(metadata.get("actions") or "[]"))),
        outcome=str(metadata.get("outcome") or ""),
        summary=str(metadata.get("summary") or ""),
    )


def loose_message_text(message: LooseMessage) -> str:
    """Returns the text embedded for a loose message."""
    return message_text(message)


def cosine_similarity(distance: float) -> float:
    """Returns the similarity in [0, 1] for a cosine distance in [0, 2]."""
    return min(1.0, max(0.0, 1.0 - distance))
