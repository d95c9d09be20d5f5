"""Benchmarks the eval runner with the local classifier, one process against several: prints, never asserts."""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evals.runner import RunOptions, run_eval
from evals.simulator import simulate, write_dataset


def peak_rss_mb() -> float:
    """Returns the peak resident set size of this process and of its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # ru_maxrss is in KiB on Linux


def cpu_seconds() -> float:
    """Returns the user + system CPU time of this process and its finished children (workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(files: dict[str, Path], concurrency: int, workers: int) -> dict[str, float]:
    """Runs the eval once and returns its timings, throughput and median latency."""
    options = RunOptions(
        dataset=files["eval"],
        history=files["history"],
        messages=files["messages"],
        concurrency=concurrency,
        show_progress=False,
        workers=workers,
    )
    cpu_started = cpu_seconds()
    run = asyncio.run(run_eval(options))
    cpu = cpu_seconds() - cpu_started
    n = len(run.records)
    return {
        "cases": n,
        "total_s": run.timings["total_s"],
        "setup_s": run.timings["setup_s"],
        # With several workers, the per-phase figures are those of the slowest worker.
        "import_and_train_s": run.timings["import_s"],
        "triage_s": run.timings["triage_s"],
        "cases_per_s_triage": n / run.timings["triage_s"],
        "cases_per_s_total": n / run.timings["total_s"],
        "median_case_latency_ms": statistics.median(r.latency_ms for r in run.records),
        # Wall time depends on what else the machine runs; CPU time much less so.
        "cpu_s": cpu,
        "policy_violations": len(run.violations),
    }


def median_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    """Returns the median of every figure over the runs."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main(argv: list[str] | None = None) -> None:
    """Generates the simulated data, runs the benchmark per worker count and prints the figures."""
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--history", type=int, default=1200)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="counts to compare")
    parser.add_argument("--repeats", type=int, default=1, help="median over this many runs")
    args = parser.parse_args(argv)
    data = simulate(cases=args.cases, history=args.history, messages=args.messages, seed=args.seed)
    runs: dict[int, list[dict[str, float]]] = {w: [] for w in args.workers}
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        files = write_dataset(data, Path(tmp))
        # Interleaved, so that a change in machine load touches every worker count alike.
        for _ in range(max(1, args.repeats)):
            for workers in args.workers:
                runs[workers].append(measure(files, args.concurrency, workers))
    print_table({w: median_runs(r) for w, r in runs.items()}, max(1, args.repeats))


def print_table(figures: dict[int, dict[str, float]], repeats: int) -> None:
    """Prints one column per worker count and the speed-up of the last over the first."""
    counts = list(figures)
    first, last = figures[counts[0]], figures[counts[-1]]
    table = Table(title=f"eval benchmark: local classifier, median of {repeats} run(s)")
    table.add_column("figure")
    for workers in counts:
        table.add_column(f"workers={workers}", justify="right")
    table.add_column(f"ratio {counts[0]}/{counts[-1]}", justify="right")
    for key in first:
        ratio = first[key] / last[key] if last[key] else float("nan")
        row = [f"{figures[w][key]:.3f}" for w in counts]
        table.add_row(key, *row, f"{ratio:.2f}")
    table.add_row("peak_rss_mib (any process)", *[""] * len(counts), f"{peak_rss_mb():.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
