"""Benchmarks the eval runner with the local classifier: `python -m evals.bench`; prints, never asserts."""

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


def measure(files: dict[str, Path], concurrency: int) -> dict[str, float]:
    """Runs the eval once and returns its timings, throughput and median latency."""
    options = RunOptions(
        dataset=files["eval"],
        history=files["history"],
        messages=files["messages"],
        concurrency=concurrency,
        show_progress=False,
    )
    cpu_started = cpu_seconds()
    run = asyncio.run(run_eval(options))
    cpu = cpu_seconds() - cpu_started
    n = len(run.records)
    return {
        "cases": n,
        "total_s": run.timings["total_s"],
        "setup_s": run.timings["setup_s"],
        "import_and_train_s": run.timings["import_s"],
        "triage_s": run.timings["triage_s"],
        "cases_per_s_triage": n / run.timings["triage_s"],
        "cases_per_s_total": n / run.timings["total_s"],
        "median_case_latency_ms": statistics.median(r.latency_ms for r in run.records),
        # Wall time depends on what else the machine runs; CPU time much less so.
        "cpu_s": cpu,
        "policy_violations": len(run.violations),
    }


def main(argv: list[str] | None = None) -> None:
    """Generates the simulated data, runs the benchmark and prints the figures."""
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--history", type=int, default=1200)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1, help="median over this many runs")
    args = parser.parse_args(argv)
    data = simulate(cases=args.cases, history=args.history, messages=args.messages, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        files = write_dataset(data, Path(tmp))
        runs = [measure(files, args.concurrency) for _ in range(max(1, args.repeats))]
    table = Table(title=f"eval benchmark: local classifier, median of {len(runs)} run(s)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in runs[0]:
        table.add_row(key, f"{statistics.median(r[key] for r in runs):.3f}")
    table.add_row("peak_rss_mib", f"{peak_rss_mb():.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
