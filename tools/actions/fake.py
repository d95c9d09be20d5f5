"""An in-memory action runner for tests and evals: idempotent by key, with scriptable failures."""

from __future__ import annotations

from tools.actions.base import ActionReceipt, ActionRequest
from tools.failure_script import FailureScript


class FakeActions:
    """Keeps action requests in a dict and fails on demand."""

    def __init__(self, *, fail_times: int = 0, permanent: bool = False) -> None:
        self.requests: dict[str, ActionRequest] = {}
        self.calls: list[str] = []
        self._references: dict[str, str] = {}
        self._failures = FailureScript("action target")
        self._failures.add(fail_times, permanent=permanent)

    def fail_next(self, times: int = 1, *, permanent: bool = False) -> None:
        """Makes the next `times` calls raise a retryable (or permanent) integration error."""
        self._failures.add(times, permanent=permanent)

    async def run(self, request: ActionRequest) -> ActionReceipt:
        """Records the request once per key, or raises the next scripted failure."""
        key = request.idempotency_key
        self.calls.append(key)
        self._failures.raise_next()
        duplicate = key in self.requests
        if not duplicate:
            self.requests[key] = request
            self._references[key] = f"ACT-{len(self.requests):06d}"
        return ActionReceipt(
            idempotency_key=key, reference=self._references[key], duplicate=duplicate
        )
