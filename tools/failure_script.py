"""Scripted failures for the in-memory fakes, so tests can make a target fail N times."""

from __future__ import annotations

from core.errors import IntegrationError, PermanentIntegrationError, RetryableIntegrationError


class FailureScript:
    """A queue of integration errors that a fake raises before it starts succeeding."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._failures: list[IntegrationError] = []

    def add(self, times: int = 1, *, permanent: bool = False) -> None:
        """Queues `times` retryable (or permanent) failures."""
        for _ in range(times):
            if permanent:
                self._failures.append(PermanentIntegrationError(f"fake {self.target} refused"))
            else:
                self._failures.append(RetryableIntegrationError(f"fake {self.target} unavailable"))

    def raise_next(self) -> None:
        """Raises the next queued failure, if any."""
        if self._failures:
            raise self._failures.pop(0)
