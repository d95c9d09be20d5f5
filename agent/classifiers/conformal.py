"""Split-conformal prediction sets over a calibrated cause distribution."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Probabilities are floats summing to 1; without a little slack a cause sitting exactly on the
# threshold could drop out of its set through rounding.
_TOLERANCE = 1e-9


def conformal_qhat(true_probs: Sequence[float], alpha: float) -> float:
    """Returns the ceil((n+1)(1-alpha))/n empirical quantile of the scores 1 - p(true cause)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    n = len(true_probs)
    if n == 0:
        return 1.0
    scores = sorted(1.0 - min(1.0, max(0.0, p)) for p in true_probs)
    rank = math.ceil((n + 1) * (1 - alpha))
    # With too few calibration cases the quantile is infinite: every cause must be in the set.
    return 1.0 if rank > n else scores[rank - 1]


def prediction_set(probabilities: dict[str, float], qhat: float) -> list[str]:
    """Returns the causes with 1 - p <= qhat by descending probability, or else the top cause."""
    ranked = sorted(probabilities.items(), key=lambda kv: (-kv[1], kv[0]))
    members = [cause for cause, p in ranked if 1.0 - p <= qhat + _TOLERANCE]
    if members or not ranked:
        return members
    return [ranked[0][0]]


def empirical_coverage(sets: Sequence[Sequence[str]], truths: Sequence[str]) -> float:
    """Returns the share of cases whose true cause is in its prediction set."""
    if not truths:
        return 0.0
    return sum(t in s for s, t in zip(sets, truths, strict=True)) / len(truths)


def class_conditional_qhat(
    true_probs: Sequence[float], labels: Sequence[str], alpha: float, *, min_cases: int = 30
) -> float:
    """Returns the largest per-cause qhat, so every cause's set reaches 1 - alpha coverage.

    Plain split-conformal promises 1 - alpha on average only; the rare, hard causes (`unknown`
    above all) fall short while the easy ones over-cover. Taking the largest class-conditional
    (Mondrian) quantile keeps the 1 - p score, and so prediction_set, unchanged. Causes with fewer
    than min_cases calibration cases fall back to the pooled quantile, whose rank would be
    meaningless on so few.
    """
    by_cause: dict[str, list[float]] = {}
    for p, label in zip(true_probs, labels, strict=True):
        by_cause.setdefault(label, []).append(p)
    pooled = conformal_qhat(true_probs, alpha)
    per_cause = [conformal_qhat(ps, alpha) for ps in by_cause.values() if len(ps) >= min_cases]
    return max([pooled, *per_cause])
