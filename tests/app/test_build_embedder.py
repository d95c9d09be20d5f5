"""The composition root picks the embedder named by the settings, offline by default."""

from __future__ import annotations

from app.wiring import build_embedder
from core.settings import Settings
from tools.embedding.hashing import HashingEmbedder
from tools.embedding.wordllama_embed import WordLlamaEmbedder


def test_default_embedder_is_the_packaged_pretrained_one() -> None:
    assert isinstance(build_embedder(Settings(embedder="wordllama")), WordLlamaEmbedder)


def test_hashing_embedder_stays_available_as_a_setting() -> None:
    assert isinstance(build_embedder(Settings(embedder="hashing")), HashingEmbedder)
