"""Measures whether the default embedder's vector helps the local classifier, as extra features.

`python -m evals.classifier_embedding_bench` prints macro-F1 without and with the embedding
block: 5-fold cross-validation on the sim-seed-2026 history (medians over folds) and training
on that history, scoring the held-out independent set. It measures; it never tunes.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from agent.classifiers import features, local
from core.models import Case, ResolvedCase
from core.taxonomy import load_taxonomy
from evals.dataset import DEMO_HISTORY, load_eval, load_history
from evals.embedder_bench import INDEPENDENT_EVAL
from tools.embedding.wordllama_embed import WordLlamaEmbedder


@contextmanager
def embedding_block(weight: float) -> Iterator[None]:
    """Appends the weighted WordLlama vector of each fragment's text to the feature rows."""
    embedder = WordLlamaEmbedder()
    original = features.FeatureSpace._stack

    def with_vectors(matrix: Any, texts: list[str]) -> Any:
        vectors = np.asarray(embedder.embed(texts), dtype=np.float64)
        return sparse.csr_matrix(sparse.hstack([matrix, weight * vectors], format="csr"))

    def stacked(self: features.FeatureSpace, words: Any, chars: Any, facts: Any) -> Any:
        return with_vectors(original(self, words, chars, facts), self.__dict__["bench_texts"])

    # A trained model scores with its FrozenFeatures, which get the same block appended.
    frozen = features.FrozenFeatures.transform

    def frozen_transform(self: features.FrozenFeatures, fragments: Sequence[Any]) -> Any:
        return with_vectors(frozen(self, fragments), [f.text for f in fragments])

    def remember(method: Any) -> Any:
        def wrapped(self: features.FeatureSpace, fragments: Sequence[Any]) -> Any:
            self.__dict__["bench_texts"] = [f.text for f in fragments]
            return method(self, fragments)

        return wrapped

    saved = (features.FeatureSpace.fit_transform, features.FeatureSpace.transform)
    features.FeatureSpace._stack = stacked  # type: ignore[method-assign]
    features.FeatureSpace.fit_transform = remember(saved[0])  # type: ignore[method-assign]
    features.FeatureSpace.transform = remember(saved[1])  # type: ignore[method-assign]
    features.FrozenFeatures.transform = frozen_transform  # type: ignore[method-assign]
    try:
        yield
    finally:
        features.FrozenFeatures.transform = frozen  # type: ignore[method-assign]
        features.FeatureSpace._stack = original  # type: ignore[method-assign]
        features.FeatureSpace.fit_transform, features.FeatureSpace.transform = saved  # type: ignore[method-assign]


def macro_f1(train: list[ResolvedCase], cases: list[Case], truth: list[str]) -> float:
    """Returns the macro-F1 of the local model trained on `train` and scored on the cases."""
    model = local.train_local_model(train, load_taxonomy(None))
    predicted = []
    for case in cases:
        probs = model.probabilities(case)
        predicted.append(max(probs, key=lambda c: (probs[c], c)))
    return float(f1_score(truth, predicted, average="macro"))


def figures(history: list[ResolvedCase], independent: list[tuple[Case, str]]) -> dict[str, float]:
    """Returns the median cross-validated macro-F1 on history and the independent macro-F1."""
    labels = [c.resolution.cause for c in history]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = []
    for train, test in folds.split(np.zeros(len(history)), labels):
        held = [history[i] for i in test]
        scores.append(macro_f1([history[i] for i in train], held, [labels[i] for i in test]))
    cases, truth = [c for c, _ in independent], [t for _, t in independent]
    return {"cv_f1": statistics.median(scores), "independent_f1": macro_f1(history, cases, truth)}


def main(argv: list[str] | None = None) -> None:
    """Prints the figures without and with the embedding block."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="0.5,1.0")
    args = parser.parse_args(argv)
    taxonomy = load_taxonomy(None)
    history = load_history(DEMO_HISTORY, taxonomy)
    lines = load_eval(INDEPENDENT_EVAL, taxonomy).lines
    independent = [(line.case, line.expected.cause) for _, line in lines]
    print("without embedding:", figures(history, independent))
    for weight in (float(w) for w in args.weights.split(",")):
        with embedding_block(weight):
            print(f"with embedding x{weight}:", figures(history, independent))


if __name__ == "__main__":
    main()
