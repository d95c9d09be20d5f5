"""Runs the whole benchmark: store, service, load per concurrency, the bare graph, the ratio."""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigurationError
from core.sealed_secrets import KEY_FILE, key_file
from core.settings import Settings
from evals.serving.bare_graph import time_bare_graph
from evals.serving.load import Callers, LevelFigures, basic_auth_reads, percentile, run_level
from evals.serving.service import service_env, start_service
from evals.serving.setup import Prepared, prepare_store

BASIC_AUTH_CALLS = 30


@dataclass
class BenchOptions:
    """What to run: history size, cases per concurrency level, the store and the processes."""

    history: int = 10_000
    levels: tuple[int, ...] = (1, 8, 32)
    cases_per_level: tuple[int, ...] = (200, 400, 400)
    bare_cases: int = 200
    database_url: str | None = None
    workers: int = 1
    seed: int = 16
    # A reviewer's pause before each case's first decision (see Callers.pause_s).
    review_pause_s: float = 0.0
    # An OpenAI-compatible server: the service then classifies with the LLM (the store is
    # prepared, and the bare graph timed, exactly as without it).
    llm_base_url: str | None = None
    # Extra environment of the service processes (e.g. TRIAGE_LLM_MAX_CONCURRENCY).
    service_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def quick(cls) -> BenchOptions:
        """Returns the short run: a small history and a few dozen cases per level."""
        return cls(history=200, cases_per_level=(20, 40, 64), bare_cases=50)


def level_figures(level: int, raw: LevelFigures) -> dict[str, float]:
    """Returns the summary figures of one concurrency level, in ms and cases/s."""
    ms = {
        name: [1000 * v for v in getattr(raw, name)] for name in ("post", "decision", "to_resolved")
    }
    figures = {
        f"throughput_c{level}": len(raw.post) / raw.post_wall_s,
        f"p50_ms_c{level}": percentile(ms["post"], 50),
        f"p95_ms_c{level}": percentile(ms["post"], 95),
        f"p99_ms_c{level}": percentile(ms["post"], 99),
        f"decision_p50_ms_c{level}": percentile(ms["decision"], 50),
        f"decision_p95_ms_c{level}": percentile(ms["decision"], 95),
        f"resolved_p50_ms_c{level}": percentile(ms["to_resolved"], 50),
        f"resolved_p95_ms_c{level}": percentile(ms["to_resolved"], 95),
        f"reviewed_cases_c{level}": float(len(raw.to_resolved)),
        f"unresolved_c{level}": float(raw.unresolved),
        f"cpu_ms_per_post_c{level}": 1000 * raw.post_cpu_s / max(len(raw.post), 1),
    }
    if raw.to_resolved:
        figures[f"review_throughput_c{level}"] = len(raw.to_resolved) / raw.review_wall_s
        figures[f"cpu_ms_per_review_c{level}"] = 1000 * raw.review_cpu_s / len(raw.to_resolved)
    return figures


def with_ratio(figures: dict[str, float]) -> dict[str, float]:
    """Adds the ratios of server time per case to the bare graph's time.

    `ratio` is (p50 of POST /v1/cases + p50 from the first decision to the finished case), at
    concurrency 1, over (p50 to the bare graph's interrupt + p50 of its resume): the whole life
    of an approved case against the framework alone. `ratio_triage` compares the POST alone to
    the bare graph's run to the interrupt.
    """
    bare = figures["bare_interrupt_ms"] + figures["bare_resume_ms"]
    served = figures["p50_ms_c1"] + figures["resolved_p50_ms_c1"]
    return figures | {
        "server_ms_per_case": served,
        "bare_ms_per_case": bare,
        "ratio": served / bare,
        "ratio_triage": figures["p50_ms_c1"] / figures["bare_interrupt_ms"],
        # The same comparison in CPU time, which a busy shared machine disturbs far less.
        "ratio_cpu_triage": figures["cpu_ms_per_post_c1"] / figures["bare_cpu_interrupt_ms"],
    }


def serve_and_load(options: BenchOptions, data_dir: Path, prepared: Prepared) -> dict[str, float]:
    """Starts the service, drives every concurrency level and reads the processes' peak RSS."""
    env = service_env(data_dir, options.database_url)
    if options.llm_base_url:
        env |= {
            "OPENAI_BASE_URL": options.llm_base_url,
            "OPENAI_API_KEY": "bench",
            "TRIAGE_CLASSIFIER": "llm",
        }
    env |= options.service_env
    service = start_service(env, data_dir / "service.log", workers=options.workers)
    callers = Callers(
        prepared.api_key, prepared.reviewers, prepared.password, options.review_pause_s
    )
    figures: dict[str, float] = {"start_s": service.start_s}
    try:
        offset = 0
        for level, count in zip(options.levels, options.cases_per_level, strict=True):
            cases = prepared.cases[offset : offset + count]
            offset += count
            raw = asyncio.run(run_level(service.base_url, callers, cases, level, service.cpu_s))
            figures |= level_figures(level, raw)
        first_case = prepared.cases[0]["case_id"]
        figures |= asyncio.run(
            basic_auth_reads(service.base_url, callers, first_case, BASIC_AUTH_CALLS)
        )
        rss = service.rss_mb()
    finally:
        service.stop()
    figures["rss_mb"] = max(rss.values())
    figures |= {f"rss_mb_{name}": value for name, value in rss.items()}
    return figures


def run_bench(options: BenchOptions) -> dict[str, float]:
    """Runs the benchmark on a temporary data directory; returns every figure by name."""
    if options.workers > 1 and not options.database_url:
        raise ConfigurationError("several API processes need PostgreSQL (--database-url)")
    if len(options.levels) != len(options.cases_per_level) or 1 not in options.levels:
        raise ConfigurationError("give one case count per level, and include concurrency 1")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        data_dir = Path(tmp)
        # On PostgreSQL the setup and the served processes share the key that service_env reads.
        key = key_file(data_dir / KEY_FILE).decode() if options.database_url else None
        settings = Settings(
            data_dir=data_dir,
            database_url=options.database_url,
            classifier="local",
            secret_key=key,
        )
        total = sum(options.cases_per_level)
        prepared = asyncio.run(
            prepare_store(settings, history=options.history, cases=total, seed=options.seed)
        )
        figures = dict(prepared.figures) | {"history_cases": float(options.history)}
        figures |= serve_and_load(options, data_dir, prepared)
    figures |= time_bare_graph(options.bare_cases, prepared.cases[0])
    figures = with_ratio(figures)
    figures["bench_wall_s"] = time.perf_counter() - started
    return figures


def sane(figures: dict[str, float], keys: tuple[str, ...]) -> list[str]:
    """Returns the keys that are missing, not finite or not positive."""
    return [k for k in keys if not (k in figures and math.isfinite(figures[k]) and figures[k] > 0)]
