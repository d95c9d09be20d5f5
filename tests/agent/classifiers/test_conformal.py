"""Split-conformal helpers: the qhat quantile and prediction sets, on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from agent.classifiers.conformal import (
    class_conditional_qhat,
    conformal_qhat,
    empirical_coverage,
    prediction_set,
)


def test_qhat_is_the_ceil_n_plus_one_quantile_of_one_minus_true_probability() -> None:
    # scores 0.1, 0.2, 0.4, 0.7; rank ceil(5 * 0.5) = 3 -> 0.4
    assert conformal_qhat([0.9, 0.8, 0.6, 0.3], alpha=0.5) == pytest.approx(0.4)


def test_qhat_with_nine_cases_at_alpha_point_one_is_the_largest_score() -> None:
    probs = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.2]
    assert conformal_qhat(probs, alpha=0.1) == pytest.approx(0.8)


def test_qhat_is_one_when_too_few_cases_for_the_requested_coverage() -> None:
    assert conformal_qhat([0.9, 0.8, 0.6, 0.3], alpha=0.1) == 1.0
    assert conformal_qhat([], alpha=0.1) == 1.0


def test_qhat_rejects_alpha_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="alpha"):
        conformal_qhat([0.5], alpha=1.0)


def test_prediction_set_holds_causes_within_qhat_by_descending_probability() -> None:
    probs = {"c": 0.05, "a": 0.7, "b": 0.25}
    assert prediction_set(probs, qhat=0.8) == ["a", "b"]
    assert prediction_set(probs, qhat=1.0) == ["a", "b", "c"]


def test_prediction_set_falls_back_to_the_top_cause_when_empty() -> None:
    assert prediction_set({"a": 0.5, "b": 0.3, "c": 0.2}, qhat=0.1) == ["a"]


def test_prediction_set_keeps_a_cause_exactly_on_the_threshold() -> None:
    assert prediction_set({"a": 0.7, "b": 0.3}, qhat=1 - 0.3) == ["a", "b"]


def test_prediction_set_breaks_probability_ties_by_cause_id() -> None:
    assert prediction_set({"b": 0.5, "a": 0.5}, qhat=0.5) == ["a", "b"]


def test_sets_reach_the_promised_coverage_on_exchangeable_data() -> None:
    rng = np.random.default_rng(7)
    causes = [f"c{i}" for i in range(5)]

    def draw(n: int) -> tuple[list[dict[str, float]], list[str]]:
        logits = rng.normal(size=(n, 5)) * 2
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        truths = [causes[rng.choice(5, p=row)] for row in probs]
        return [dict(zip(causes, row, strict=True)) for row in probs], truths

    calibration, calibration_truths = draw(2000)
    qhat = conformal_qhat([p[t] for p, t in zip(calibration, calibration_truths, strict=True)], 0.1)
    test, test_truths = draw(2000)
    coverage = empirical_coverage([prediction_set(p, qhat) for p in test], test_truths)
    assert 0.88 <= coverage <= 0.93


def test_class_conditional_qhat_is_the_largest_per_cause_quantile() -> None:
    easy = [0.95] * 200
    hard = [0.9] * 30 + [0.2] * 10
    labels = ["easy"] * 200 + ["hard"] * 40
    pooled = conformal_qhat(easy + hard, 0.1)
    qhat = class_conditional_qhat(easy + hard, labels, 0.1)
    assert qhat == pytest.approx(conformal_qhat(hard, 0.1)) == pytest.approx(0.8)
    assert qhat > pooled


def test_class_conditional_qhat_ignores_causes_with_too_few_cases() -> None:
    probs, labels = [0.9] * 40 + [0.1] * 5, ["a"] * 40 + ["rare"] * 5
    assert class_conditional_qhat(probs, labels, 0.1) == conformal_qhat(probs, 0.1)


def test_class_conditional_sets_cover_a_hard_cause_that_pooled_sets_miss() -> None:
    rng = np.random.default_rng(3)

    def draw(n: int) -> tuple[list[dict[str, float]], list[str]]:
        # "hard" cases are ambiguous between two causes; "easy" ones are clear.
        rows, truths = [], []
        for _ in range(n):
            if rng.random() < 0.2:
                p = rng.uniform(0.35, 0.65)
                rows.append({"hard": p, "other": 1 - p, "easy": 0.0})
                truths.append("hard" if rng.random() < p else "other")
            else:
                rows.append({"easy": 0.97, "hard": 0.02, "other": 0.01})
                truths.append("easy" if rng.random() < 0.97 else "hard")
        return rows, truths

    cal, cal_truths = draw(3000)
    true_probs = [p[t] for p, t in zip(cal, cal_truths, strict=True)]
    test, test_truths = draw(3000)
    hard = [i for i, p in enumerate(test) if p["easy"] == 0.0]

    def hard_coverage(qhat: float) -> float:
        sets = [prediction_set(test[i], qhat) for i in hard]
        return empirical_coverage(sets, [test_truths[i] for i in hard])

    assert hard_coverage(conformal_qhat(true_probs, 0.1)) < 0.85
    assert hard_coverage(class_conditional_qhat(true_probs, cal_truths, 0.1)) >= 0.88
