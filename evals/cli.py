"""The `triage eval` and `triage simulate` commands: run, gate and compare evaluations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import TriageError
from evals.gates import Gate, failed_gates, parse_gates
from evals.processes import default_workers, warm_up_workers

# The commands import the runner, metrics and simulator when they run: `eval run` starts its
# worker fork server first, so that the two processes' imports overlap.

eval_app = typer.Typer(
    help="Evaluate the triage agent offline: run a dataset, gate it, compare runs.",
    no_args_is_help=True,
)
console = Console(stderr=True)
EXIT_FAILED = 1  # a gate failed or the policy was violated
EXIT_INVALID = 2  # bad input: dataset lines, gate expression, unavailable classifier


class ClassifierChoice(StrEnum):
    """The classifiers an eval can run with."""

    local = "local"
    llm = "llm"


ExistingFile = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, readable=True)]


def default_out_dir() -> Path:
    """Returns eval-runs/<UTC timestamp>."""
    return Path("eval-runs") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fail(message: str, code: int) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=code)


def _print_summary(metrics: dict[str, object], out: Path) -> None:
    from evals.report import headline

    table = Table(title=f"Evaluation: {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in headline(metrics):
        table.add_row(key, value)
    Console().print(table)


@eval_app.command("run")
def run(
    dataset: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Eval JSONL file.")],
    history: ExistingFile = None,
    messages: ExistingFile = None,
    classifier: Annotated[ClassifierChoice, typer.Option()] = ClassifierChoice.local,
    out: Annotated[Path | None, typer.Option(help="Default: eval-runs/<timestamp>.")] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Cases in flight per worker. Default: 1; 4 for llm."),
    ] = None,
    skip_invalid: Annotated[bool, typer.Option(help="Skip and count invalid lines.")] = False,
    calibration: ExistingFile = None,
    fail_if: Annotated[str | None, typer.Option(help='e.g. "macro_f1<0.8,ece>0.05"')] = None,
    seed: Annotated[int | None, typer.Option(help="Shuffle the submission order.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Evaluate only the first N valid lines.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=32, help="Worker processes. Default: min(2, CPUs); 1 for llm."),
    ] = None,
    record: Annotated[
        Path | None, typer.Option(file_okay=False, help="Record every LLM exchange into DIR.")
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(exists=True, file_okay=False, help="Answer the LLM from DIR, no network."),
    ] = None,
    fit_calibration: Annotated[
        bool,
        typer.Option(help="Fit the LLM calibration map on --calibration or half the dataset."),
    ] = False,
    calibration_out: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Where the fitted map goes. Default: the service's "
            "TRIAGE_DATA_DIR/models/llm-calibration/<model>.json.",
        ),
    ] = None,
) -> None:
    """Sends every case through the production graph on temporary stores and writes a report."""
    try:
        gates: list[Gate] = parse_gates(fail_if) if fail_if else []
    except TriageError as exc:
        raise _fail(exc.message, EXIT_INVALID) from exc
    workers = workers or default_workers(classifier.value)
    if workers > 1:
        warm_up_workers()
    from evals.report import compute_metrics, write_report
    from evals.runner import RunOptions, run_eval

    options = RunOptions(
        dataset=dataset,
        history=history,
        messages=messages,
        classifier=classifier.value,
        concurrency=concurrency,
        skip_invalid=skip_invalid,
        calibration=calibration,
        seed=seed,
        limit=limit,
        workers=workers,
        record=record,
        replay=replay,
        fit_calibration=fit_calibration,
        calibration_out=calibration_out,
    )
    try:
        result = asyncio.run(run_eval(options))
    except TriageError as exc:
        raise _fail(exc.message, EXIT_INVALID) from exc
    target = out or default_out_dir()
    metrics = compute_metrics(result.records, result.labels, result.alpha, result.provenance)
    metrics["timings"] = {key: round(value, 3) for key, value in result.timings.items()}
    page = write_report(target, result.records, metrics)
    _print_summary(metrics, target)
    for note in result.notes:
        console.print(f"[cyan]{note}[/cyan]")
    fallbacks = [r.fallback_reason for r in result.records if r.fallback_reason]
    if fallbacks:
        console.print(
            f"[yellow]{len(fallbacks)} of {len(result.records)} case(s) fell back to the local "
            f"classifier, e.g. {fallbacks[0]}[/yellow]"
        )
    if result.skipped_lines:
        console.print(f"[yellow]skipped {result.skipped_lines} invalid line(s)[/yellow]")
    console.print(f"report: {page}")
    _exit_on_failures(metrics, gates, result.violations)


def _exit_on_failures(metrics: dict[str, object], gates: list[Gate], violations: list[str]) -> None:
    """Raises typer.Exit(1) when the policy was violated or a gate failed."""
    failures = failed_gates(gates, metrics)
    for violation in violations[:20]:
        console.print(f"[red]policy violation:[/red] {violation}")
    for failure in failures:
        console.print(f"[red]gate failed:[/red] {failure}")
    if violations or failures:
        raise typer.Exit(code=EXIT_FAILED)


@eval_app.command("suite")
def suite(
    set_names: Annotated[
        list[str] | None,
        typer.Option("--set", help="A folder under evals/datasets or a JSONL path; repeatable."),
    ] = None,
    history: ExistingFile = None,
    messages: ExistingFile = None,
    out: Annotated[Path | None, typer.Option(help="Default: eval-runs/<timestamp>.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=32)] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="First N cases of each set.")] = None,
    fail_if: Annotated[str | None, typer.Option(help="Gates checked on every set.")] = None,
) -> None:
    """Runs every eval set (default: the regression set and all independent sets), one report each."""
    from evals.suite import DEFAULT_SETS, clashing_folders, run_set, write_suite

    names = set_names or DEFAULT_SETS
    if clashing := clashing_folders(names):
        raise _fail(
            f"--set: two sets would write their reports to the same folder: {', '.join(clashing)}",
            EXIT_INVALID,
        )
    try:
        gates: list[Gate] = parse_gates(fail_if) if fail_if else []
    except TriageError as exc:
        raise _fail(exc.message, EXIT_INVALID) from exc
    workers = workers or default_workers("local")
    if workers > 1:
        warm_up_workers()
    from evals.runner import RunOptions

    template = RunOptions(
        dataset=Path(), history=history, messages=messages, workers=workers, limit=limit
    )
    target = out or default_out_dir()
    runs = []
    for name in names:
        try:
            runs.append(asyncio.run(run_set(name, template, target)))
        except TriageError as exc:
            raise _fail(f"{name}: {exc.message}", EXIT_INVALID) from exc
    page = write_suite(target, runs)
    typer.echo((target / "report.md").read_text(encoding="utf-8"))
    console.print(f"report: {page}")
    failed = False
    for run in runs:
        for problem in [*run.violations[:20], *failed_gates(gates, run.metrics)]:
            console.print(f"[red]{run.name}:[/red] {problem}")
            failed = True
    if failed:
        raise typer.Exit(code=EXIT_FAILED)


@eval_app.command("compare")
def compare_runs(
    run_a: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    run_b: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    force: Annotated[
        bool, typer.Option("--force", help="Compare runs of different datasets, by case content.")
    ] = False,
) -> None:
    """Prints per-metric deltas (B - A) and the cases whose prediction flipped."""
    from evals.compare import DifferentDatasets, compare, print_comparison

    try:
        comparison = compare(run_a, run_b, force=force)
    except DifferentDatasets as exc:
        raise _fail(str(exc), EXIT_INVALID) from exc
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the runs: {exc}", EXIT_INVALID) from exc
    print_comparison(comparison, Console())


def simulate(
    cases: Annotated[int, typer.Option(min=0)] = 300,
    history: Annotated[int, typer.Option(min=0)] = 1200,
    messages: Annotated[int, typer.Option(min=0)] = 400,
    seed: Annotated[int, typer.Option()] = 2026,
    out: Annotated[Path, typer.Option(file_okay=False)] = Path("sim-data"),
) -> None:
    """Writes seeded, contract-valid eval lines, resolved history and loose messages as JSONL."""
    from evals.simulator import simulate as simulate_data
    from evals.simulator import write_dataset

    data = simulate_data(cases=cases, history=history, messages=messages, seed=seed)
    for name, path in write_dataset(data, out).items():
        Console().print(f"{name}: {path}")
