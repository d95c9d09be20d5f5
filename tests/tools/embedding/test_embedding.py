"""Embedders: offline, deterministic, unit-length vectors whose similarity follows wording."""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from core.errors import ConfigurationError
from core.settings import Settings
from tools.embedding import wordllama_embed
from tools.embedding.base import Embedder
from tools.embedding.fake import FakeEmbedder
from tools.embedding.hashing import HashingEmbedder
from tools.embedding.packaged import PackagedFile
from tools.embedding.wordllama_embed import WEIGHTS, WordLlamaEmbedder

TEXTS = [
    "Driver departed 16:30, trailer full",
    "the driver left at cutoff because the trailer was full",
    "HTTP 503 from middleware, message in dead letter queue",
]


ALL = pytest.mark.parametrize(
    "embedder",
    [HashingEmbedder(), FakeEmbedder(), WordLlamaEmbedder()],
    ids=["hashing", "fake", "wordllama"],
)


@ALL
def test_vectors_have_the_declared_dimension_and_unit_length(embedder: Embedder) -> None:
    vectors = np.array(embedder.embed(TEXTS))
    assert vectors.shape == (3, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0)


@ALL
def test_paraphrases_are_closer_than_unrelated_text(embedder: Embedder) -> None:
    a, b, c = np.array(embedder.embed(TEXTS))
    assert a @ b > a @ c


def test_hashing_dimension_is_configurable_and_named() -> None:
    embedder = HashingEmbedder(dimension=128)
    assert embedder.name == "hashing-128"
    assert len(embedder.embed(["x y z"])[0]) == 128


def test_empty_input_and_empty_text_are_handled() -> None:
    assert HashingEmbedder().embed([]) == []
    assert not any(HashingEmbedder(dimension=16).embed([""])[0])


def test_hashing_vectors_match_the_golden_values_so_stored_indexes_stay_valid() -> None:
    # Vectors persisted in Chroma are only comparable with new queries if hashing never changes;
    # murmurhash is unsalted, so these values hold in every process.
    vector = np.array(HashingEmbedder(dimension=64).embed([TEXTS[0]])[0])
    top = np.argsort(-vector, kind="stable")[:3]
    assert top.tolist() == [23, 11, 22]
    np.testing.assert_allclose(vector[top], [0.438317, 0.355936, 0.329839], atol=1e-6)


def test_fake_is_deterministic_across_instances() -> None:
    assert FakeEmbedder().embed(TEXTS) == FakeEmbedder().embed(TEXTS)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes every internet connection fail, and forgets the vectors loaded so far."""
    real_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network unreachable: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(wordllama_embed, "_loaded", {})


def test_wordllama_loads_from_the_installed_package_with_the_network_unreachable(
    no_network: None,
) -> None:
    vectors = np.array(WordLlamaEmbedder().embed(TEXTS))
    assert vectors.shape == (3, 256)


def test_wordllama_vectors_are_deterministic_across_loads(
    no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = WordLlamaEmbedder().embed(TEXTS)
    monkeypatch.setattr(wordllama_embed, "_loaded", {})
    assert WordLlamaEmbedder().embed(TEXTS) == first


def test_wordllama_puts_paraphrases_closer_than_unrelated_phrases() -> None:
    no_show, missed, invoice = np.array(
        WordLlamaEmbedder().embed(["driver no-show", "pickup missed", "invoice price variance"])
    )
    assert no_show @ missed > no_show @ invoice


def test_wordllama_loads_the_weights_once_per_process_and_only_when_first_used(
    no_network: None,
) -> None:
    first, second = WordLlamaEmbedder(), WordLlamaEmbedder()
    assert wordllama_embed._loaded == {}
    assert first.load().table is second.load().table
    assert len(wordllama_embed._loaded) == 1


def test_wordllama_refuses_weights_whose_sha256_differs_from_the_pin(no_network: None) -> None:
    tampered = WordLlamaEmbedder(weights=replace(WEIGHTS, sha256="0" * 64))
    with pytest.raises(ConfigurationError, match="SHA-256"):
        tampered.embed(["x"])


def test_wordllama_reports_a_missing_model_package_as_a_configuration_error() -> None:
    missing = PackagedFile("no-such-model-package", "weights.safetensors", "0" * 64)
    with pytest.raises(ConfigurationError, match="not installed"):
        WordLlamaEmbedder(weights=missing).embed(["x"])


def test_wordllama_embeds_an_empty_text_as_a_zero_vector() -> None:
    assert WordLlamaEmbedder().embed([]) == []
    assert not any(WordLlamaEmbedder().embed([""])[0])


def test_message_similarity_threshold_defaults_per_embedder_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRIAGE_MESSAGE_MIN_SIMILARITY", raising=False)
    monkeypatch.delenv("TRIAGE_EMBEDDER", raising=False)
    assert Settings().embedder == "wordllama"
    assert Settings().message_min_similarity == 0.62
    assert Settings(embedder="hashing").message_min_similarity == 0.6
    monkeypatch.setenv("TRIAGE_MESSAGE_MIN_SIMILARITY", "0.4")
    assert Settings().message_min_similarity == 0.4
