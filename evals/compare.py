"""Compares two eval runs: per-metric deltas and the cases whose prediction flipped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.report import read_run


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


def compare(run_a: Path, run_b: Path) -> Comparison:
    """Returns the metric deltas and flipped predictions between two run directories."""
    metrics_a, cases_a = read_run(run_a)
    metrics_b, cases_b = read_run(run_b)
    deltas = [
        MetricDelta(key, float(value), float(metrics_b[key]))
        for key, value in metrics_a.items()
        if _is_number(value) and _is_number(metrics_b.get(key))
    ]
    by_id_b = {c.case_id: c for c in cases_b}
    ids_a = {c.case_id for c in cases_a}
    flipped = [
        FlippedCase(a.case_id, a.expected_cause, a.predicted, by_id_b[a.case_id].predicted)
        for a in cases_a
        if a.case_id in by_id_b and a.predicted != by_id_b[a.case_id].predicted
    ]
    return Comparison(
        deltas=deltas,
        flipped=flipped,
        only_a=sorted(ids_a - set(by_id_b)),
        only_b=sorted(set(by_id_b) - ids_a),
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
