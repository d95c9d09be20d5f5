"""Runs an eval dataset through the production graph on temporary stores, in one or more processes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.classifiers.llm_calibration import CalibrationMap, calibration_path
from core.errors import ConfigurationError
from core.models import EvalLine
from core.settings import Settings
from core.taxonomy import load_taxonomy
from evals.dataset import load_eval
from evals.options import ClassifierName, NumberedLines, RunOptions, ShardResult
from evals.processes import default_workers, warm_up_workers
from evals.report import CaseRecord
from evals.workers import run_sharded
from policies import load_policy

__all__ = ["ClassifierName", "EvalRun", "RunOptions", "default_workers", "run_eval"]


@dataclass
class EvalRun:
    """Everything a run produced: per-case records, provenance, timings and notes for the reader."""

    records: list[CaseRecord]
    labels: list[str]
    alpha: float
    provenance: dict[str, Any]
    skipped_lines: int
    violations: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress]:
    """Yields a rich progress display on stderr (silent when disabled)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    console = Console(stderr=True)
    with Progress(*columns, TimeElapsedColumn(), console=console, disable=not enabled) as bar:
        yield bar


def check_options(options: RunOptions) -> None:
    """Raises ConfigurationError for option combinations that cannot work."""
    llm_only = {
        "--record": options.record is not None,
        "--replay": options.replay is not None,
        "--fit-calibration": options.fit_calibration,
    }
    for name, given in llm_only.items():
        if given and options.classifier != "llm":
            raise ConfigurationError(f"{name} needs --classifier llm")
    if options.record is not None and options.replay is not None:
        raise ConfigurationError("--record and --replay exclude each other")
    if options.calibration_out is not None and not options.fit_calibration:
        raise ConfigurationError("--calibration-out needs --fit-calibration")
    if options.workers < 1:
        raise ConfigurationError("--workers must be at least 1")


async def run_eval(options: RunOptions) -> EvalRun:
    """Runs the dataset through the production graph on temporary stores; returns the records."""
    started = time.perf_counter()
    check_options(options)
    if options.workers > 1:
        warm_up_workers()
    base = Settings()
    taxonomy = load_taxonomy(base.taxonomy_file)
    load_policy(base.policy_file, taxonomy)  # a bad policy fails here, before any work
    dataset = load_eval(options.dataset, taxonomy, skip_invalid=options.skip_invalid)
    lines = dataset.lines[: options.limit] if options.limit is not None else dataset.lines
    calibration = None
    if options.calibration is not None:  # fails on a bad calibration file before any work
        calibration = [item for _, item in load_eval(options.calibration, taxonomy).lines]
    notes: list[str] = []
    fit_summary = None
    with progress_bar(options.show_progress) as bar:
        llm_map = None
        if options.fit_calibration:
            lines, llm_map, fit_summary = await fit_first(options, base, lines, calibration, bar)
            notes.append(fit_note(fit_summary))
        fitted = time.perf_counter()
        if options.workers > 1 and len(lines) > 1:
            shards = await asyncio.to_thread(
                run_sharded, options, base, lines, calibration, llm_map, bar
            )
        else:
            from evals.shard import run_shard

            shards = [await run_shard(options, base, lines, calibration, llm_map, bar)]
    merged = merge_shards(shards)
    timings = {**merged.timings, "total_s": time.perf_counter() - started}
    calibration_fit_s = fitted - started if llm_map else 0.0
    # Fitting is training the local model plus any LLM calibration fit: both visibly take time.
    timings.update(
        workers=float(len(shards)), fit_s=calibration_fit_s + timings.get("train_s", 0.0)
    )
    found = provenance(merged.records, options.classifier, dataset.sha256)
    if fit_summary is not None:
        found["llm_calibration"] = fit_summary
    return EvalRun(
        records=merged.records,
        labels=list(taxonomy.cause_ids),
        alpha=base.conformal_alpha,
        provenance=found,
        skipped_lines=dataset.skipped_lines,
        violations=merged.violations,
        timings=timings,
        notes=notes,
    )


async def fit_first(
    options: RunOptions,
    base: Settings,
    lines: NumberedLines,
    calibration: list[EvalLine] | None,
    bar: Progress,
) -> tuple[NumberedLines, CalibrationMap, dict[str, Any]]:
    """Fits the LLM map on the calibration file, or on a split of the dataset it then leaves out."""
    from evals.calibration_fit import fit_llm_map, split_for_fit

    out = options.calibration_out or calibration_path(base.data_dir, base.llm_model)
    if calibration is not None:
        fit_lines, held_out, source = calibration, lines, f"file {options.calibration}"
    else:
        fit_part, held_out = split_for_fit(lines)
        fit_lines, source = [item for _, item in fit_part], "split of the dataset"
    llm_map, summary = await fit_llm_map(options, base, fit_lines, out, bar)
    summary.update(source=source, evaluated_cases=len(held_out))
    return held_out, llm_map, summary


def fit_note(summary: dict[str, Any]) -> str:
    """Returns what was fitted, where it was stored and which cases the metrics describe."""
    note = (
        f"fitted the LLM calibration map of {summary['model']} on {summary['fit_cases']} case(s) "
        f"({summary['source']}): temperature {summary['temperature']:.3f}, local blend weight "
        f"{summary['blend_weight']}, fit-set ECE "
        f"{summary['fit_ece_before']:.3f} -> {summary['fit_ece_after']:.3f}; "
        f"stored at {summary['path']}"
    )
    if summary["source"].startswith("split"):
        note += f". The metrics cover only the {summary['evaluated_cases']} held-out case(s)"
    return note


def merge_shards(shards: list[ShardResult]) -> ShardResult:
    """Merges the shards in dataset order; every worker must have used the same conformal qhat."""
    qhats = {s.qhat for s in shards}
    if len(qhats) > 1:
        raise ConfigurationError(
            f"the workers calibrated differently: qhat {sorted(map(str, qhats))}"
        )
    records = sorted((r for s in shards for r in s.records), key=lambda r: r.line)
    timings = {key: max(s.timings.get(key, 0.0) for s in shards) for key in shards[0].timings}
    violations = [f"{r.case_id}: {problem}" for r in records for problem in r.violations]
    return ShardResult(records, violations, timings, shards[0].qhat)


def provenance(records: list[CaseRecord], requested: str, sha256: str) -> dict[str, Any]:
    """Returns what produced the run: the classifiers that actually scored, model, prompt, data."""
    used = sorted({r.classifier for r in records if r.classifier})
    models = Counter(r.model for r in records if r.model)
    hashes = Counter(r.prompt_hash for r in records if r.prompt_hash)
    return {
        # An LLM run whose calls fell back to the local model must not pass for an LLM result.
        "classifier": ",".join(used) or requested,
        "model": models.most_common(1)[0][0] if models else None,
        "prompt_hash": hashes.most_common(1)[0][0] if hashes else None,
        "dataset_sha256": sha256,
    }
