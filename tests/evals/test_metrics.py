"""Metrics agree with hand-computed examples and with a synthetic, perfectly calibrated classifier."""

from __future__ import annotations

import numpy as np
import pytest

from agent.classifiers.conformal import conformal_qhat, prediction_set
from evals import metrics as m


def test_accuracy_per_cause_and_macro_f1_match_hand_counts() -> None:
    truths, preds = ["a", "a", "b", "b"], ["a", "b", "b", "b"]
    scores = m.per_cause(truths, preds)
    assert m.accuracy(truths, preds) == 0.75
    assert scores["a"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert scores["b"]["precision"] == pytest.approx(2 / 3)
    assert scores["b"]["f1"] == pytest.approx(0.8)
    assert m.macro_f1(truths, preds) == pytest.approx((2 / 3 + 0.8) / 2)


def test_confusion_rows_are_expected_and_columns_predicted() -> None:
    result = m.confusion(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    assert result == {"labels": ["a", "b"], "matrix": [[1, 1], [0, 1]]}


def test_ece_weights_each_bins_gap_by_its_size() -> None:
    # Bins: {0.9, 0.9} acc 0.5 -> gap 0.4 * 2/4; {0.6} acc 1 -> 0.4 * 1/4; {0.3} acc 0 -> 0.3 * 1/4.
    assert m.ece([0.9, 0.9, 0.6, 0.3], [True, False, True, False]) == pytest.approx(0.375)


def test_ece_is_zero_when_accuracy_matches_confidence_in_every_bin() -> None:
    assert m.ece([0.5, 0.5, 1.0], [True, False, True]) == pytest.approx(0.0)


def test_reliability_bins_put_edges_in_the_lower_bin_and_zero_in_the_first() -> None:
    bins = m.reliability_bins([0.0, 1 / 15, 1.0], [False, True, True])
    assert [(b.lower, b.count) for b in bins] == [(0.0, 2), (pytest.approx(14 / 15), 1)]


def test_brier_sums_squared_errors_over_classes_and_averages_over_cases() -> None:
    probs = [[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]]
    # (0.09 + 0.04 + 0.01) and (0.01 + 0.25 + 0.36), averaged.
    assert m.brier(probs, [0, 2]) == pytest.approx((0.14 + 0.62) / 2)


def test_aurc_averages_the_risk_of_the_k_most_confident_cases() -> None:
    conf, correct = [0.9, 0.8, 0.7, 0.6], [True, False, True, True]
    assert m.risk_coverage(conf, correct) == (
        [0.25, 0.5, 0.75, 1.0],
        [0.0, 0.5, pytest.approx(1 / 3), 0.25],
    )
    assert m.aurc(conf, correct) == pytest.approx((0 + 0.5 + 1 / 3 + 0.25) / 4)


def test_aurc_spreads_errors_evenly_over_tied_confidences() -> None:
    assert m.aurc([0.9, 0.9], [True, False]) == pytest.approx(0.5)
    assert m.aurc([0.9, 0.9], [False, True]) == pytest.approx(0.5)


def test_selective_accuracy_keeps_the_most_confident_share() -> None:
    conf, correct = [0.95, 0.9, 0.8, 0.7, 0.6], [True, True, False, True, False]
    assert m.selective_accuracy(conf, correct, 0.6) == pytest.approx(2 / 3)
    assert m.selective_accuracy(conf, correct, 0.8) == pytest.approx(0.75)
    assert m.selective_accuracy(conf, correct, 1.0) == pytest.approx(0.6)


def test_selective_accuracy_does_not_round_a_float_product_up() -> None:
    # 0.6 * 10 is 6.000000000000001 in floating point; the six most confident must be used.
    conf = [1.0 - i / 100 for i in range(10)]
    correct = [True] * 6 + [False] * 4
    assert m.selective_accuracy(conf, correct, 0.6) == 1.0


def test_coverage_at_95_is_the_largest_coverage_meeting_the_target() -> None:
    conf, correct = [0.95, 0.9, 0.8, 0.7, 0.6], [True, True, False, True, False]
    assert m.coverage_at(conf, correct, 0.95) == pytest.approx(0.4)
    # One early error: accuracy climbs back to 19/20 = 0.95 only at full coverage.
    conf = [1.0 - i / 100 for i in range(20)]
    assert m.coverage_at(conf, [False] + [True] * 19, 0.95) == 1.0
    assert m.coverage_at([0.9], [False], 0.95) == 0.0


def test_conformal_summary_counts_truths_inside_sets_and_their_sizes() -> None:
    coverage, size = m.conformal_summary([["a"], ["a", "b"], ["c"]], ["a", "b", "a"])
    assert coverage == pytest.approx(2 / 3)
    assert size == pytest.approx(4 / 3)


def test_action_scores_are_micro_averaged_set_comparisons() -> None:
    expected = [{"x", "y"}, {"z"}, set()]
    proposed = [{"x"}, {"z", "w"}, set()]
    assert m.action_scores(expected, proposed) == (
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
    )


def test_latency_percentiles_interpolate() -> None:
    assert m.percentile([10, 20, 30, 40], 50) == 25
    assert m.percentile([], 95) == 0.0


def test_empty_inputs_give_zero_not_errors() -> None:
    assert m.ece([], []) == 0.0
    assert m.aurc([], []) == 0.0
    assert m.selective_accuracy([], [], 0.6) == 0.0
    assert m.macro_f1([], []) == 0.0


def _calibrated_sample(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns probability vectors and labels drawn from those very probabilities."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.6), size=n)
    labels = np.array([rng.choice(k, p=p) for p in probs])
    return probs, labels


def test_a_perfectly_calibrated_classifier_has_ece_near_zero() -> None:
    probs, labels = _calibrated_sample(20_000, 5, seed=7)
    correct = probs.argmax(axis=1) == labels
    assert m.ece(probs.max(axis=1).tolist(), correct.tolist()) < 0.02


def test_split_conformal_sets_of_a_calibrated_classifier_reach_the_target_coverage() -> None:
    alpha = 0.1
    probs, labels = _calibrated_sample(20_000, 5, seed=11)
    names = [f"c{i}" for i in range(5)]
    cal, test = slice(0, 10_000), slice(10_000, 20_000)
    qhat = conformal_qhat(probs[cal][np.arange(10_000), labels[cal]].tolist(), alpha)
    sets = [prediction_set(dict(zip(names, p.tolist(), strict=True)), qhat) for p in probs[test]]
    coverage, size = m.conformal_summary(sets, [names[y] for y in labels[test]])
    assert coverage >= 1 - alpha - 0.01
    assert 1.0 <= size < 5.0
