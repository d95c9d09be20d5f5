"""A circuit breaker that stops calling an endpoint that keeps failing, then probes it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from tools.llm.base import CircuitOpen

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Opens after consecutive failed calls, rejects calls while cooling down, then lets one probe through."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cool_down_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cool_down_s = cool_down_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """Returns closed, open (rejecting calls) or half_open (cool-down over, probe allowed)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.cool_down_s:
            return "open"
        return "half_open"

    def before_call(self) -> None:
        """Raises CircuitOpen unless a call may go out now."""
        state = self.state
        if state == "closed":
            return
        if state == "half_open" and not self._probing:
            self._probing = True
            return
        raise CircuitOpen(
            f"circuit open after {self._failures} consecutive LLM failures; "
            f"cooling down for {self.cool_down_s:.0f}s",
            reason="circuit_open",
            attempts=0,
        )

    def record_success(self) -> None:
        """Closes the circuit."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """Counts a failed call; opens the circuit at the threshold or when the probe failed."""
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._probing = False
