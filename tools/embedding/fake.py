"""A tiny deterministic embedder for tests: hashed bag of words, no model, no randomness."""

from __future__ import annotations

import hashlib
import math
import re

_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder:
    """Embeds text as a unit-length bag of lower-cased words hashed into a few buckets."""

    def __init__(self, dimension: int = 32) -> None:
        self.dimension = dimension
        self.name = f"fake-{dimension}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Returns one unit vector per text; texts sharing words get similar vectors."""
        return [self._embed_one(text) for text in texts]

    def _embed_one(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in _WORD.findall(text.lower()):
            # hashlib rather than hash(): Python salts str hashes per process.
            bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
            vector[bucket % self.dimension] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]
