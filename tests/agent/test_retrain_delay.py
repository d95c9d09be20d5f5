"""A background retrain waits for its debounce, or long enough to keep training under 10% of time."""

from __future__ import annotations

import pytest

from agent.learning import retrain_delay


@pytest.mark.parametrize(
    ("debounce_s", "last_train_s", "expected_s"),
    [
        (30.0, 0.0, 30.0),  # never trained yet: the debounce alone
        (30.0, 2.0, 30.0),  # a quick training fits in the debounce
        (30.0, 35.0, 315.0),  # 35 s of training waits 9 x 35 s: 10% of the time at most
        (0.0, 35.0, 0.0),  # an immediate retrain stays immediate
    ],
)
def test_retrain_delay_bounds_training_to_a_tenth_of_the_time(
    debounce_s: float, last_train_s: float, expected_s: float
) -> None:
    assert retrain_delay(debounce_s, last_train_s) == pytest.approx(expected_s)
