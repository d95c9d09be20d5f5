"""The calibrated logistic ensemble behind the local classifier, and a plain-numpy copy of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from scipy.special import expit

if TYPE_CHECKING:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold

# The fitting functions import scikit-learn (and scipy.linalg) when called: SigmoidEnsemble, the
# served scorer, is plain numpy, and a serving process never needs to import them.

# Past this many rows the n x n Gram factor costs more than fitting on the sparse rows.
GRAM_MAX_ROWS = 3000


@dataclass(frozen=True)
class SigmoidEnsemble:
    """The fold pairs of a sigmoid-calibrated ensemble as plain arrays, for fast scoring."""

    # Every fold's coef_.T side by side, so one sparse product scores all folds.
    weights: np.ndarray
    # One row per fold: the classifier's intercepts and the calibrators' slopes and offsets.
    intercepts: np.ndarray
    slopes: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_estimator(cls, estimator: CalibratedClassifierCV) -> SigmoidEnsemble:
        """Copies the weights of a fitted sigmoid-calibrated ensemble of linear models."""
        pairs = estimator.calibrated_classifiers_
        return cls(
            weights=np.hstack([p.estimator.coef_.T for p in pairs]),
            intercepts=np.array([p.estimator.intercept_ for p in pairs]),
            slopes=np.array([[c.a_ for c in p.calibrators] for p in pairs]),
            offsets=np.array([[c.b_ for c in p.calibrators] for p in pairs]),
        )

    def predict_proba(self, matrix: Any) -> np.ndarray:
        """Returns what CalibratedClassifierCV.predict_proba returns, without its validation cost."""
        # sklearn validates the input once per class and fold (~50 checks), which costs far more
        # than the arithmetic for a single case. Each output column of the one product is summed
        # exactly as in a product with that fold alone, so the probabilities are the same.
        folds, width = self.intercepts.shape
        scores = np.asarray(matrix @ self.weights).reshape(-1, folds, width) + self.intercepts
        calibrated = expit(-(self.slopes * scores + self.offsets))
        if width == 1:
            proba = np.concatenate([1.0 - calibrated, calibrated], axis=2)
        else:
            sums = calibrated.sum(axis=2, keepdims=True)
            uniform = np.full_like(calibrated, 1.0 / width)
            proba = np.divide(calibrated, sums, out=uniform, where=sums != 0)
        return np.asarray(proba.sum(axis=1)) / folds


def calibrated_ensemble(
    method: str, cv: StratifiedKFold, regularisation: float, seed: int
) -> CalibratedClassifierCV:
    """Returns an unfitted ensemble: one logistic regression and calibrator per fold."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    base = LogisticRegression(C=regularisation, max_iter=1000, random_state=seed)
    return CalibratedClassifierCV(base, method=method, cv=cv, ensemble=True)


def fit_ensemble(estimator: CalibratedClassifierCV, rows: Any, y: np.ndarray) -> None:
    """Fits the ensemble on the rows; through their Gram matrix when there are few enough of them.

    With an L2 penalty the best weights lie in the span of the training rows, and L-BFGS started
    at zero never leaves it. Writing rows = L Q, with L the Cholesky factor of rows @ rows.T and Q
    orthonormal, and the weights as Q.T z gives rows @ w = L z and |w| = |z|: the same problem,
    iterate for iterate, over one unknown per row instead of one per feature, which made each
    L-BFGS step several times cheaper. Each fold's classifier is then mapped back to features.
    L-BFGS stops on the largest single gradient entry, which a change of coordinates does not
    preserve, so a fold may stop a few iterations later or earlier than on the rows: its
    probabilities then differ by the solver's tolerance (up to ~0.005 seen), no more.
    """
    from scipy.linalg import solve_triangular

    n_rows, n_features = rows.shape
    if n_rows > GRAM_MAX_ROWS or n_rows >= n_features:
        estimator.fit(rows, y)
        return
    # The rows are few here: the factor and the mapping back are computed in double precision
    # whatever the features' own precision.
    rows = rows.astype(np.float64)
    factor = _gram_factor(rows)
    estimator.fit(factor, y)
    for pair in estimator.calibrated_classifiers_:
        classifier = pair.estimator
        # w = Q.T z = rows.T @ L^-T z.
        dual = solve_triangular(factor, classifier.coef_.T, lower=True, trans="T")
        # Transposed, as sklearn lays coef_ out: then coef_.T is contiguous for the products.
        classifier.coef_ = np.asarray(rows.T @ dual).T
        classifier.n_features_in_ = n_features
    estimator.n_features_in_ = n_features


def _gram_factor(rows: Any) -> np.ndarray:
    """Returns the lower Cholesky factor of rows @ rows.T."""
    by_column = rows.tocsc()
    # Columns most rows share (common char n-grams) make a sparse product slow: they go through
    # a dense BLAS product instead, the rare ones through the sparse one.
    common = np.diff(by_column.indptr) > max(8, rows.shape[0] // 12)
    dense = by_column[:, np.flatnonzero(common)].toarray()
    rare = sparse.csr_matrix(by_column[:, np.flatnonzero(~common)])
    gram = dense @ dense.T + (rare @ rare.T).toarray()
    # Repeated rows make the Gram matrix singular. The jitter adds each row a private feature of
    # size ~1e-5; with it the probabilities matched a direct fit's to ~1e-10.
    jitter = 1e-10 * max(float(np.trace(gram)) / len(gram), 1e-12)
    for _ in range(4):
        try:
            return np.asarray(np.linalg.cholesky(gram + jitter * np.eye(len(gram))))
        except np.linalg.LinAlgError:
            jitter *= 100
    raise np.linalg.LinAlgError("the Gram matrix of the training rows is not positive definite")


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
