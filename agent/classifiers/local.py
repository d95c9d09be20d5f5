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
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from agent.classifiers.base import CauseScores, ClassifierInput
from agent.classifiers.conformal import conformal_qhat
from agent.classifiers.features import (
    FeatureSpace,
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


@dataclass(frozen=True)
class SigmoidEnsemble:
    """The fold pairs of a sigmoid-calibrated ensemble as plain arrays, for fast scoring."""

    coefs: list[np.ndarray]
    intercepts: list[np.ndarray]
    slopes: list[np.ndarray]
    offsets: list[np.ndarray]

    @classmethod
    def from_estimator(cls, estimator: CalibratedClassifierCV) -> SigmoidEnsemble:
        """Copies the weights of a fitted sigmoid-calibrated ensemble of linear models."""
        pairs = estimator.calibrated_classifiers_
        return cls(
            coefs=[p.estimator.coef_ for p in pairs],
            intercepts=[p.estimator.intercept_ for p in pairs],
            slopes=[np.array([c.a_ for c in p.calibrators]) for p in pairs],
            offsets=[np.array([c.b_ for c in p.calibrators]) for p in pairs],
        )

    def predict_proba(self, matrix: Any) -> np.ndarray:
        """Returns what CalibratedClassifierCV.predict_proba returns, without its validation cost."""
        # sklearn validates the input once per class and fold (~50 checks), which costs far more
        # than the arithmetic for a single case.
        total = None
        for coef, intercept, a, b in zip(
            self.coefs, self.intercepts, self.slopes, self.offsets, strict=True
        ):
            scores = np.asarray(matrix @ coef.T) + intercept
            calibrated = expit(-(a * scores + b))
            if coef.shape[0] == 1:
                proba = np.hstack([1.0 - calibrated, calibrated])
            else:
                sums = calibrated.sum(axis=1, keepdims=True)
                uniform = np.full_like(calibrated, 1.0 / calibrated.shape[1])
                proba = np.divide(calibrated, sums, out=uniform, where=sums != 0)
            total = proba if total is None else total + proba
        return np.asarray(total) / len(self.coefs)


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
    fast: SigmoidEnsemble | None = None

    @property
    def model_id(self) -> str:
        """Returns a short name identifying this trained artifact."""
        return f"local-logreg-{self.info.get('fingerprint', 'untracked')}"

    def probabilities(
        self, case: Case, messages: Sequence[MatchedMessage] = ()
    ) -> dict[str, float]:
        """Returns a probability for every taxonomy cause; causes never trained on get 0."""
        return self.distribution(self.features.transform([case_fragment(case, messages)]))

    def distribution(self, row: Any) -> dict[str, float]:
        """Returns the taxonomy-wide distribution for one feature row."""
        scorer = self.fast or self.estimator
        trained = scorer.predict_proba(row)[0]
        probs = dict.fromkeys(self.cause_ids, 0.0)
        for cause, p in zip(self.classes, trained, strict=True):
            probs[cause] = float(p)
        total = sum(probs.values()) or 1.0
        return {cause: p / total for cause, p in probs.items()}

    def support(self, rows: Any, cause: str) -> np.ndarray:
        """Returns how much each feature row alone pushes the linear model towards the cause."""
        if cause not in self.classes or rows.shape[0] == 0:
            return np.zeros(rows.shape[0])
        return np.asarray(rows @ self.weights[self.classes.index(cause)]).ravel()

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
    space = FeatureSpace()
    matrix = space.fit_transform(fragments)
    y = np.asarray(labels)
    folds = min(5, min(Counter(labels).values()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    estimator = _calibrated(method, splitter, regularisation, seed)
    # Multi-threaded BLAS slows L-BFGS on these small problems several-fold, and fitting folds
    # in worker processes measured slower than fitting them in turn on a shared two-core box.
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
        fast=SigmoidEnsemble.from_estimator(estimator) if method == "sigmoid" else None,
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
    method: CalibrationMethod, cv: StratifiedKFold, regularisation: float, seed: int
) -> CalibratedClassifierCV:
    base = LogisticRegression(C=regularisation, max_iter=1000, random_state=seed)
    return CalibratedClassifierCV(base, method=method, cv=cv, ensemble=True)


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
        case = item.case
        parts = [
            [case_fragment(case, item.messages)],
            [event_fragment(e) for e in case.events],
            [text_fragment(message_text(m), m.party.value) for m in case.messages],
            [text_fragment(matched_message_text(m), m.party) for m in item.messages],
        ]
        # One transform for the case and every cited part: vectoriser calls dominate the cost.
        rows = self.model.features.transform([f for part in parts for f in part])
        bounds = np.cumsum([0, *(len(part) for part in parts)])
        probs = self.model.distribution(rows[0:1])
        vote = similar_vote(item.similar, self.model.cause_ids)
        if vote is not None and self.knn_weight > 0:
            w = self.knn_weight
            probs = {c: (1 - w) * p + w * vote[c] for c, p in probs.items()}
        top = max(probs, key=lambda c: (probs[c], c))

        def cited(part: int) -> list[int]:
            return _top_positive(self.model.support(rows[bounds[part] : bounds[part + 1]], top))

        evidence = Evidence(
            event_indices=cited(1),
            message_indices=cited(2),
            history_case_ids=[s.case_id for s in item.similar if s.cause == top][:MAX_CITED],
            loose_message_ids=[item.messages[i].message_id for i in cited(3)],
        )
        return CauseScores(
            probabilities=probs,
            evidence=evidence,
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


def _top_positive(scores: np.ndarray) -> list[int]:
    """Returns the indices of the highest positive scores, best first, at most MAX_CITED."""
    order = sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: -scores[i])
    return order[:MAX_CITED]
