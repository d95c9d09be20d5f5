"""The offline default embedder: WordLlama's pretrained token vectors, shipped in its wheel, mean-pooled."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from core.errors import ConfigurationError
from tools.embedding.packaged import PackagedFile

# The pinned wordllama release (pyproject.toml, requirements.lock) ships these two files; the
# hashes are those of version 0.4.0.post1, so another release is refused rather than mixed in.
WEIGHTS = PackagedFile(
    "wordllama",
    "wordllama/weights/l2_supercat_256.safetensors",
    "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
)
TOKENIZER = PackagedFile(
    "wordllama",
    "wordllama/tokenizers/l2_supercat_tokenizer_config.json",
    "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
)
_TENSOR = "embedding.weight"
# Ids and quantities split into digit tokens that say nothing about the cause but dilute the
# mean; dropping them and lower-casing raised same-cause neighbours on the simulator set.
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class WordVectors:
    """A token-vector table and the tokenizer whose ids index it."""

    table: np.ndarray
    tokenizer: Tokenizer


_loaded: dict[tuple[PackagedFile, PackagedFile], WordVectors] = {}
_load_lock = threading.Lock()


def load_word_vectors(weights: PackagedFile, tokenizer: PackagedFile) -> WordVectors:
    """Returns the verified vectors and tokenizer, reading them once per process."""
    with _load_lock:
        key = (weights, tokenizer)
        if key not in _loaded:
            _loaded[key] = _read_word_vectors(weights, tokenizer)
        return _loaded[key]


def _read_word_vectors(weights: PackagedFile, tokenizer: PackagedFile) -> WordVectors:
    tensors = load_file(str(weights.verified_path()))
    if _TENSOR not in tensors or tensors[_TENSOR].ndim != 2:
        raise ConfigurationError(f"{weights.path} holds no 2-d {_TENSOR!r} tensor")
    # Kept in the shipped float16 (16 MiB rather than 32); rows are averaged in float32.
    table = np.ascontiguousarray(tensors.pop(_TENSOR))
    loaded = Tokenizer.from_file(str(tokenizer.verified_path()))
    loaded.no_padding()
    loaded.no_truncation()
    if loaded.get_vocab_size() > table.shape[0]:
        raise ConfigurationError(
            f"the tokenizer has {loaded.get_vocab_size()} tokens but the table {table.shape[0]}"
        )
    return WordVectors(table=table, tokenizer=loaded)


class WordLlamaEmbedder:
    """Embeds text as the unit-length mean of pretrained WordLlama token vectors (256 floats)."""

    def __init__(
        self, weights: PackagedFile = WEIGHTS, tokenizer: PackagedFile = TOKENIZER
    ) -> None:
        self.name = "wordllama-l2-supercat-256"
        self.dimension = 256
        self._files = (weights, tokenizer)
        self._vectors: WordVectors | None = None

    def load(self) -> WordVectors:
        """Returns the vectors, verifying and reading them on first use (lazily, once per process)."""
        if self._vectors is None:
            vectors = load_word_vectors(*self._files)
            if vectors.table.shape[1] != self.dimension:
                raise ConfigurationError(f"{self._files[0].path} is not {self.dimension}-dim")
            self._vectors = vectors
        return self._vectors

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Returns one L2-normalised vector per text; a text without tokens gives a zero vector."""
        vectors = self.load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            # encode() rather than encode_batch(): the batch call starts a Rust thread pool,
            # which the evals' fork-server workers would then inherit and have to disable.
            ids = vectors.tokenizer.encode(_normalise(text), add_special_tokens=False).ids
            if ids:
                out[row] = vectors.table[ids].mean(axis=0, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (out / norms).astype(np.float64).tolist()


def _normalise(text: str) -> str:
    return _DIGITS.sub(" ", text.lower())
