"""What the workflow and the tools report for metrics, without depending on a metrics library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Telemetry(Protocol):
    """Receives the measurements the service makes as it works."""

    def triage_finished(self, seconds: float) -> None:
        """Records how long one graph run of a new case took."""
        ...

    def approval_completed(self, outcome: str, seconds: float) -> None:
        """Records an approval's outcome and the time from its opening to its completion."""
        ...

    def llm_called(self, model: str, usage: Mapping[str, int], error: str | None) -> None:
        """Records one chat-model call, its token usage and the failure reason, if any."""
        ...


class NoTelemetry:
    """Discards every measurement (evals and tests that do not look at metrics)."""

    def triage_finished(self, seconds: float) -> None:
        """Discards the measurement."""

    def approval_completed(self, outcome: str, seconds: float) -> None:
        """Discards the measurement."""

    def llm_called(self, model: str, usage: Mapping[str, int], error: str | None) -> None:
        """Discards the measurement."""
