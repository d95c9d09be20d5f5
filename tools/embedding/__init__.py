"""Text embedders: the Protocol, the offline hashing default and a fake for tests."""

from tools.embedding.base import Embedder
from tools.embedding.fake import FakeEmbedder
from tools.embedding.hashing import HashingEmbedder

__all__ = ["Embedder", "FakeEmbedder", "HashingEmbedder"]
