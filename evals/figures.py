"""The report's figures: reliability diagram, confusion heatmap and risk-coverage curve."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals import metrics as m

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from evals.report import CaseRecord

FIGURES = {
    "reliability.png": "Reliability diagram (15 equal-width bins)",
    "confusion.png": "Confusion matrix (rows: expected, columns: predicted)",
    "risk_coverage.png": "Risk-coverage curve",
}


def new_figure(width: float, height: float) -> Figure:
    """Returns an empty figure; matplotlib loads here, so eval workers never pay for it."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, and no GUI toolkit in a server or CI
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def reliability_figure(records: Sequence[CaseRecord]) -> Figure:
    """Draws accuracy against confidence per bin, with the diagonal of perfect calibration."""
    fig = new_figure(5, 5)
    ax = fig.subplots()
    bins = m.reliability_bins([r.confidence for r in records], [r.correct for r in records])
    width = 1 / m.ECE_BINS
    ax.bar(
        [b.lower for b in bins],
        [b.accuracy for b in bins],
        width=width,
        align="edge",
        edgecolor="black",
        alpha=0.7,
        label="accuracy",
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.plot(
        [b.confidence for b in bins],
        [b.accuracy for b in bins],
        "o",
        color="black",
        label="bin: mean confidence, accuracy",
    )
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="top-class confidence", ylabel="accuracy")
    ax.legend(loc="upper left")
    return fig


def confusion_figure(confusion: dict[str, Any]) -> Figure:
    """Draws the confusion matrix as an annotated heatmap."""
    labels, matrix = confusion["labels"], confusion["matrix"]
    size = max(5.0, 0.55 * len(labels) + 2)
    fig = new_figure(size, size)
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.7)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set(xlabel="predicted", ylabel="expected")
    peak = max((max(row) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                colour = "white" if count > peak / 2 else "black"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color=colour)
    fig.tight_layout()
    return fig


def risk_coverage_figure(records: Sequence[CaseRecord], aurc: float) -> Figure:
    """Draws the error rate of the most confident cases against the share of cases answered."""
    fig = new_figure(6, 4)
    ax = fig.subplots()
    coverage, risk = m.risk_coverage([r.confidence for r in records], [r.correct for r in records])
    ax.plot(coverage, risk, label=f"AURC = {aurc:.4f}")
    ax.axhline(0.05, linestyle="--", color="grey", label="5% risk")
    ax.set(xlim=(0, 1), ylim=(0, max([0.1, *risk])), xlabel="coverage", ylabel="risk (error rate)")
    ax.legend()
    return fig


def draw_figures(
    out_dir: Path, records: Sequence[CaseRecord], confusion: dict[str, Any], aurc: float
) -> dict[str, bytes]:
    """Writes the three figures as PNG files next to the report and returns their bytes."""
    figures = {
        "reliability.png": reliability_figure(records),
        "confusion.png": confusion_figure(confusion),
        "risk_coverage.png": risk_coverage_figure(records, aurc),
    }
    images = {}
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        images[name] = buffer.getvalue()
        (out_dir / name).write_bytes(images[name])
    return images
