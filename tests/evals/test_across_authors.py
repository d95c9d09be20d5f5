"""Calibration and conformal sets fitted on other authors, applied to the one left out."""

from __future__ import annotations

from typing import Any

import pytest

from evals.across_authors import Fitted, apply, fit, leave_one_author_out

CAUSES = ("carrier_delay", "supplier_delay", "unknown")


def case(truth: str, top: str, p_top: float, *, auto: bool = False) -> dict[str, Any]:
    rest = (1.0 - p_top) / (len(CAUSES) - 1)
    probabilities = {c: p_top if c == top else rest for c in CAUSES}
    return {
        "expected_cause": truth,
        "predicted": top,
        "decided": top,
        "confidence": p_top,
        "probabilities": probabilities,
        "prediction_set": [top],
        "decisions": [{"action": "notify_customer", "outcome": "auto" if auto else "held"}],
    }


def overconfident(n: int = 50) -> list[dict[str, Any]]:
    """Says 0.95 every time and is right three times in five."""
    return [
        case("carrier_delay", "carrier_delay" if i % 5 < 3 else "supplier_delay", 0.95)
        for i in range(n)
    ]


def test_an_overconfident_author_gets_a_temperature_above_one() -> None:
    fitted = fit(overconfident())
    assert fitted.temperature > 1.5
    # With the sets widened to match, the true cause is in the set nine times in ten or more.
    held = apply("same", overconfident(), fitted)
    assert held.coverage_recorded == pytest.approx(0.6)
    assert held.coverage_fitted >= 0.9
    assert held.ece_fitted < held.ece_recorded


def test_an_automatic_case_whose_set_widens_is_held_and_its_error_with_it() -> None:
    cases = [
        case("carrier_delay", "supplier_delay", 0.7, auto=True),  # wrong, and not sure
        case("carrier_delay", "carrier_delay", 0.99, auto=True),  # right and sure
        case("carrier_delay", "carrier_delay", 0.99),
    ]
    held = apply("set", cases, Fitted(temperature=1.0, qhat=0.9))
    assert (held.automated_recorded, held.wrong_recorded) == (2, 1)
    # 1 - 0.15 <= 0.9 puts a second cause in the first case's set; the sure ones keep one.
    assert (held.automated_fitted, held.wrong_fitted) == (1, 0)
    assert held.loosened == 0


def test_a_narrower_set_is_counted_as_loosened_not_as_a_new_automatic_run() -> None:
    wide = case("carrier_delay", "carrier_delay", 0.99)
    wide["prediction_set"] = list(CAUSES)
    held = apply("set", [wide], Fitted(temperature=1.0, qhat=0.5))
    assert held.loosened == 1
    assert held.automated_fitted == 0


def test_the_held_out_set_never_takes_part_in_its_own_fit() -> None:
    sure = [case("carrier_delay", "carrier_delay", 0.9) for _ in range(40)]
    results = leave_one_author_out(
        {"independent-a": overconfident(), "independent-b": sure, "sim-seed-2026": sure}
    )
    by_name = {r.name: r for r in results}
    assert set(by_name) == {"independent-a", "independent-b"}  # the simulator is not an author
    assert by_name["independent-a"].fitted == fit(sure)
    assert by_name["independent-b"].fitted == fit(overconfident())


def test_one_independent_set_is_not_enough() -> None:
    with pytest.raises(ValueError, match="at least two"):
        leave_one_author_out({"independent-a": overconfident()})
