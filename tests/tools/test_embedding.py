"""Embedders: offline, deterministic, unit-length vectors whose similarity follows wording."""

from __future__ import annotations

import numpy as np
import pytest

from tools.embedding.base import Embedder
from tools.embedding.fake import FakeEmbedder
from tools.embedding.hashing import HashingEmbedder

TEXTS = [
    "Driver departed 16:30, trailer full",
    "the driver left at cutoff because the trailer was full",
    "HTTP 503 from middleware, message in dead letter queue",
]


@pytest.mark.parametrize("embedder", [HashingEmbedder(), FakeEmbedder()], ids=["hashing", "fake"])
def test_vectors_have_the_declared_dimension_and_unit_length(embedder: Embedder) -> None:
    vectors = np.array(embedder.embed(TEXTS))
    assert vectors.shape == (3, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0)


@pytest.mark.parametrize("embedder", [HashingEmbedder(), FakeEmbedder()], ids=["hashing", "fake"])
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
