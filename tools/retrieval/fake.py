"""An in-memory context index with the Chroma adapter's behaviour, for tests and evals."""

from __future__ import annotations

from collections.abc import Set

import numpy as np

from core.models import Case, LooseMessage, ResolvedCase
from core.plain_text import case_text
from core.results import SimilarCase
from tools.embedding.base import Embedder
from tools.retrieval.base import (
    Metadata,
    history_metadata,
    loose_message_text,
    similar_case,
)


class _Store:
    """Vectors and metadata by id, searched by exact cosine similarity."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[np.ndarray, Metadata]] = {}

    def upsert(self, ids: list[str], vectors: list[list[float]], metas: list[Metadata]) -> None:
        for row_id, vector, meta in zip(ids, vectors, metas, strict=True):
            self.rows[row_id] = (np.asarray(vector, dtype=np.float64), meta)

    def nearest(
        self, query: list[float], k: int, exclude: Set[str]
    ) -> list[tuple[str, Metadata, float]]:
        candidates = [(i, v, m) for i, (v, m) in self.rows.items() if i not in exclude]
        if k <= 0 or not candidates:
            return []
        q = np.asarray(query, dtype=np.float64)
        matrix = np.stack([v for _, v, _ in candidates])
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0)
        scores = matrix @ q / np.where(norms == 0, 1.0, norms)
        # A stable sort on the negated score keeps ties in insertion order, deterministically.
        order = np.argsort(-scores, kind="stable")[:k]
        return [(candidates[i][0], candidates[i][2], float(scores[i])) for i in order]


class FakeContextIndex:
    """Keeps history and loose messages in memory and ranks them by cosine similarity."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._history = _Store()
        self._messages = _Store()

    def add_history(self, items: list[ResolvedCase]) -> None:
        """Upserts resolved cases by case id."""
        unique = {item.case_id: item for item in items}
        vectors = self._embedder.embed([case_text(item) for item in unique.values()])
        self._history.upsert(list(unique), vectors, [history_metadata(i) for i in unique.values()])

    def similar_history(
        self, case: Case, k: int, exclude_ids: Set[str] = frozenset()
    ) -> list[SimilarCase]:
        """Returns up to k resolved cases most similar to the case, best first."""
        query = self._embedder.embed([case_text(case)])[0]
        hits = self._history.nearest(query, k, exclude_ids)
        return [similar_case(meta, score) for _, meta, score in hits]

    def add_messages(self, items: list[tuple[str, LooseMessage]]) -> None:
        """Upserts loose messages by message id."""
        unique = dict(items)
        vectors = self._embedder.embed([loose_message_text(m) for m in unique.values()])
        self._messages.upsert(
            list(unique), vectors, [{"party": m.party.value} for m in unique.values()]
        )

    def similar_messages(self, case: Case, k: int) -> list[tuple[str, float]]:
        """Returns up to k (message id, similarity) pairs most similar to the case, best first."""
        query = self._embedder.embed([case_text(case)])[0]
        hits = self._messages.nearest(query, k, frozenset())
        return [(message_id, min(1.0, max(0.0, score))) for message_id, _, score in hits]

    def history_count(self) -> int:
        """Returns how many resolved cases are stored."""
        return len(self._history.rows)

    def ping(self) -> int:
        """Returns how many resolved cases are stored; memory is always reachable."""
        return len(self._history.rows)

    def reset(self) -> None:
        """Removes every stored case and message."""
        self._history = _Store()
        self._messages = _Store()
