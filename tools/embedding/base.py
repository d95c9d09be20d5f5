"""The interface every text embedder implements."""

from __future__ import annotations

from typing import Protocol


class Embedder(Protocol):
    """Turns texts into fixed-size vectors for similarity search."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Returns one L2-normalised vector of `dimension` floats per text, in input order."""
        ...
