"""Benchmarks `triage eval run` with the local classifier per worker count: prints, never asserts.

Every run is the real command in a fresh process, as a user runs it, so the wall time includes
the interpreter start, imports, training, triage and the report.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evals.simulator import simulate, write_dataset

# The console script pip installed beside this interpreter.
TRIAGE = Path(sys.executable).with_name("triage")


def children_usage() -> tuple[float, float]:
    """Returns (CPU seconds, peak RSS in MiB) of the finished child processes and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def measure(
    files: dict[str, Path], out: Path, concurrency: int | None, workers: int
) -> dict[str, float]:
    """Runs `triage eval run` once in a new process; returns its wall time and its own timings."""
    command = [
        str(TRIAGE),
        "eval",
        "run",
        "--dataset",
        str(files["eval"]),
        "--history",
        str(files["history"]),
        "--messages",
        str(files["messages"]),
        "--workers",
        str(workers),
        "--out",
        str(out),
    ]
    if concurrency is not None:
        command += ["--concurrency", str(concurrency)]
    cpu_before, _ = children_usage()
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    cpu_after, _ = children_usage()
    if finished.returncode != 0:
        raise SystemExit(f"eval run failed ({finished.returncode}):\n{finished.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    timings = metrics["timings"]
    n = metrics["n_cases"]
    return {
        "cases": n,
        "command_wall_s": wall,
        "run_total_s": timings["total_s"],
        # With several workers, the per-phase figures are those of the slowest worker.
        "worker_setup_s": timings["setup_s"],
        "import_and_train_s": timings["import_s"],
        "triage_s": timings["triage_s"],
        "cases_per_s_command": n / wall,
        "cases_per_s_triage": n / timings["triage_s"],
        "latency_ms_p50": metrics["latency_ms_p50"],
        # Wall time depends on what else the machine runs; CPU time much less so. Workers from
        # a fork server are not the command's children, so only a one-worker run counts all.
        "cpu_s_one_worker": cpu_after - cpu_before if workers == 1 else float("nan"),
        "accuracy": metrics["accuracy"],
        "policy_violations": metrics["policy_violations"],
    }


def median_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    """Returns the median of every figure over the runs."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main(argv: list[str] | None = None) -> None:
    """Generates the simulated data, runs the command per worker count and prints the figures."""
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--history", type=int, default=1200)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, help="default: the command's own")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="counts to compare")
    parser.add_argument("--repeats", type=int, default=3, help="median over this many runs")
    args = parser.parse_args(argv)
    data = simulate(cases=args.cases, history=args.history, messages=args.messages, seed=args.seed)
    runs: dict[int, list[dict[str, float]]] = {w: [] for w in args.workers}
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        files = write_dataset(data, Path(tmp))
        # Interleaved, so that a change in machine load touches every worker count alike.
        for repeat in range(max(1, args.repeats)):
            for workers in args.workers:
                out = Path(tmp) / f"run-{workers}-{repeat}"
                figures = measure(files, out, args.concurrency, workers)
                runs[workers].append(figures)
                console.print(
                    f"run {repeat + 1}, workers={workers}: "
                    f"{figures['command_wall_s']:.1f} s for {figures['cases']:.0f} cases"
                )
    print_table({w: median_runs(r) for w, r in runs.items()}, max(1, args.repeats))


def print_table(figures: dict[int, dict[str, float]], repeats: int) -> None:
    """Prints one column per worker count and the ratio of the first to the last."""
    counts = list(figures)
    first, last = figures[counts[0]], figures[counts[-1]]
    table = Table(title=f"triage eval run, local classifier: median of {repeats} run(s)")
    table.add_column("figure")
    for workers in counts:
        table.add_column(f"workers={workers}", justify="right")
    table.add_column(f"ratio {counts[0]}/{counts[-1]}", justify="right")
    for key in first:
        ratio = first[key] / last[key] if last[key] else float("nan")
        row = [f"{figures[w][key]:.3f}" for w in counts]
        table.add_row(key, *row, f"{ratio:.2f}")
    table.add_row("peak_rss_mib (any process)", *[""] * len(counts), f"{children_usage()[1]:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
