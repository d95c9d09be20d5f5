"""Pure evaluation metrics: classification, calibration, selective prediction, actions, latency."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from agent.classifiers.conformal import empirical_coverage

ECE_BINS = 15


def accuracy(truths: Sequence[str], predictions: Sequence[str]) -> float:
    """Returns the share of cases whose prediction equals the truth."""
    if not truths:
        return 0.0
    return sum(t == p for t, p in zip(truths, predictions, strict=True)) / len(truths)


def label_set(truths: Sequence[str], predictions: Sequence[str]) -> list[str]:
    """Returns every label that occurs as a truth or a prediction, sorted."""
    return sorted(set(truths) | set(predictions))


def per_cause(
    truths: Sequence[str], predictions: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, dict[str, float]]:
    """Returns precision, recall, f1 and support for every label (0 where undefined)."""
    names = list(labels) if labels is not None else label_set(truths, predictions)
    if not names:
        return {}
    precision, recall, f1, support = precision_recall_fscore_support(
        truths, predictions, labels=names, zero_division=0
    )
    return {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(names)
    }


def macro_f1(
    truths: Sequence[str], predictions: Sequence[str], labels: Sequence[str] | None = None
) -> float:
    """Returns the unweighted mean F1 over the labels that occur as truth or prediction."""
    scores = per_cause(truths, predictions, labels)
    return float(np.mean([s["f1"] for s in scores.values()])) if scores else 0.0


def confusion(
    truths: Sequence[str], predictions: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Returns the confusion matrix: rows are true labels, columns predicted labels."""
    names = list(labels) if labels is not None else label_set(truths, predictions)
    if not names or not truths:
        return {"labels": names, "matrix": [[0] * len(names) for _ in names]}
    matrix = confusion_matrix(truths, predictions, labels=names)
    return {"labels": names, "matrix": matrix.astype(int).tolist()}


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width confidence bin: its range, size, mean confidence and accuracy."""

    lower: float
    upper: float
    count: int
    confidence: float
    accuracy: float


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> list[ReliabilityBin]:
    """Returns the non-empty equal-width bins over [0, 1]; each bin is (lower, upper], 0 in the first."""
    conf = np.asarray(confidences, dtype=float)
    hits = np.asarray(correct, dtype=float)
    # ceil(c * bins) - 1 puts a confidence sitting exactly on an edge into the lower bin.
    index = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    result = []
    for b in range(bins):
        member = index == b
        if member.any():
            result.append(
                ReliabilityBin(
                    lower=b / bins,
                    upper=(b + 1) / bins,
                    count=int(member.sum()),
                    confidence=float(conf[member].mean()),
                    accuracy=float(hits[member].mean()),
                )
            )
    return result


def ece(confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS) -> float:
    """Returns the expected calibration error: the size-weighted |accuracy - confidence| per bin."""
    n = len(confidences)
    if n == 0:
        return 0.0
    return float(
        sum(
            b.count / n * abs(b.accuracy - b.confidence)
            for b in reliability_bins(confidences, correct, bins)
        )
    )


def brier(probabilities: Sequence[Sequence[float]], truth_index: Sequence[int]) -> float:
    """Returns the multi-class Brier score: the mean over cases of sum over classes (p - y)^2."""
    if not truth_index:
        return 0.0
    p = np.asarray(probabilities, dtype=float)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(truth_index)), truth_index] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def cumulative_errors(confidences: Sequence[float], correct: Sequence[bool]) -> np.ndarray:
    """Returns the expected errors among the k most confident cases, for k = 1..n.

    Cases tied on confidence are accepted or refused together by any threshold, so within a tie
    the errors are spread evenly: the expectation over every order of the tied cases.
    """
    conf = np.asarray(confidences, dtype=float)
    wrong = 1.0 - np.asarray(correct, dtype=float)
    order = np.argsort(-conf, kind="stable")
    conf, wrong = conf[order], wrong[order]
    spread = wrong.copy()
    start = 0
    for end in range(1, len(conf) + 1):
        if end == len(conf) or conf[end] != conf[start]:
            spread[start:end] = wrong[start:end].mean()
            start = end
    return np.cumsum(spread)


def risk_coverage(
    confidences: Sequence[float], correct: Sequence[bool]
) -> tuple[list[float], list[float]]:
    """Returns the risk-coverage curve: coverage k/n and the error rate of the k most confident."""
    n = len(confidences)
    if n == 0:
        return [], []
    k = np.arange(1, n + 1)
    risks = cumulative_errors(confidences, correct) / k
    return (k / n).tolist(), risks.tolist()


def aurc(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Returns the area under the risk-coverage curve: the mean risk over coverages 1/n..n/n."""
    _, risks = risk_coverage(confidences, correct)
    return float(np.mean(risks)) if risks else 0.0


def selective_accuracy(
    confidences: Sequence[float], correct: Sequence[bool], coverage: float
) -> float:
    """Returns the accuracy on the ceil(coverage * n) most confident cases."""
    n = len(confidences)
    if n == 0:
        return 0.0
    # The small slack stops 0.6 * 10 = 6.000000000000001 from rounding up to 7 cases.
    k = min(n, max(1, math.ceil(coverage * n - 1e-9)))
    return float(1.0 - cumulative_errors(confidences, correct)[k - 1] / k)


def coverage_at(confidences: Sequence[float], correct: Sequence[bool], target: float) -> float:
    """Returns the largest coverage k/n whose selective accuracy is at least target, else 0."""
    n = len(confidences)
    if n == 0:
        return 0.0
    k = np.arange(1, n + 1)
    accuracies = 1.0 - cumulative_errors(confidences, correct) / k
    good = np.nonzero(accuracies >= target - 1e-12)[0]
    return float((good[-1] + 1) / n) if len(good) else 0.0


def conformal_summary(sets: Sequence[Sequence[str]], truths: Sequence[str]) -> tuple[float, float]:
    """Returns the empirical coverage of the prediction sets and their mean size."""
    if not truths:
        return 0.0, 0.0
    return empirical_coverage(sets, truths), float(np.mean([len(s) for s in sets]))


def action_scores(
    expected: Sequence[Set[str]], proposed: Sequence[Set[str]]
) -> tuple[float, float, float]:
    """Returns micro precision and recall over cases' action sets and their exact-match rate."""
    if not expected:
        return 0.0, 0.0, 0.0
    pairs = list(zip(expected, proposed, strict=True))
    hits = sum(len(e & p) for e, p in pairs)
    n_proposed = sum(len(p) for _, p in pairs)
    n_expected = sum(len(e) for e, _ in pairs)
    # Nothing proposed is nothing wrong, and nothing expected is nothing missed.
    precision = hits / n_proposed if n_proposed else 1.0
    recall = hits / n_expected if n_expected else 1.0
    exact = sum(e == p for e, p in pairs) / len(pairs)
    return precision, recall, exact


def percentile(values: Sequence[float], q: float) -> float:
    """Returns the q-th percentile (linear interpolation), or 0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else 0.0


USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "llm_attempts")


def case_usage(usage: Mapping[str, float]) -> dict[str, float]:
    """Returns a result's token counts, cost and LLM attempts, with 0 for what it lacks."""
    found = {key: float(usage.get(key, 0.0)) for key in USAGE_KEYS}
    if "total_tokens" not in usage:
        found["total_tokens"] = found["prompt_tokens"] + found["completion_tokens"]
    return found


def usage_totals(results: Sequence[Mapping[str, Any]]) -> dict[str, float | int]:
    """Sums token usage and cost over results (dicts with usage, classifier, fallback and flags)."""
    usages = [case_usage(r.get("usage") or {}) for r in results]
    flags = [set(r.get("flags") or ()) for r in results]

    def total(key: str) -> float:
        return math.fsum(u[key] for u in usages)

    return {
        "prompt_tokens": int(total("prompt_tokens")),
        "completion_tokens": int(total("completion_tokens")),
        "total_tokens": int(total("total_tokens")),
        "cost_usd": total("cost_usd"),
        # Requests sent to the endpoint, retries included; a replayed run sends none.
        "llm_calls": int(total("llm_attempts")),
        "llm_scored": sum(r.get("classifier") == "llm" for r in results),
        "fallbacks": sum(bool(r.get("fallback_reason")) for r in results),
        "replayed": sum("replayed" in f for f in flags),
        "unpriced": sum("unpriced" in f for f in flags),
    }


def param_scores(records: Sequence[Any]) -> dict[str, float | int]:
    """Returns parameter precision and fill over the cases whose label carries expected params.

    `param_wrong_share` is wrong values out of every value proposed on those cases (a value the
    label leaves out is acceptable); `param_wrong_share_checked` counts only labelled values.
    Fill is the labelled values of proposed actions that were proposed non-empty. Values whose
    source is evidence about another document are counted on every case, labelled or not.
    """
    labelled = [r for r in records if r.labelled_params]
    checks = [c for r in labelled for c in r.param_checks]
    proposed = sum(r.params_proposed for r in labelled)
    wrong = sum(c.verdict == "wrong" for c in checks)
    filled = sum(c.verdict != "missing" for c in checks)
    return {
        "param_cases_labelled": len(labelled),
        "param_values_proposed": proposed,
        "param_values_checked": filled,
        "param_values_wrong": wrong,
        "param_wrong_share": wrong / proposed if proposed else 0.0,
        "param_wrong_share_checked": wrong / filled if filled else 0.0,
        "param_fill_rate": filled / len(checks) if checks else 0.0,
        "param_other_document": sum(len(r.other_document_params) for r in records),
    }
