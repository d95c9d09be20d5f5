"""The local classifier: calibrated logistic regression over text, facts and cues; no network."""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from agent.classifiers.base import CauseScores, ClassifierInput
from agent.classifiers.conformal import conformal_qhat
from agent.classifiers.features import (
    FeatureSpace,
    Fragment,
    case_fragment,
    event_fragment,
    matched_message_text,
    text_fragment,
)
from core.errors import ConfigurationError
from core.models import Case, Evidence, MatchedMessage, ResolvedCase, SimilarCase, canonical_digest
from core.rendering import message_text
from core.taxonomy import Taxonomy

MIN_CASES = 12
MIN_PER_CAUSE = 3
FORMAT_VERSION = 1
MAX_CITED = 3
CalibrationMethod = Literal["sigmoid", "isotonic", "temperature"]


@dataclass
class LocalModel:
    """A trained local model: features, calibrated classifier, evidence weights and conformal qhat."""

    features: FeatureSpace
    estimator: CalibratedClassifierCV
    classes: list[str]
    cause_ids: list[str]
    weights: np.ndarray
    qhat: float
    alpha: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        """Returns a short name identifying this trained artifact."""
        return f"local-logreg-{self.info.get('fingerprint', 'untracked')}"

    def probabilities(
        self, case: Case, messages: Sequence[MatchedMessage] = ()
    ) -> dict[str, float]:
        """Returns a probability for every taxonomy cause; causes never trained on get 0."""
        row = self.features.transform([case_fragment(case, messages)])
        trained = self.estimator.predict_proba(row)[0]
        probs = dict.fromkeys(self.cause_ids, 0.0)
        for cause, p in zip(self.classes, trained, strict=True):
            probs[cause] = float(p)
        total = sum(probs.values()) or 1.0
        return {cause: p / total for cause, p in probs.items()}

    def support(self, fragments: Sequence[Fragment], cause: str) -> np.ndarray:
        """Returns how much each fragment alone pushes the linear model towards the cause."""
        if cause not in self.classes or not fragments:
            return np.zeros(len(fragments))
        weights = self.weights[self.classes.index(cause)]
        return np.asarray(self.features.transform(fragments) @ weights).ravel()

    def save(self, path: Path) -> None:
        """Writes the model atomically: a temporary file in the same directory, then a rename."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": FORMAT_VERSION, "sklearn": sklearn.__version__, "model": self}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load_local_model(path: Path) -> LocalModel:
    """Loads a model saved by LocalModel.save; only load files this service wrote (pickle)."""
    try:
        with path.open("rb") as handle:
            payload = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load local model {path}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ConfigurationError(f"local model {path} has an unsupported format; retrain it")
    model = payload["model"]
    if not isinstance(model, LocalModel):
        raise ConfigurationError(f"local model {path} does not hold a LocalModel")
    return model


def train_local_model(
    history: list[ResolvedCase],
    taxonomy: Taxonomy,
    *,
    alpha: float = 0.1,
    seed: int = 0,
    method: CalibrationMethod = "sigmoid",
    regularisation: float = 4.0,
) -> LocalModel:
    """Trains the calibrated classifier on resolved history and computes its conformal qhat."""
    started = time.perf_counter()
    cases, labels = _usable_history(history, taxonomy)
    fragments = [case_fragment(case) for case in cases]
    space = FeatureSpace().fit(fragments)
    matrix = space.transform(fragments)
    y = np.asarray(labels)
    folds = min(5, min(Counter(labels).values()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    estimator = _calibrated(method, splitter, regularisation, seed, _jobs(len(cases)))
    # Multi-threaded BLAS slows L-BFGS on these small problems several-fold; parallelism
    # comes from fitting the folds in separate workers instead.
    with threadpool_limits(limits=1):
        estimator.fit(matrix, y)
    classes = [str(c) for c in estimator.classes_]
    out_of_fold = _out_of_fold(estimator, splitter, matrix, y)
    true_probs = out_of_fold[np.arange(len(y)), [classes.index(label) for label in labels]]
    info = {
        "fingerprint": canonical_digest(
            sorted(zip((c.case_id for c in cases), labels, strict=True))
        )[:12],
        "n_cases": len(cases),
        "skipped_cases": len(history) - len(cases),
        "method": method,
        "folds": folds,
        "oof_accuracy": float(
            np.mean(out_of_fold.argmax(axis=1) == [classes.index(label) for label in labels])
        ),
        "train_seconds": round(time.perf_counter() - started, 3),
    }
    return LocalModel(
        features=space,
        estimator=estimator,
        classes=classes,
        cause_ids=list(taxonomy.cause_ids),
        weights=_evidence_weights(estimator, len(classes)),
        qhat=conformal_qhat(true_probs.tolist(), alpha),
        alpha=alpha,
        info=info,
    )


def _usable_history(
    history: list[ResolvedCase], taxonomy: Taxonomy
) -> tuple[list[ResolvedCase], list[str]]:
    """Returns the cases whose cause is in the taxonomy and common enough to learn from."""
    known = set(taxonomy.cause_ids)
    counts = Counter(c.resolution.cause for c in history if c.resolution.cause in known)
    keep = {cause for cause, n in counts.items() if n >= MIN_PER_CAUSE}
    cases = [c for c in history if c.resolution.cause in keep]
    if len(keep) < 2 or len(cases) < MIN_CASES:
        raise ConfigurationError(
            f"the local classifier needs at least {MIN_CASES} resolved cases covering 2 or more "
            f"causes with {MIN_PER_CAUSE}+ cases each; history has {len(history)} cases and "
            f"usable causes {sorted(keep) or 'none'}",
        )
    return cases, [c.resolution.cause for c in cases]


def _calibrated(
    method: CalibrationMethod, cv: StratifiedKFold, regularisation: float, seed: int, jobs: int
) -> CalibratedClassifierCV:
    base = LogisticRegression(C=regularisation, max_iter=1000, random_state=seed)
    return CalibratedClassifierCV(base, method=method, cv=cv, ensemble=True, n_jobs=jobs)


def _out_of_fold(
    estimator: CalibratedClassifierCV, splitter: StratifiedKFold, matrix: Any, y: np.ndarray
) -> np.ndarray:
    """Returns each case's probabilities from the fold pair whose classifier never saw it."""
    # The ensemble holds one (classifier, calibrator) pair per split, in split order; scoring each
    # held-out fold with its own pair gives out-of-fold probabilities without refitting. The
    # pair's calibrator (a few parameters) was fit on that fold, a slight optimism; the pair's
    # single classifier is weaker than the served ensemble, a slight pessimism.
    pairs = estimator.calibrated_classifiers_
    probs = np.zeros((len(y), len(estimator.classes_)))
    for (_, held_out), pair in zip(splitter.split(matrix, y), pairs, strict=True):
        probs[held_out] = pair.predict_proba(matrix[held_out])
    return probs


def _jobs(n_cases: int) -> int:
    # Worker start-up costs more than it saves on small histories.
    return 2 if n_cases >= 400 else 1


def _evidence_weights(estimator: CalibratedClassifierCV, n_classes: int) -> np.ndarray:
    """Returns the fold-averaged linear weights per class, centred across classes."""
    coefs = np.mean([c.estimator.coef_ for c in estimator.calibrated_classifiers_], axis=0)
    if n_classes == 2:
        # A binary logistic regression keeps one row: the second class against the first.
        coefs = np.vstack([-coefs[0] / 2, coefs[0] / 2])
    return np.asarray(coefs - coefs.mean(axis=0, keepdims=True))


class LocalClassifier:
    """Scores a case with a trained LocalModel, optionally blending the similar cases' vote."""

    name = "local"

    def __init__(self, model: LocalModel, *, knn_weight: float = 0.0) -> None:
        self.model = model
        self.knn_weight = knn_weight

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns calibrated probabilities for every cause, the conformal qhat and the evidence."""
        probs = self.model.probabilities(item.case, item.messages)
        vote = similar_vote(item.similar, self.model.cause_ids)
        if vote is not None and self.knn_weight > 0:
            w = self.knn_weight
            probs = {c: (1 - w) * p + w * vote[c] for c, p in probs.items()}
        top = max(probs, key=lambda c: (probs[c], c))
        return CauseScores(
            probabilities=probs,
            evidence=cite_evidence(self.model, item, top),
            classifier=self.name,
            model=self.model.model_id,
            rationale=f"local model: {top} at p={probs[top]:.2f}",
            conformal_qhat=self.model.qhat,
        )


def similar_vote(similar: Sequence[SimilarCase], cause_ids: list[str]) -> dict[str, float] | None:
    """Returns the similarity-weighted cause distribution of similar resolved cases, if any."""
    weights = dict.fromkeys(cause_ids, 0.0)
    for neighbour in similar:
        if neighbour.cause in weights:
            weights[neighbour.cause] += max(neighbour.similarity, 1e-6)
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()} if total > 0 else None


def cite_evidence(model: LocalModel, item: ClassifierInput, cause: str) -> Evidence:
    """Returns the events, messages and retrieved context that most support the cause."""
    case = item.case
    events = [event_fragment(e) for e in case.events]
    messages = [text_fragment(message_text(m), m.party.value) for m in case.messages]
    loose = [text_fragment(matched_message_text(m), m.party) for m in item.messages]
    return Evidence(
        event_indices=_top_positive(model.support(events, cause)),
        message_indices=_top_positive(model.support(messages, cause)),
        history_case_ids=[s.case_id for s in item.similar if s.cause == cause][:MAX_CITED],
        loose_message_ids=[
            item.messages[i].message_id for i in _top_positive(model.support(loose, cause))
        ],
    )


def _top_positive(scores: np.ndarray) -> list[int]:
    """Returns the indices of the highest positive scores, best first, at most MAX_CITED."""
    order = sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: -scores[i])
    return order[:MAX_CITED]
