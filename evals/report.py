"""The outputs of a run: per-case records, metrics.json, cases.jsonl and the Markdown/HTML report."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.models import EvalLine
from core.results import TriageResult
from core.taxonomy import Taxonomy
from evals import metrics as m
from evals.automation import automation_metrics
from evals.figures import FIGURES, draw_figures
from evals.params import ParamCheck, check_params, other_document_params
from evals.report_sections import cases_html, cases_markdown

NO_PREDICTION = "(none)"
USAGE_FIELDS = {"usage", "classifier", "fallback_reason", "flags"}


class CaseRecord(BaseModel):
    """One evaluated case: the label against what the service predicted, proposed and did."""

    line: int
    case_id: str
    case_digest: str | None = None  # the case body's digest: matches cases across datasets
    expected_cause: str
    expected_actions: list[str]
    predicted: str | None
    decided: str | None
    correct: bool
    confidence: float
    probabilities: dict[str, float]
    prediction_set: list[str]
    routed_reason: str | None = None
    proposed_actions: list[str]
    decisions: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    executed: list[str]
    status: str
    latency_ms: float
    classifier: str | None = None
    model: str | None = None
    prompt_hash: str | None = None
    fallback_reason: str | None = None
    usage: dict[str, float] = {}
    flags: list[str] = []
    violations: list[str] = []
    labelled_params: bool = False
    params_proposed: int = 0
    param_checks: list[ParamCheck] = []
    other_document_params: list[str] = []


def case_record(
    line: int,
    item: EvalLine,
    result: TriageResult | None,
    reviews: list[dict[str, Any]],
    ms: float,
    taxonomy: Taxonomy | None = None,
) -> CaseRecord:
    """Shapes the stored triage result of one case as an eval record."""
    c = result.classification if result else None
    predicted = c.top_cause if c else None
    checks, proposed_values = (
        check_params(item.expected.params, result, taxonomy) if taxonomy else ([], 0)
    )
    return CaseRecord(
        labelled_params=bool(item.expected.params),
        params_proposed=proposed_values,
        param_checks=checks,
        other_document_params=other_document_params(item.case, result),
        line=line,
        case_id=item.case.case_id,
        case_digest=item.case.digest(),
        expected_cause=item.expected.cause,
        expected_actions=sorted(item.expected.actions),
        predicted=predicted,
        decided=c.cause if c else None,
        correct=predicted == item.expected.cause,
        confidence=c.confidence if c else 0.0,
        probabilities=c.probabilities if c else {},
        prediction_set=c.prediction_set if c else [],
        routed_reason=c.routed_reason if c else None,
        proposed_actions=sorted({p.action for p in result.proposals}) if result else [],
        decisions=[
            {"action": d.action, "outcome": d.outcome, "rules_fired": d.rules_fired}
            for d in (result.decisions if result else [])
        ],
        reviews=reviews,
        executed=result.executed if result else [],
        status=result.status.value if result else "failed",
        latency_ms=round(ms, 3),
        classifier=c.classifier if c else None,
        model=c.model if c else None,
        prompt_hash=c.prompt_hash if c else None,
        fallback_reason=c.fallback_reason if c else None,
        usage=m.case_usage(c.usage if c else {}),
        flags=c.flags if c else [],
    )


def compute_metrics(
    records: Sequence[CaseRecord], causes: Sequence[str], alpha: float, provenance: dict[str, Any]
) -> dict[str, Any]:
    """Returns metrics.json: classification, calibration, selective, conformal, actions, speed."""
    truths = [r.expected_cause for r in records]
    predicted = [r.predicted or NO_PREDICTION for r in records]
    present = set(truths) | set(predicted)
    labels = [c for c in causes if c in present] + sorted(present - set(causes))
    conf = [r.confidence for r in records]
    correct = [r.correct for r in records]
    probs = [[r.probabilities.get(c, 0.0) for c in causes] for r in records]
    truth_index = [list(causes).index(t) for t in truths]
    coverage, set_size = m.conformal_summary([r.prediction_set for r in records], truths)
    precision, recall, exact = m.action_scores(
        [set(r.expected_actions) for r in records], [set(r.proposed_actions) for r in records]
    )
    latencies = [r.latency_ms for r in records]
    return {
        "n_cases": len(records),
        "accuracy": m.accuracy(truths, predicted),
        "macro_f1": m.macro_f1(truths, predicted, labels),
        "per_cause": m.per_cause(truths, predicted, labels),
        "confusion": m.confusion(truths, predicted, labels),
        "ece": m.ece(conf, correct),
        "brier": m.brier(probs, truth_index),
        "aurc": m.aurc(conf, correct),
        "selective_accuracy_at_60": m.selective_accuracy(conf, correct, 0.6),
        "selective_accuracy_at_80": m.selective_accuracy(conf, correct, 0.8),
        "coverage_at_95": m.coverage_at(conf, correct, 0.95),
        "conformal_alpha": alpha,
        "conformal_coverage": coverage,
        "conformal_mean_set_size": set_size,
        "action_precision": precision,
        "action_recall": recall,
        "action_exact_match": exact,
        **m.param_scores(records),
        "policy_violations": sum(len(r.violations) for r in records),
        "latency_ms_p50": m.percentile(latencies, 50),
        "latency_ms_p95": m.percentile(latencies, 95),
        "unknown_f1": _f1_of(m.per_cause(truths, predicted, labels), "unknown"),
        **automation_metrics(records),
        "usage": m.usage_totals([r.model_dump(include=USAGE_FIELDS) for r in records]),
        **provenance,
    }


def _f1_of(scores: dict[str, dict[str, float]], cause: str) -> float:
    return float(scores.get(cause, {}).get("f1", 0.0))


def write_report(out_dir: Path, records: Sequence[CaseRecord], metrics: dict[str, Any]) -> Path:
    """Writes metrics.json, cases.jsonl, the figures, report.md and report.html; returns the HTML."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    with (out_dir / "cases.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record.model_dump_json() + "\n")
    images = draw_figures(out_dir, records, metrics["confusion"], metrics["aurc"])
    (out_dir / "report.md").write_text(markdown(metrics, records), encoding="utf-8")
    page = out_dir / "report.html"
    page.write_text(html_page(metrics, records, images), encoding="utf-8")
    return page


def read_run(run_dir: Path) -> tuple[dict[str, Any], list[CaseRecord]]:
    """Reads a run directory's metrics.json and cases.jsonl."""
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    lines = (run_dir / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    return metrics, [CaseRecord.model_validate_json(line) for line in lines if line.strip()]


def headline(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """Returns the scalar metrics as (name, formatted value) pairs, with flat sections as a.b."""
    rows = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            rows += [(f"{key}.{k}", _shown(v)) for k, v in value.items() if _is_scalar(v)]
        elif _is_scalar(value):
            rows.append((key, _shown(value)))
    return rows


def _is_scalar(value: Any) -> bool:
    return isinstance(value, int | float | str) or value is None


def _shown(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def markdown(metrics: dict[str, Any], records: Sequence[CaseRecord]) -> str:
    """Returns the Markdown report, linking the figures written next to it."""
    out = ["# Evaluation report", "", "| metric | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in headline(metrics)]
    out += [
        "",
        "## Per cause",
        "",
        "| cause | precision | recall | f1 | support |",
        "|---|---|---|---|---|",
    ]
    for cause, s in metrics["per_cause"].items():
        out.append(
            f"| {cause} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |"
        )
    out += [""] + [f"![{title}]({name})" for name, title in FIGURES.items()]
    out += ["", NOTE, ""]
    wrong = [r for r in records if not r.correct]
    out += [f"## Misclassified cases ({len(wrong)})", ""]
    out += [
        f"- line {r.line} `{r.case_id}`: expected {r.expected_cause}, predicted {r.predicted} "
        f"at {r.confidence:.2f}"
        for r in wrong[:50]
    ]
    out += ["", *cases_markdown(records)]
    violations = [f"- `{r.case_id}`: {v}" for r in records for v in r.violations]
    out += ["", f"## Policy violations ({len(violations)})", "", *violations]
    return "\n".join(out + param_findings(records)) + "\n"


def param_findings(records: Sequence[CaseRecord]) -> list[str]:
    """Returns the report's lists of wrong parameter values and of values from other documents."""
    wrong = [
        f"- `{r.case_id}` {c.action}.{c.param}: expected {c.expected!r}, proposed {c.proposed!r}"
        for r in records
        for c in r.param_checks
        if c.verdict == "wrong"
    ]
    other = [f"- `{r.case_id}` {name}" for r in records for name in r.other_document_params]
    return [
        "",
        f"## Wrong parameter values ({len(wrong)})",
        "",
        *wrong,
        "",
        f"## Parameter values sourced from another document ({len(other)})",
        "",
        *other,
    ]


NOTE = (
    "Classification, calibration and selective metrics score the classifier's top cause and its "
    "confidence; the service answers `unknown` (and asks a person) below the policy threshold. "
    "Action metrics compare the proposed action set with the label's, micro-averaged over cases."
)


def html_page(
    metrics: dict[str, Any], records: Sequence[CaseRecord], images: dict[str, bytes]
) -> str:
    """Returns a self-contained HTML report with the figures embedded as base64 PNG."""
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in headline(metrics)
    )
    causes = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{s['precision']:.3f}</td><td>{s['recall']:.3f}</td>"
        f"<td>{s['f1']:.3f}</td><td>{s['support']}</td></tr>"
        for c, s in metrics["per_cause"].items()
    )
    figures = "".join(
        f'<figure><img alt="{html.escape(FIGURES[name])}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{html.escape(FIGURES[name])}</figcaption></figure>"
        for name, png in images.items()
    )
    violations = "".join(
        f"<li>{html.escape(r.case_id)}: {html.escape(v)}</li>"
        for r in records
        for v in r.violations
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px}}
img{{max-width:100%}}</style></head><body>
<h1>Evaluation report</h1>
<table><tr><th>metric</th><th>value</th></tr>{rows}</table>
<h2>Per cause</h2>
<table><tr><th>cause</th><th>precision</th><th>recall</th><th>f1</th><th>support</th></tr>{causes}</table>
<h2>Figures</h2>{figures}
<p>{html.escape(NOTE)}</p>
<h2>Policy violations</h2><ul>{violations or "<li>none</li>"}</ul>
{cases_html(records)}
</body></html>
"""
