"""Report sections about single cases: misclassified, auto-run with the wrong cause, confidence bins."""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from evals.automation import Scored, auto_ran, auto_wrong

BIN_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
MAX_LISTED = 200


class Listed(Scored, Protocol):
    """The parts of an eval record a case list shows."""

    line: int
    case_id: str
    predicted: str | None
    confidence: float
    correct: bool


@dataclass(frozen=True)
class ConfidenceBin:
    """The cases whose confidence falls in (lower, upper]: how many, right, auto-run, auto-wrong."""

    lower: float
    upper: float
    cases: int
    correct: int
    auto: int
    auto_wrong: int


def confidence_bins(records: Sequence[Listed]) -> list[ConfidenceBin]:
    """Returns counts per confidence bin; the first bin also holds confidence 0."""
    bins = []
    for lower, upper in itertools.pairwise(BIN_EDGES):
        inside = [
            r
            for r in records
            if lower < r.confidence <= upper or (lower == 0 and r.confidence == 0)
        ]
        bins.append(
            ConfidenceBin(
                lower,
                upper,
                len(inside),
                sum(r.correct for r in inside),
                sum(auto_ran(r) for r in inside),
                sum(auto_wrong(r) for r in inside),
            )
        )
    return bins


def _case_line(r: Listed) -> str:
    return (
        f"line {r.line} {r.case_id}: expected {r.expected_cause}, predicted {r.predicted} "
        f"at {r.confidence:.2f}, decided {r.decided}"
    )


def _items(lines: list[str]) -> str:
    shown = "".join(f"<li>{html.escape(line)}</li>" for line in lines[:MAX_LISTED])
    more = f"<li>… and {len(lines) - MAX_LISTED} more</li>" if len(lines) > MAX_LISTED else ""
    return f"<ul>{shown or '<li>none</li>'}{more}</ul>"


def cases_html(records: Sequence[Listed]) -> str:
    """Returns the HTML sections: confidence bins, misclassified and auto-run-but-wrong cases."""
    bins = "".join(
        f"<tr><td>({b.lower:.2f}, {b.upper:.2f}]</td><td>{b.cases}</td><td>{b.correct}</td>"
        f"<td>{b.auto}</td><td>{b.auto_wrong}</td></tr>"
        for b in confidence_bins(records)
    )
    wrong = [_case_line(r) for r in records if not r.correct]
    auto_bad = [_case_line(r) for r in records if auto_wrong(r)]
    return (
        "<h2>Cases per confidence bin</h2><table><tr><th>confidence</th><th>cases</th>"
        f"<th>correct</th><th>auto-run</th><th>auto-run, wrong cause</th></tr>{bins}</table>"
        f"<h2>Auto-executed with the wrong cause ({len(auto_bad)})</h2>{_items(auto_bad)}"
        f"<h2>Misclassified cases ({len(wrong)})</h2>{_items(wrong)}"
    )


def cases_markdown(records: Sequence[Listed]) -> list[str]:
    """Returns the Markdown lines of the confidence bins and the auto-run-but-wrong cases."""
    out = [
        "## Cases per confidence bin",
        "",
        "| confidence | cases | correct | auto | auto wrong |",
    ]
    out.append("|---|---|---|---|---|")
    out += [
        f"| ({b.lower:.2f}, {b.upper:.2f}] | {b.cases} | {b.correct} | {b.auto} | {b.auto_wrong} |"
        for b in confidence_bins(records)
    ]
    auto_bad = [f"- {_case_line(r)}" for r in records if auto_wrong(r)]
    return [*out, "", f"## Auto-executed with the wrong cause ({len(auto_bad)})", "", *auto_bad]
