"""The `triage bench` command: the real service under load, and the bare-graph ratio."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.errors import TriageError

console = Console()


def bench(
    history: Annotated[
        int, typer.Option(min=20, help="Simulated history cases to import.")
    ] = 10_000,
    quick: Annotated[
        bool, typer.Option("--quick", help="A short run: 200 history cases, 124 cases at 1, 8, 32.")
    ] = False,
    levels: Annotated[
        str, typer.Option(help="Concurrency levels, comma-separated; 1 must be among them.")
    ] = "1,8,32",
    cases: Annotated[
        str, typer.Option(help="Distinct cases per level, comma-separated, one per level.")
    ] = "200,400,400",
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL (an empty database); default: SQLite in a temp dir."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="API processes (PostgreSQL only).")
    ] = 1,
    review_pause_ms: Annotated[
        int,
        typer.Option(
            min=0,
            help="Mean pause before each case's first decision (0.5-1.5 times it), as a "
            "reviewer reads the case; the worker goes idle in between. Review throughput then "
            "includes the pauses.",
        ),
    ] = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write every figure here.")
    ] = None,
    seed: int = 16,
) -> None:
    """Starts `triage serve`, drives cases and approvals over HTTP, and compares to a bare graph."""
    from evals.serving.report import REQUIRED_KEYS, print_report, write_json
    from evals.serving.run import BenchOptions, run_bench, sane

    if quick:
        options = BenchOptions.quick()
    else:
        per_level = tuple(int(n) for n in cases.split(","))
        options = BenchOptions(
            history=history,
            levels=tuple(int(n) for n in levels.split(",")),
            cases_per_level=per_level,
        )
    options = replace(
        options,
        database_url=database_url,
        workers=workers,
        seed=seed,
        review_pause_s=review_pause_ms / 1000,
    )
    try:
        figures = run_bench(options)
    except TriageError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=2) from exc
    print_report(figures, options.levels, console)
    if json_out is not None:
        write_json(figures, json_out)
    bad = sane(figures, REQUIRED_KEYS)
    if bad:
        console.print(f"[red]figures missing or not positive:[/red] {', '.join(bad)}")
        raise typer.Exit(code=1)
