"""Context retrieval: the Chroma adapter and the in-memory fake behave alike, offline."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.models import Case, LooseMessage, ResolvedCase
from tests.support.cases import make_case
from tools.embedding.hashing import HashingEmbedder
from tools.retrieval.base import ContextIndex
from tools.retrieval.fake import FakeContextIndex

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

_STORIES = {
    "carrier_cutoff_missed": "Driver departed at 16:30, trailer full; pickup missed",
    "credit_hold": "Customer over credit limit, finance hold applied",
    "integration_failure": "HTTP 503 from ERP, message moved to dead letter queue",
    "pricing_mismatch": "Invoice price variance exceeds tolerance, three-way match failed",
}


def make_detail_case(case_id: str, detail: str, **over: Any) -> Case:
    """Returns a case with one event carrying the detail."""
    body: dict[str, Any] = {
        "case_id": case_id,
        "workflow": "shipment_confirmation",
        "stalled_step": "stalled",
        "detected_at": AT,
        "site": "DC-ATL",
        "events": [{"at": AT, "system": "WMS", "type": "note", "detail": detail}],
    }
    return Case.model_validate(make_case(**{**body, **over}))


def make_resolved(
    case_id: str, cause: str, actions: tuple[str, ...] = ("route_to_team",)
) -> ResolvedCase:
    """Returns a resolved case whose text tells the cause's story."""
    case = make_detail_case(case_id, _STORIES[cause])
    resolution = {"cause": cause, "actions": list(actions), "outcome": f"fixed {case_id}"}
    return ResolvedCase.model_validate({**case.model_dump(), "resolution": resolution})


def make_message(body: str) -> tuple[str, LooseMessage]:
    """Returns a loose message with its content-derived id."""
    message = LooseMessage(at=AT, channel="email", direction="inbound", party="carrier", body=body)
    return message.message_id(), message


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any internet connection or ONNX model download attempted during the test."""
    from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2

    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(self, address)

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("Chroma tried to use its default ONNX embedding model")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "__call__", refuse)
    monkeypatch.setattr(
        onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "_download_model_if_not_exists", refuse
    )


def chroma(path: Path) -> ContextIndex:
    """Returns a Chroma index on the path with the hashing embedder."""
    from tools.retrieval.chroma import ChromaContextIndex

    return ChromaContextIndex(path, HashingEmbedder(dimension=256))


def fake(_: Path) -> ContextIndex:
    """Returns an in-memory index with the hashing embedder."""
    return FakeContextIndex(HashingEmbedder(dimension=256))


Factory = Callable[[Path], ContextIndex]
both = pytest.mark.parametrize("build", [chroma, fake], ids=["chroma", "fake"])


def seed_history(index: ContextIndex) -> None:
    """Adds two cases per cause."""
    index.add_history([make_resolved(f"H-{c}-{i}", c) for c in _STORIES for i in range(2)])


@both
def test_similar_history_ranks_the_matching_cause_first_with_its_resolution(
    build: Factory, tmp_path: Path, offline: None
) -> None:
    index = build(tmp_path)
    seed_history(index)
    query = make_detail_case(
        "Q-1", "carrier driver left early, the trailer was full, pickup missed"
    )
    hits = index.similar_history(query, k=3)
    assert len(hits) == 3
    assert hits[0].cause == "carrier_cutoff_missed"
    assert hits[0].actions == ["route_to_team"]
    assert hits[0].outcome.startswith("fixed H-carrier_cutoff_missed")
    assert "trailer full" in hits[0].summary
    assert all(0.0 <= h.similarity <= 1.0 for h in hits)
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)


@both
def test_similar_history_leaves_out_excluded_ids(
    build: Factory, tmp_path: Path, offline: None
) -> None:
    index = build(tmp_path)
    seed_history(index)
    query = make_detail_case("Q-1", _STORIES["credit_hold"])
    excluded = {"H-credit_hold-0"}
    hits = index.similar_history(query, k=8, exclude_ids=excluded)
    assert len(hits) == 7
    assert excluded.isdisjoint(h.case_id for h in hits)
    assert hits[0].case_id == "H-credit_hold-1"


@both
def test_upserting_the_same_cases_twice_stores_them_once(
    build: Factory, tmp_path: Path, offline: None
) -> None:
    index = build(tmp_path)
    seed_history(index)
    seed_history(index)
    assert index.history_count() == 8
    relabelled = make_resolved("H-credit_hold-0", "credit_hold", actions=("release_credit_hold",))
    index.add_history([relabelled])
    hits = index.similar_history(make_detail_case("Q", _STORIES["credit_hold"]), k=8)
    assert index.history_count() == 8
    assert next(h for h in hits if h.case_id == "H-credit_hold-0").actions == [
        "release_credit_hold"
    ]


@both
def test_messages_are_found_by_similarity(build: Factory, tmp_path: Path, offline: None) -> None:
    index = build(tmp_path)
    ids = [make_message(body) for body in _STORIES.values()]
    index.add_messages(ids)
    index.add_messages(ids[:1])
    hits = index.similar_messages(
        make_detail_case("Q", "over the credit limit, finance placed a hold"), k=2
    )
    assert len(hits) == 2
    assert hits[0][0] == ids[1][0]
    assert 0.0 <= hits[1][1] <= hits[0][1] <= 1.0


@both
def test_empty_index_and_zero_k_return_nothing(
    build: Factory, tmp_path: Path, offline: None
) -> None:
    index = build(tmp_path)
    assert index.similar_history(make_detail_case("Q", "anything"), k=5) == []
    assert index.similar_messages(make_detail_case("Q", "anything"), k=5) == []
    seed_history(index)
    assert index.similar_history(make_detail_case("Q", "anything"), k=0) == []


@both
def test_reset_removes_every_case_and_message(
    build: Factory, tmp_path: Path, offline: None
) -> None:
    index = build(tmp_path)
    seed_history(index)
    index.add_messages([make_message("hello")])
    index.reset()
    assert index.history_count() == 0
    assert index.similar_messages(make_detail_case("Q", "hello"), k=3) == []


def test_chroma_persists_across_a_new_client_on_the_same_path(
    tmp_path: Path, offline: None
) -> None:
    seed_history(chroma(tmp_path))
    reopened = chroma(tmp_path)
    assert reopened.history_count() == 8
    hits = reopened.similar_history(make_detail_case("Q", _STORIES["pricing_mismatch"]), k=1)
    assert hits[0].cause == "pricing_mismatch"


def test_chroma_batches_upserts_above_the_client_maximum(tmp_path: Path, offline: None) -> None:
    from tools.retrieval.chroma import ChromaContextIndex

    index = ChromaContextIndex(tmp_path, HashingEmbedder(dimension=64))
    index._batch = 3  # what a tiny server limit would impose
    index.add_history([make_resolved(f"H-{i}", "credit_hold") for i in range(10)])
    assert index.history_count() == 10


def test_chroma_keeps_vectors_and_metadata_but_not_the_texts(tmp_path: Path, offline: None) -> None:
    # The store keeps the texts; stored in Chroma too, each would also be indexed for a
    # full-text search nothing runs.
    import chromadb
    from chromadb.config import Settings

    index = chroma(tmp_path)
    seed_history(index)
    index.add_messages([make_message("trailer left without the pallets")])
    client = chromadb.PersistentClient(
        path=str(tmp_path), settings=Settings(anonymized_telemetry=False)
    )
    for name in ("history", "messages"):
        stored = client.get_collection(name).get(include=["documents", "metadatas"])
        assert stored["ids"]
        assert stored["documents"] == [None] * len(stored["ids"])
    history = client.get_collection("history").get(include=["metadatas"])
    assert all(meta and meta["cause"] for meta in history["metadatas"] or [])


def test_chroma_drops_vectors_of_another_embedder_instead_of_mixing_them(
    tmp_path: Path, offline: None
) -> None:
    # An index built with the old default (768-dim hashing) must not break queries with a new
    # 256-dim embedder; it starts empty and the learner refills history from the store.
    from tools.retrieval.chroma import ChromaContextIndex

    seed_history(chroma(tmp_path))
    reopened = ChromaContextIndex(tmp_path, HashingEmbedder(dimension=64))
    assert reopened.history_count() == 0
    assert reopened.similar_history(make_detail_case("Q", _STORIES["credit_hold"]), k=1) == []
    seed_history(reopened)
    assert reopened.similar_history(make_detail_case("Q", _STORIES["credit_hold"]), k=1)[
        0
    ].cause == ("credit_hold")


def test_chroma_ranks_history_with_the_default_pretrained_embedder(
    tmp_path: Path, offline: None
) -> None:
    from tools.embedding.wordllama_embed import WordLlamaEmbedder
    from tools.retrieval.chroma import ChromaContextIndex

    index = ChromaContextIndex(tmp_path, WordLlamaEmbedder())
    seed_history(index)
    query = make_detail_case(
        "Q-1", "carrier driver left early, the trailer was full, pickup missed"
    )
    assert index.similar_history(query, k=1)[0].cause == "carrier_cutoff_missed"
