"""Prints the benchmark's figures as rich tables and writes them as JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

REQUIRED_KEYS = ("ratio", "p95_ms_c8", "throughput_c8", "start_s", "rss_mb")


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def print_report(figures: dict[str, float], levels: tuple[int, ...], console: Console) -> None:
    """Prints one row per concurrency level, then the single figures."""
    table = Table(title=f"triage bench: {figures['history_cases']:.0f} history cases (medians)")
    columns = [
        ("cases/s", "throughput_c{}"),
        ("POST p50 ms", "p50_ms_c{}"),
        ("p95 ms", "p95_ms_c{}"),
        ("p99 ms", "p99_ms_c{}"),
        ("decision p50 ms", "decision_p50_ms_c{}"),
        ("to resolved p50 ms", "resolved_p50_ms_c{}"),
        ("to resolved p95 ms", "resolved_p95_ms_c{}"),
        ("reviewed", "reviewed_cases_c{}"),
        ("server CPU ms / POST", "cpu_ms_per_post_c{}"),
    ]
    table.add_column("concurrency", justify="right")
    for title, _ in columns:
        table.add_column(title, justify="right")
    for level in levels:
        row = [str(level)] + [_fmt(figures.get(key.format(level))) for _, key in columns]
        table.add_row(*row)
    console.print(table)
    single = Table(title="single figures")
    single.add_column("figure")
    single.add_column("value", justify="right")
    names = [
        ("ratio (server / bare graph, per approved case)", "ratio"),
        ("ratio_triage (POST / bare run to interrupt)", "ratio_triage"),
        ("server ms per case (POST p50 + to resolved p50, c=1)", "server_ms_per_case"),
        ("ratio_cpu_triage (server CPU / POST over bare CPU)", "ratio_cpu_triage"),
        ("bare graph: to interrupt ms", "bare_interrupt_ms"),
        ("bare graph: resume ms", "bare_resume_ms"),
        ("service start s (process to first healthy answer)", "start_s"),
        ("peak RSS MiB (largest service process)", "rss_mb"),
        ("GET /v1/approvals with Basic: first call ms", "basic_auth_first_ms"),
        ("GET /v1/approvals with Basic: p50 after ms", "basic_auth_p50_ms"),
        ("history import + index + training s", "index_build_s"),
        ("retrieval p50 ms", "retrieval_p50_ms"),
        ("retrieval p95 ms", "retrieval_p95_ms"),
        ("whole bench s", "bench_wall_s"),
    ]
    for title, key in names:
        single.add_row(title, _fmt(figures.get(key)))
    console.print(single)


def write_json(figures: dict[str, float], path: Path) -> None:
    """Writes every figure; NaN (a level without approvals) becomes null."""
    clean = {k: (v if math.isfinite(v) else None) for k, v in figures.items()}
    path.write_text(json.dumps(clean, indent=2, sort_keys=True) + "\n")
