"""The calibrated logistic ensemble behind the local classifier, and a plain-numpy copy of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold


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


def calibrated_ensemble(
    method: str, cv: StratifiedKFold, regularisation: float, seed: int
) -> CalibratedClassifierCV:
    """Returns an unfitted ensemble: one logistic regression and calibrator per fold."""
    base = LogisticRegression(C=regularisation, max_iter=1000, random_state=seed)
    return CalibratedClassifierCV(base, method=method, cv=cv, ensemble=True)


def out_of_fold(
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


def evidence_weights(estimator: CalibratedClassifierCV, n_classes: int) -> np.ndarray:
    """Returns the fold-averaged linear weights per class, centred across classes."""
    coefs = np.mean([c.estimator.coef_ for c in estimator.calibrated_classifiers_], axis=0)
    if n_classes == 2:
        # A binary logistic regression keeps one row: the second class against the first.
        coefs = np.vstack([-coefs[0] / 2, coefs[0] / 2])
    return np.asarray(coefs - coefs.mean(axis=0, keepdims=True))
