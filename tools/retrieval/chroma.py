"""The Chroma context index, on disk or on a Chroma server; embeddings come from the injected Embedder."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence, Set
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from core.errors import ConfigurationError
from core.models import Case, LooseMessage, ResolvedCase
from core.plain_text import case_text
from core.results import SimilarCase
from tools.embedding.base import Embedder
from tools.retrieval.base import (
    HISTORY_COLLECTION,
    MESSAGES_COLLECTION,
    cosine_similarity,
    history_metadata,
    loose_message_text,
    similar_case,
)

_COSINE: CreateCollectionConfiguration = {"hnsw": {"space": "cosine"}}
_VECTOR_CACHE = 64


def open_client(path: Path | str, url: str | None = None) -> ClientAPI:
    """Returns a client of the Chroma server at `url`, or of the embedded index at `path`."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url is None:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"TRIAGE_CHROMA_URL must be http(s)://host[:port], not {url!r}")
    return chromadb.HttpClient(
        host=parts.hostname,
        port=parts.port or (443 if parts.scheme == "https" else 8000),
        ssl=parts.scheme == "https",
        settings=settings,
    )


class ChromaContextIndex:
    """Keeps history and loose messages in two cosine-space Chroma collections."""

    def __init__(self, path: Path | str, embedder: Embedder, *, url: str | None = None) -> None:
        self._embedder = embedder
        self._client: ClientAPI = open_client(path, url)
        self._batch = max(1, self._client.get_max_batch_size())
        self._history = self._collection(HISTORY_COLLECTION)
        self._messages = self._collection(MESSAGES_COLLECTION)
        # Retrieval asks both collections about the same case text; embed it once.
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add_history(self, items: list[ResolvedCase]) -> None:
        """Upserts resolved cases by case id, storing the resolution as metadata."""
        unique = {item.case_id: item for item in items}
        self._upsert(
            self._history,
            ids=list(unique),
            texts=[case_text(item) for item in unique.values()],
            metadatas=[history_metadata(item) for item in unique.values()],
        )

    def similar_history(
        self, case: Case, k: int, exclude_ids: Set[str] = frozenset()
    ) -> list[SimilarCase]:
        """Returns up to k resolved cases most similar to the case, best first."""
        # Asking for k + len(exclude_ids) and dropping the excluded afterwards is several times
        # cheaper than a metadata filter, which makes Chroma scan before it searches.
        hits = self._query(self._history, case_text(case), k + len(exclude_ids))
        kept = [(meta, dist) for _, meta, dist in hits if meta.get("case_id") not in exclude_ids]
        return [similar_case(meta, cosine_similarity(dist)) for meta, dist in kept[:k]]

    def add_messages(self, items: list[tuple[str, LooseMessage]]) -> None:
        """Upserts loose messages by message id."""
        unique = dict(items)
        self._upsert(
            self._messages,
            ids=list(unique),
            texts=[loose_message_text(message) for message in unique.values()],
            metadatas=[{"party": m.party.value, "at": m.at.isoformat()} for m in unique.values()],
        )

    def similar_messages(self, case: Case, k: int) -> list[tuple[str, float]]:
        """Returns up to k (message id, similarity) pairs most similar to the case, best first."""
        # Only ids and distances: fetching metadata made this query about half again as slow.
        hits = self._query(self._messages, case_text(case), k, with_metadata=False)
        return [(message_id, cosine_similarity(dist)) for message_id, _, dist in hits]

    def history_count(self) -> int:
        """Returns how many resolved cases are stored."""
        return self._count(self._history)

    def ping(self) -> int:
        """Counts the stored history from Chroma itself, raising when it cannot be reached."""
        return self._history.count()

    def reset(self) -> None:
        """Drops and recreates both collections."""
        with self._lock:
            self._counts.clear()
        for name in (HISTORY_COLLECTION, MESSAGES_COLLECTION):
            self._client.delete_collection(name)
        self._history = self._collection(HISTORY_COLLECTION)
        self._messages = self._collection(MESSAGES_COLLECTION)

    def _collection(self, name: str) -> Collection:
        # embedding_function=None keeps Chroma from instantiating its ONNX default, which
        # downloads a model on first use; every call below passes embeddings explicitly.
        collection = self._client.get_or_create_collection(
            name,
            embedding_function=None,
            configuration=_COSINE,
            metadata={"embedder": self._embedder.name},
        )
        if (collection.metadata or {}).get("embedder") == self._embedder.name:
            return collection
        # Vectors of another embedder (an index built before the default changed) are not
        # comparable and usually of another size; start empty and let the store refill history.
        self._client.delete_collection(name)
        return self._collection(name)

    def _upsert(
        self,
        collection: Collection,
        *,
        ids: list[str],
        texts: list[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        with self._lock:
            self._counts.pop(collection.name, None)
        for start in range(0, len(ids), self._batch):
            end = start + self._batch
            collection.upsert(
                ids=ids[start:end],
                # The texts are embedded but not stored: the store keeps them, and storing them
                # here made Chroma index every one for full-text search that is never queried
                # (40% of an import of 1,200 cases).
                embeddings=self._embedder.embed(texts[start:end]),  # type: ignore[arg-type]
                metadatas=list(metadatas[start:end]),
            )

    def _count(self, collection: Collection) -> int:
        with self._lock:
            cached = self._counts.get(collection.name)
        if cached is None:
            cached = collection.count()
            with self._lock:
                self._counts[collection.name] = cached
        return cached

    def _vector(self, text: str) -> list[float]:
        with self._lock:
            if text in self._vectors:
                self._vectors.move_to_end(text)
                return self._vectors[text]
        vector = self._embedder.embed([text])[0]
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > _VECTOR_CACHE:
                self._vectors.popitem(last=False)
        return vector

    def _query(
        self,
        collection: Collection,
        text: str,
        k: int,
        *,
        with_metadata: bool = True,
    ) -> list[tuple[str, dict[str, Any], float]]:
        available = self._count(collection)
        if k <= 0 or available == 0:
            return []
        result = collection.query(
            query_embeddings=[self._vector(text)],  # type: ignore[arg-type]
            n_results=min(k, available),
            include=["metadatas", "distances"] if with_metadata else ["distances"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        metadatas = (result["metadatas"] or [[{}] * len(ids)])[0]
        return [
            (i, dict(m or {}), float(d)) for i, m, d in zip(ids, metadatas, distances, strict=True)
        ]
