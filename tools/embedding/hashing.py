"""An offline, deterministic embedder built on feature hashing; it never downloads anything."""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse

_DIGITS = re.compile(r"\d+")


def _normalise(text: str) -> str:
    # Ids and quantities differ between otherwise identical cases; collapsing digits lets the
    # wording, not the order number, decide similarity.
    return _DIGITS.sub("0", text.lower())


class HashingEmbedder:
    """Embeds text as hashed word 1-2-grams plus char_wb 3-5-grams with sublinear tf."""

    def __init__(self, dimension: int = 768, word_weight: float = 0.5) -> None:
        if dimension < 8:
            raise ValueError("dimension must be at least 8")
        # Imported here: the hashing embedder is not the default, and scikit-learn costs a serving
        # process ~70 MB and ~0.6 s of start.
        from sklearn.feature_extraction.text import HashingVectorizer

        self.dimension = dimension
        self.name = f"hashing-{dimension}"
        self._word_weight = word_weight
        common = {"n_features": dimension, "alternate_sign": False, "norm": None}
        self._words = HashingVectorizer(
            analyzer="word", ngram_range=(1, 2), preprocessor=_normalise, **common
        )
        self._chars = HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), preprocessor=_normalise, **common
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Returns one L2-normalised dense vector per text; an empty text gives a zero vector."""
        if not texts:
            return []
        words = _sublinear_unit_rows(self._words.transform(texts))
        chars = _sublinear_unit_rows(self._chars.transform(texts))
        mixed = self._word_weight * words + (1.0 - self._word_weight) * chars
        return _unit_rows(mixed.toarray()).tolist()


def _sublinear_unit_rows(counts: sparse.spmatrix) -> sparse.csr_matrix:
    """Returns the rows with tf replaced by 1 + log(tf) and scaled to unit length."""
    matrix = sparse.csr_matrix(counts, dtype=np.float64)
    matrix.data = 1.0 + np.log(matrix.data)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _unit_rows(dense: np.ndarray) -> np.ndarray:
    """Returns the rows scaled to unit length, leaving zero rows at zero."""
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return dense / norms
