"""The diagnosis: threshold, conformal set, and the policy's floor under the conformal qhat."""

from __future__ import annotations

from agent.classifiers.base import CauseScores
from agent.diagnosis import diagnose
from core.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()


def scores(qhat: float | None) -> CauseScores:
    return CauseScores(
        probabilities={"carrier_delay": 0.88, "carrier_cutoff_missed": 0.08, "unknown": 0.04},
        classifier="scripted",
        conformal_qhat=qhat,
    )


def test_the_classifier_qhat_alone_keeps_a_sure_case_to_one_cause() -> None:
    decided = diagnose(scores(0.6), TAXONOMY, threshold=0.6)
    assert decided.prediction_set == ["carrier_delay"]
    assert decided.routed_reason is None


def test_a_higher_floor_widens_the_set_and_sends_the_case_to_a_person() -> None:
    # 1 - 0.08 = 0.92 <= 0.93: the runner-up joins; 1 - 0.04 = 0.96 does not.
    decided = diagnose(scores(0.6), TAXONOMY, threshold=0.6, qhat_floor=0.93)
    assert decided.prediction_set == ["carrier_delay", "carrier_cutoff_missed"]
    assert decided.cause == "carrier_delay"
    assert decided.routed_reason == (
        "the conformal set holds 2 causes: carrier_delay, carrier_cutoff_missed"
    )


def test_a_floor_below_the_classifier_qhat_changes_nothing() -> None:
    wide = diagnose(scores(0.95), TAXONOMY, threshold=0.6)
    floored = diagnose(scores(0.95), TAXONOMY, threshold=0.6, qhat_floor=0.5)
    assert (
        floored.prediction_set == wide.prediction_set == ["carrier_delay", "carrier_cutoff_missed"]
    )


def test_a_classifier_without_a_qhat_keeps_its_top_cause_alone() -> None:
    decided = diagnose(scores(None), TAXONOMY, threshold=0.6, qhat_floor=0.99)
    assert decided.prediction_set == ["carrier_delay"]
