"""`triage eval suite`: every eval set with one command, one report per set and a suite table."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.dataset import SHIPPED_DIR
from evals.report import CaseRecord, compute_metrics, write_report
from evals.report_sections import cases_html
from evals.runner import RunOptions, run_eval

DATASETS_DIR = SHIPPED_DIR.parent
# The shipped regression set first, then every independently written set.
DEFAULT_SETS = (
    "sim-seed-2026",
    "independent",
    "independent-logs",
    "independent-email",
    "independent-hard",
    "independent-params",
    "independent-params2",
    "independent-params3",
    "independent-params4",
    "independent-broad",
    "independent-multilingual",
    "independent-novel",
    "independent-chat",
    "independent-handover",
    "independent-tickets",
    "independent-analyst",
    "independent-calls",
    "independent-records",
    "independent-customers",
    "independent-escalations",
    "independent-reports",
    "independent-oncall",
    "independent-suppliers",
    "independent-minutes",
    "independent-mailbox",
    "independent-texts",
    "independent-ledger",
    "independent-threepl",
    "independent-claims",
    "independent-forwarder",
    "independent-transfers",
    "independent-investigations",
    "independent-dispatch",
    "independent-returns",
    "independent-sales",
    "independent-radio",
    "independent-marketplace",
    "independent-trade",
    "independent-freightaudit",
    "independent-quality",
    "independent-controllers",
    "independent-jobsite",
    "independent-coldchain",
    "independent-foodservice",
    "independent-mro",
    "independent-electronics",
    "independent-dsd",
)
COLUMNS = (
    ("n_cases", "cases"),
    ("macro_f1", "macro-F1"),
    ("ece", "ECE"),
    ("conformal_coverage", "coverage"),
    ("unknown_f1", "unknown F1"),
    ("wrong_auto_share", "wrong auto"),
    ("automation_share", "automation"),
    ("accuracy", "accuracy"),
)


@dataclass
class SetRun:
    """One set's run in a suite: its name, metrics and records."""

    name: str
    metrics: dict[str, Any]
    records: list[CaseRecord]
    violations: list[str]


def set_path(name: str) -> Path:
    """Returns a named set's eval file: a folder under evals/datasets, or a path given as is."""
    given = Path(name)
    if given.suffix == ".jsonl":
        return given
    return DATASETS_DIR / name / "eval.jsonl"


def report_folder(name: str) -> str:
    """Returns the folder a set's report goes to: the set's name, or its file's.

    A path to a set's `eval.jsonl` (the contract's file name) is named by the folder holding
    it, so that two such sets in one suite do not write over each other's report.
    """
    given = set_path(name)
    return given.parent.name if given.name == "eval.jsonl" else given.stem


def clashing_folders(names: Sequence[str]) -> list[str]:
    """Returns the report folders that two or more of the named sets would share."""
    folders = Counter(report_folder(name) for name in names)
    return sorted(folder for folder, n in folders.items() if n > 1)


async def run_set(name: str, template: RunOptions, out: Path) -> SetRun:
    """Runs one set with the template's options and writes its report under out/<folder>."""
    options = RunOptions(**{**template.__dict__, "dataset": set_path(name)})
    result = await run_eval(options)
    metrics = compute_metrics(result.records, result.labels, result.alpha, result.provenance)
    metrics["timings"] = {key: round(value, 3) for key, value in result.timings.items()}
    write_report(out / report_folder(name), result.records, metrics)
    return SetRun(name, metrics, result.records, result.violations)


def _cell(key: str, value: Any) -> str:
    return str(value) if key == "n_cases" else f"{float(value):.3f}"


def suite_markdown(runs: Sequence[SetRun]) -> str:
    """Returns the suite table in Markdown: one row per set."""
    head = "| set | " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|---" * (len(COLUMNS) + 1) + "|"
    rows = [
        f"| {r.name} | " + " | ".join(_cell(k, r.metrics[k]) for k, _ in COLUMNS) + " |"
        for r in runs
    ]
    return "\n".join(["# Evaluation suite", "", head, rule, *rows, "", NOTE, ""])


NOTE = (
    "wrong auto: cases whose actions ran with no person while the decided cause was wrong, over "
    "the auto-run cases. automation: auto-run cases over all cases. Each set's full report is in "
    "its own folder."
)


def suite_html(runs: Sequence[SetRun]) -> str:
    """Returns the suite page: the per-set table, then each set's bins and failing cases."""
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in COLUMNS)
    rows = "".join(
        f'<tr><td><a href="{html.escape(report_folder(r.name))}/report.html">{html.escape(r.name)}'
        "</a></td>" + "".join(f"<td>{_cell(k, r.metrics[k])}</td>" for k, _ in COLUMNS) + "</tr>"
        for r in runs
    )
    sections = "".join(
        f"<section><h1>{html.escape(r.name)}</h1>{cases_html(r.records)}</section>" for r in runs
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation suite</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px}}</style></head>
<body><h1>Evaluation suite</h1>
<table><tr><th>set</th>{head}</tr>{rows}</table><p>{html.escape(NOTE)}</p>
{sections}</body></html>
"""


def write_suite(out: Path, runs: Sequence[SetRun]) -> Path:
    """Writes suite.json, report.md and report.html under out; returns the HTML page."""
    out.mkdir(parents=True, exist_ok=True)
    table = {r.name: {k: r.metrics[k] for k, _ in COLUMNS} for r in runs}
    (out / "suite.json").write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(suite_markdown(runs), encoding="utf-8")
    page = out / "report.html"
    page.write_text(suite_html(runs), encoding="utf-8")
    return page
