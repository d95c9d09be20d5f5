"""The local classifier: calibrated logistic regression over text, facts and cues; no network."""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

import numpy as np
from threadpoolctl import threadpool_limits

from agent.classifiers.abstention import (
    Abstention,
    evidence_profile,
    fit_abstention,
    meta_features,
    stated_undetermined,
    with_unknown,
)
from agent.classifiers.base import CauseScores, ClassifierInput
from agent.classifiers.conformal import class_conditional_qhat
from agent.classifiers.ensemble import (
    SigmoidEnsemble,
    calibrated_ensemble,
    evidence_weights,
    fit_ensemble,
    out_of_fold,
)
from agent.classifiers.features import (
    FeatureSpace,
    Fragment,
    FrozenFeatures,
    case_fragment,
    event_fragment,
    matched_message_text,
    text_fragment,
)
from agent.classifiers.undetermined import UNDETERMINED
from core.errors import ConfigurationError
from core.models import Case, ResolvedCase, canonical_digest
from core.plain_text import message_text
from core.results import Evidence, MatchedMessage, SimilarCase
from core.taxonomy import Taxonomy

if TYPE_CHECKING:
    from sklearn.calibration import CalibratedClassifierCV

# Training imports scikit-learn; a saved sigmoid model (the default) holds only plain arrays
# (FrozenFeatures, SigmoidEnsemble, Abstention), so loading and scoring it never imports it.

MIN_CASES = 12
MIN_PER_CAUSE = 3
# 4: features are FrozenFeatures, and the estimator is dropped when `fast` scores.
FORMAT_VERSION = 4
# Assumed share of genuinely unknown cases when serving; see agent/classifiers/abstention.py.
UNKNOWN_PRIOR = 0.05
MAX_CITED = 3
CalibrationMethod = Literal["sigmoid", "isotonic", "temperature"]


@dataclass
class LocalModel:
    """A trained local model: features, calibrated classifier, evidence weights and conformal qhat.

    `estimator` is the fitted sklearn ensemble only for the calibration methods `fast` does not
    cover (isotonic, temperature); with `fast` it is None.
    """

    features: FrozenFeatures
    estimator: CalibratedClassifierCV | None
    classes: list[str]
    cause_ids: list[str]
    weights: np.ndarray
    qhat: float
    alpha: float
    info: dict[str, Any] = field(default_factory=dict)
    fast: SigmoidEnsemble | None = None
    abstention: Abstention | None = None
    unknown_cause: str = "unknown"

    @property
    def model_id(self) -> str:
        """Returns a short name identifying this trained artifact."""
        return f"local-logreg-{self.info.get('fingerprint', 'untracked')}"

    def probabilities(
        self, case: Case, messages: Sequence[MatchedMessage] = ()
    ) -> dict[str, float]:
        """Returns a probability for every taxonomy cause; causes never trained on get 0."""
        fragment = case_fragment(case, messages)
        return self.distribution(self.features.transform([fragment]), fragment)

    def distribution(self, row: Any, fragment: Fragment) -> dict[str, float]:
        """Returns the taxonomy-wide distribution for one feature row and the fragment it came from."""
        scorer = self.fast or self.estimator
        assert scorer is not None, "a LocalModel holds `fast` or its estimator"
        trained = self.with_abstention(scorer.predict_proba(row), [fragment])[0]
        probs = dict.fromkeys(self.cause_ids, 0.0)
        for cause, p in zip(self.output_classes, trained, strict=True):
            probs[cause] = float(p)
        total = sum(probs.values()) or 1.0
        return {cause: p / total for cause, p in probs.items()}

    @property
    def output_classes(self) -> list[str]:
        """Returns the causes of with_abstention's columns: the trained ones, then unknown."""
        return [*self.classes, self.unknown_cause] if self.abstention else self.classes

    def with_abstention(self, probs: np.ndarray, fragments: Sequence[Fragment]) -> np.ndarray:
        """Returns the base probabilities with the abstention model's share moved to unknown."""
        if self.abstention is None:
            return probs
        profiles = np.array([evidence_profile(f.facts) for f in fragments])
        stated = np.array([f.facts.get(UNDETERMINED, 0.0) > 0 for f in fragments])
        return self.with_abstention_profiles(probs, profiles, stated)

    def with_abstention_profiles(
        self, probs: np.ndarray, profiles: np.ndarray, stated: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns what with_abstention returns, from the fragments' evidence profiles.

        `stated` marks the cases whose texts say nobody has established the cause.
        """
        if self.abstention is None:
            return probs
        p_unknown = self.abstention.p_unknown(meta_features(probs, profiles))
        if stated is not None:
            p_unknown = stated_undetermined(p_unknown, stated)
        return with_unknown(probs, p_unknown)

    def support(self, rows: Any, cause: str) -> np.ndarray:
        """Returns how much each feature row alone pushes the linear model towards the cause."""
        if cause not in self.classes or rows.shape[0] == 0:
            return np.zeros(rows.shape[0])
        return np.asarray(rows @ self.weights[self.classes.index(cause)]).ravel()

    def save(self, path: Path) -> None:
        """Writes the model atomically: a temporary file in the same directory, then a rename."""
        path.parent.mkdir(parents=True, exist_ok=True)
        sklearn = sys.modules.get("sklearn")
        payload = {
            "format": FORMAT_VERSION,
            "sklearn": getattr(sklearn, "__version__", None),
            "model": self,
        }
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


@dataclass(frozen=True)
class TrainingExample:
    """What training keeps of one resolved case: its id, its cause and its featurised fragment.

    A history case is parsed, turned into its fragment and dropped, so training never holds the
    whole history's case objects (about 10 KiB each) next to their features.
    """

    case_id: str
    cause: str
    fragment: Fragment


def training_examples(history: Iterable[ResolvedCase]) -> list[TrainingExample]:
    """Returns each case's training example, in the history's order."""
    return [TrainingExample(c.case_id, c.resolution.cause, case_fragment(c)) for c in history]


class TrainingOptions(TypedDict, total=False):
    """The keyword options of train_on_examples, which train_local_model passes on."""

    alpha: float
    seed: int
    method: CalibrationMethod
    regularisation: float
    unknown_prior: float


def train_local_model(
    history: Iterable[ResolvedCase], taxonomy: Taxonomy, **options: Unpack[TrainingOptions]
) -> LocalModel:
    """Trains the calibrated classifier and its abstention model, and computes the conformal qhat."""
    return train_on_examples(training_examples(history), taxonomy, **options)


def train_on_examples(
    examples: list[TrainingExample],
    taxonomy: Taxonomy,
    *,
    alpha: float = 0.1,
    seed: int = 0,
    method: CalibrationMethod = "sigmoid",
    regularisation: float = 1.0,
    unknown_prior: float = UNKNOWN_PRIOR,
) -> LocalModel:
    """Trains on featurised examples; what train_local_model does after featurising the history.

    Empties `examples` as it goes: the caller hands its only copy over, so that the fragments'
    texts are freed once the feature matrix holds them.
    """
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    given = len(examples)
    usable = _usable_examples(examples, taxonomy)
    examples.clear()
    labels = [e.cause for e in usable]
    case_ids = [e.case_id for e in usable]
    space = FeatureSpace()
    matrix = space.fit_transform([e.fragment for e in usable])
    # Only the facts are needed from here on (for the abstention model's evidence profile).
    profiles = np.array([evidence_profile(e.fragment.facts) for e in usable])
    del usable
    # `unknown` is not a pattern in the text but the absence of one: the abstention model learns
    # it from evidence strength, while the base model learns the real causes only.
    unknown = np.asarray([label == taxonomy.unknown_cause for label in labels])
    base_labels = [label for label, u in zip(labels, unknown, strict=True) if not u]
    # The two row sets are taken out and the whole matrix dropped, so that the fits never hold
    # the matrix next to a copy of most of it.
    unknown_rows = matrix[np.flatnonzero(unknown)]
    base_rows = matrix[np.flatnonzero(~unknown)]
    del matrix
    y = np.asarray(base_labels)
    folds = min(5, min(Counter(base_labels).values()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    estimator = calibrated_ensemble(method, splitter, regularisation, seed)
    # Multi-threaded BLAS slows L-BFGS on these small problems several-fold, and fitting folds
    # in worker processes measured slower than fitting them in turn on a shared two-core box.
    with threadpool_limits(limits=1):
        fit_ensemble(estimator, base_rows, y)
        held_out = np.zeros((len(labels), len(estimator.classes_)))
        held_out[~unknown] = out_of_fold(estimator, splitter, base_rows, y)
        if unknown.any():
            held_out[unknown] = estimator.predict_proba(unknown_rows)
    del base_rows, unknown_rows
    fast = SigmoidEnsemble.from_estimator(estimator) if method == "sigmoid" else None
    model = LocalModel(
        features=space.frozen(),
        estimator=None if fast is not None else estimator,
        classes=[str(c) for c in estimator.classes_],
        cause_ids=list(taxonomy.cause_ids),
        weights=evidence_weights(estimator, len(estimator.classes_)),
        fast=fast,
        qhat=1.0,
        alpha=alpha,
        unknown_cause=taxonomy.unknown_cause,
    )
    model.abstention = fit_abstention(
        meta_features(held_out, profiles), unknown, prior=unknown_prior
    )
    final = model.with_abstention_profiles(held_out, profiles)
    truth = [model.output_classes.index(label) for label in labels]
    true_probs = final[np.arange(len(labels)), truth].tolist()
    model.qhat = class_conditional_qhat(true_probs, labels, alpha)
    model.info = {
        "fingerprint": canonical_digest(sorted(zip(case_ids, labels, strict=True)))[:12],
        "n_cases": len(labels),
        "skipped_cases": given - len(labels),
        "method": method,
        "folds": folds,
        "oof_accuracy": float(np.mean(final.argmax(axis=1) == truth)),
        "train_seconds": round(time.perf_counter() - started, 3),
    }
    return model


def _usable_examples(
    examples: Sequence[TrainingExample], taxonomy: Taxonomy
) -> list[TrainingExample]:
    """Returns the examples whose cause is in the taxonomy and common enough to learn from."""
    known = set(taxonomy.cause_ids)
    counts = Counter(e.cause for e in examples if e.cause in known)
    keep = {cause for cause, n in counts.items() if n >= MIN_PER_CAUSE}
    usable = [e for e in examples if e.cause in keep]
    if len(keep) < 2 or len(usable) < MIN_CASES:
        raise ConfigurationError(
            f"the local classifier needs at least {MIN_CASES} resolved cases covering 2 or more "
            f"causes with {MIN_PER_CAUSE}+ cases each; history has {len(examples)} cases and "
            f"usable causes {sorted(keep) or 'none'}",
        )
    return usable


def trusted_inputs() -> AbstractContextManager[None]:
    """Skips sklearn's parameter and finiteness checks, for scoring arrays this module built.

    Scoring is per case and on one small row; there the checks cost about a tenth of the call.
    A model that scores without sklearn (FrozenFeatures and `fast`) never imports it: then
    there is nothing to configure.
    """
    sklearn = sys.modules.get("sklearn")
    if sklearn is None:
        return nullcontext()
    context: AbstractContextManager[None] = sklearn.config_context(
        assume_finite=True, skip_parameter_validation=True
    )
    return context


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
        with trusted_inputs():
            # One transform for the case and every cited part: vectoriser calls dominate the cost.
            rows = self.model.features.transform([f for part in parts for f in part])
            probs = self.model.distribution(rows[0:1], parts[0][0])
        bounds = np.cumsum([0, *(len(part) for part in parts)])
        vote = similar_vote(item.similar, self.model.cause_ids)
        if vote is not None and self.knn_weight > 0:
            w = self.knn_weight
            probs = {c: (1 - w) * p + w * vote[c] for c, p in probs.items()}
        top = max(probs, key=lambda c: (probs[c], c))

        support = self.model.support(rows, top)

        def cited(part: int) -> list[int]:
            return _top_positive(support[bounds[part] : bounds[part + 1]])

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
