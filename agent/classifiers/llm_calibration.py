"""Per-model temperature calibration of LLM cause probabilities, fitted on labelled cases."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError
from scipy.optimize import minimize_scalar

from agent.classifiers.conformal import conformal_qhat
from core.errors import ConfigurationError

# Stated probabilities of exactly 0 would stay 0 at any temperature; a floor lets the map
# move mass back to causes an over-confident model dismissed.
PROBABILITY_FLOOR = 1e-4
ECE_BINS = 10


class CalibrationRecord(BaseModel):
    """One labelled case: the model's stated distribution and the true cause."""

    probabilities: dict[str, float]
    label: str


class CalibrationMap(BaseModel):
    """A fitted temperature for one model, with the conformal qhat of the calibrated scores."""

    model: str
    method: Literal["temperature"] = "temperature"
    temperature: float = Field(gt=0)
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


def fit_calibration(
    records: Sequence[CalibrationRecord],
    *,
    model: str = "",
    alpha: float = 0.1,
    prompt_hash: str | None = None,
) -> CalibrationMap:
    """Fits the temperature that minimises the negative log-likelihood of the true causes."""
    usable = [r for r in records if r.label in r.probabilities]
    if len(usable) < 2:
        raise ConfigurationError(
            f"calibration needs at least 2 labelled records whose label is a scored cause; "
            f"got {len(usable)} of {len(records)}"
        )

    def nll(log_t: float) -> float:
        t = math.exp(log_t)
        return -sum(math.log(temper(r.probabilities, t)[r.label]) for r in usable)

    best = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    temperature = float(math.exp(best.x))
    calibrated = [temper(r.probabilities, temperature) for r in usable]
    labels = [r.label for r in usable]
    return CalibrationMap(
        model=model,
        temperature=temperature,
        qhat=conformal_qhat([d[y] for d, y in zip(calibrated, labels, strict=True)], alpha),
        alpha=alpha,
        n=len(usable),
        ece_before=expected_calibration_error([r.probabilities for r in usable], labels),
        ece_after=expected_calibration_error(calibrated, labels),
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
