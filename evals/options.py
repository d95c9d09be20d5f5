"""What an eval run is asked to do and what one shard returns; light, for any process to import."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from core.models import EvalLine
from evals.processes import default_concurrency
from evals.report import CaseRecord

ClassifierName = Literal["local", "llm"]
NumberedLines = list[tuple[int, EvalLine]]


@dataclass
class RunOptions:
    """What to evaluate and how."""

    dataset: Path
    history: Path | None = None
    messages: Path | None = None
    classifier: ClassifierName = "local"
    concurrency: int | None = None  # cases in flight per worker; None: the classifier's default
    skip_invalid: bool = False
    calibration: Path | None = None
    seed: int | None = None
    show_progress: bool = True
    limit: int | None = None
    workers: int = 1
    record: Path | None = None
    replay: Path | None = None
    fit_calibration: bool = False
    calibration_out: Path | None = None

    def cases_in_flight(self) -> int:
        """Returns --concurrency, or the classifier's default when it was not given."""
        return self.concurrency or default_concurrency(self.classifier)


@dataclass
class ShardResult:
    """What one store produced: records, violations, timings and the conformal qhat it used."""

    records: list[CaseRecord]
    violations: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    qhat: float | None = None


class ProgressSink(Protocol):
    """The part of a rich Progress the runner uses, so worker processes can forward it."""

    def add_task(self, description: str, *, total: float | None = ...) -> Any:
        """Starts a task and returns its id."""
        ...

    def advance(self, task_id: Any, advance: float = 1) -> None:
        """Advances a task."""
        ...
