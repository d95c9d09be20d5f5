"""Per-model temperature calibration of LLM cause probabilities, fitted on labelled cases."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from agent.classifiers.conformal import conformal_qhat
from core.errors import ConfigurationError

# Stated probabilities of exactly 0 would stay 0 at any temperature; a floor lets the map
# move mass back to causes an over-confident model dismissed.
PROBABILITY_FLOOR = 1e-4
ECE_BINS = 10


class CalibrationRecord(BaseModel):
    """One labelled case: the model's stated distribution, the local one if any, and the true cause."""

    probabilities: dict[str, float]
    label: str
    local: dict[str, float] | None = None


class CalibrationMap(BaseModel):
    """A fitted temperature for one model, with the conformal qhat of the calibrated scores."""

    model: str
    method: Literal["temperature"] = "temperature"
    temperature: float = Field(gt=0)
    # The weight of the local classifier in the blend, fitted with the temperature when the
    # local scores were known; None keeps the classifier's configured weight.
    blend_weight: float | None = Field(default=None, ge=0, le=1)
    qhat: float | None = None
    alpha: float = 0.1
    n: int = 0
    ece_before: float | None = None
    ece_after: float | None = None
    prompt_hash: str | None = None

    def apply(self, probabilities: dict[str, float]) -> dict[str, float]:
        """Returns the distribution with log-probabilities divided by the temperature."""
        return temper(probabilities, self.temperature)

    def save(self, path: Path) -> None:
        """Writes the map as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2))


def temper(probabilities: dict[str, float], temperature: float) -> dict[str, float]:
    """Returns softmax(log(p) / T) over the causes, with p floored away from zero."""
    causes = list(probabilities)
    p = np.clip(np.array([probabilities[c] for c in causes], dtype=float), PROBABILITY_FLOOR, 1.0)
    logits = np.log(p) / temperature
    logits -= logits.max()
    weights = np.exp(logits)
    weights /= weights.sum()
    return {c: float(w) for c, w in zip(causes, weights, strict=True)}


def expected_calibration_error(
    distributions: Sequence[dict[str, float]], labels: Sequence[str], bins: int = ECE_BINS
) -> float:
    """Returns the top-label ECE: confidence against accuracy over equal-width confidence bins."""
    if not labels:
        return 0.0
    confidence = np.array([max(d.values()) for d in distributions])
    correct = np.array(
        [max(d, key=lambda c: d[c]) == y for d, y in zip(distributions, labels, strict=True)],
        dtype=float,
    )
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.mean() * abs(confidence[members].mean() - correct[members].mean())
    return float(total)


BLEND_WEIGHTS = np.linspace(0.0, 1.0, 21)
LOG_T_BOUNDS = (math.log(0.05), math.log(20.0))


class _Fitting:
    """The records as matrices, so a candidate map is scored in one vectorised pass."""

    def __init__(self, records: Sequence[CalibrationRecord]) -> None:
        self.causes = list(records[0].probabilities)
        self.labels = [r.label for r in records]
        rows = [[r.probabilities.get(c, 0.0) for c in self.causes] for r in records]
        self.log_stated = np.log(np.clip(np.array(rows, dtype=float), PROBABILITY_FLOOR, 1.0))
        local = [[(r.local or {}).get(c, 0.0) for c in self.causes] for r in records]
        self.local = np.array(local, dtype=float)
        self.truth = np.array([self.causes.index(y) for y in self.labels])

    def output(self, temperature: float, weight: float) -> np.ndarray:
        """Returns the served distributions: tempered stated numbers blended with the local ones."""
        logits = self.log_stated / temperature
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        tempered = weights / weights.sum(axis=1, keepdims=True)
        return (1.0 - weight) * tempered + weight * self.local

    def nll(self, temperature: float, weight: float) -> float:
        """Returns the mean negative log-likelihood of the true causes."""
        served = self.output(temperature, weight)[np.arange(len(self.truth)), self.truth]
        return float(-np.mean(np.log(np.maximum(served, 1e-12))))

    def best_temperature(self, weight: float) -> tuple[float, float]:
        """Returns the NLL-minimising temperature at a blend weight, and that NLL."""
        from scipy.optimize import minimize_scalar  # fitting only: serving never imports it

        best = minimize_scalar(
            lambda log_t: self.nll(math.exp(log_t), weight), bounds=LOG_T_BOUNDS, method="bounded"
        )
        return float(math.exp(best.x)), float(best.fun)

    def distributions(self, temperature: float, weight: float) -> list[dict[str, float]]:
        """Returns the served distributions as dicts."""
        return [
            dict(zip(self.causes, row, strict=True)) for row in self.output(temperature, weight)
        ]


def fit_calibration(
    records: Sequence[CalibrationRecord],
    *,
    model: str = "",
    alpha: float = 0.1,
    prompt_hash: str | None = None,
    configured_blend: float = 0.0,
) -> CalibrationMap:
    """Fits the temperature (and, when every record has local scores, the blend weight) by NLL.

    The classifier blends the calibrated numbers with the local classifier's, so with local
    scores the map is fitted on what the service serves; ece_before is the unmapped output at
    the configured blend weight.
    """
    usable = [r for r in records if r.label in r.probabilities]
    if len(usable) < 2:
        raise ConfigurationError(
            f"calibration needs at least 2 labelled records whose label is a scored cause; "
            f"got {len(usable)} of {len(records)}"
        )
    blended = all(r.local is not None for r in usable)
    data = _Fitting(usable)
    weights = BLEND_WEIGHTS if blended else np.array([0.0])
    fits = [(*data.best_temperature(float(w)), round(float(w), 4)) for w in weights]
    temperature, _, weight = min(fits, key=lambda fit: fit[1])
    calibrated = data.distributions(temperature, weight)
    before = data.distributions(1.0, configured_blend if blended else 0.0)
    return CalibrationMap(
        model=model,
        temperature=temperature,
        blend_weight=weight if blended else None,
        qhat=conformal_qhat([d[y] for d, y in zip(calibrated, data.labels, strict=True)], alpha),
        alpha=alpha,
        n=len(usable),
        ece_before=expected_calibration_error(before, data.labels),
        ece_after=expected_calibration_error(calibrated, data.labels),
        prompt_hash=prompt_hash,
    )


def calibration_path(data_dir: Path, model: str) -> Path:
    """Returns where the calibration map of a model is stored under the data directory."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
    return data_dir / "models" / "llm-calibration" / f"{slug}.json"


def load_calibration(data_dir: Path, model: str) -> CalibrationMap | None:
    """Loads the model's calibration map, or None when none has been fitted yet."""
    path = calibration_path(data_dir, model)
    if not path.exists():
        return None
    try:
        return CalibrationMap.model_validate_json(path.read_text())
    except (OSError, ValidationError) as exc:
        raise ConfigurationError(f"cannot load LLM calibration map {path}: {exc}") from exc
