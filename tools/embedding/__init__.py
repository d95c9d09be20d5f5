"""Text embedders: the Protocol, hashing, a fake for tests; the WordLlama default lives in wordllama_embed."""

from tools.embedding.base import Embedder
from tools.embedding.fake import FakeEmbedder
from tools.embedding.hashing import HashingEmbedder

__all__ = ["Embedder", "FakeEmbedder", "HashingEmbedder"]
