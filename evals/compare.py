"""Compares two eval runs: per-metric deltas and the cases whose prediction flipped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.report import CaseRecord, read_run


@dataclass(frozen=True)
class MetricDelta:
    """One scalar metric in both runs and its change (b - a)."""

    metric: str
    a: float
    b: float

    @property
    def delta(self) -> float:
        """Returns b - a."""
        return self.b - self.a


@dataclass(frozen=True)
class FlippedCase:
    """A case both runs scored, predicted differently by each."""

    case_id: str
    expected: str
    a: str | None
    b: str | None

    @property
    def change(self) -> str:
        """Returns fixed, broken or changed (wrong in both runs)."""
        if self.b == self.expected:
            return "fixed"
        return "broken" if self.a == self.expected else "changed"


@dataclass(frozen=True)
class Comparison:
    """The differences between run A and run B."""

    deltas: list[MetricDelta]
    flipped: list[FlippedCase]
    only_a: list[str]
    only_b: list[str]
    provenance: dict[str, tuple[Any, Any]]


PROVENANCE = ("classifier", "model", "prompt_hash", "dataset_sha256")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class DifferentDatasets(ValueError):
    """Raised when two runs evaluated different datasets and matching by case id means nothing."""


def _key(case: CaseRecord, by_content: bool) -> str:
    return (case.case_digest or case.case_id) if by_content else case.case_id


def compare(run_a: Path, run_b: Path, *, force: bool = False) -> Comparison:
    """Returns the metric deltas and flipped predictions between two run directories.

    Runs of different datasets are refused unless forced; then cases match by content digest,
    since the same id in two datasets may name two different cases.
    """
    metrics_a, cases_a = read_run(run_a)
    metrics_b, cases_b = read_run(run_b)
    sha_a, sha_b = metrics_a.get("dataset_sha256"), metrics_b.get("dataset_sha256")
    if sha_a != sha_b and not force:
        raise DifferentDatasets(
            f"the runs evaluated different datasets (sha256 {str(sha_a)[:12]} and "
            f"{str(sha_b)[:12]}); pass --force to compare them, matching cases by content"
        )
    by_content = sha_a != sha_b
    deltas = [
        MetricDelta(key, float(value), float(metrics_b[key]))
        for key, value in metrics_a.items()
        if _is_number(value) and _is_number(metrics_b.get(key))
    ]
    by_key_b = {_key(c, by_content): c for c in cases_b}
    keys_a = {_key(c, by_content): c for c in cases_a}
    flipped = [
        FlippedCase(a.case_id, a.expected_cause, a.predicted, by_key_b[key].predicted)
        for key, a in keys_a.items()
        if key in by_key_b and a.predicted != by_key_b[key].predicted
    ]
    return Comparison(
        deltas=deltas,
        flipped=flipped,
        only_a=sorted(keys_a[k].case_id for k in set(keys_a) - set(by_key_b)),
        only_b=sorted(by_key_b[k].case_id for k in set(by_key_b) - set(keys_a)),
        provenance={k: (metrics_a.get(k), metrics_b.get(k)) for k in PROVENANCE},
    )


def print_comparison(comparison: Comparison, console: Console | None = None) -> None:
    """Prints the deltas, provenance differences and flipped cases as rich tables."""
    out = console or Console()
    table = Table(title="Metrics (delta = B - A)")
    for column in ("metric", "A", "B", "delta"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for d in comparison.deltas:
        colour = "green" if d.delta > 0 else "red" if d.delta < 0 else "dim"
        table.add_row(d.metric, f"{d.a:.4f}", f"{d.b:.4f}", f"[{colour}]{d.delta:+.4f}[/]")
    out.print(table)
    for key, (a, b) in comparison.provenance.items():
        if a != b:
            out.print(f"[yellow]{key} differs:[/] A={a} B={b}")
    flips = Table(title=f"Flipped predictions ({len(comparison.flipped)})")
    for column in ("case", "expected", "A", "B", "change"):
        flips.add_column(column)
    for f in comparison.flipped:
        flips.add_row(f.case_id, f.expected, str(f.a), str(f.b), f.change)
    out.print(flips)
    if comparison.only_a or comparison.only_b:
        out.print(f"cases only in A: {len(comparison.only_a)}, only in B: {len(comparison.only_b)}")
