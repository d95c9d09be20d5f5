"""Prepares a store for the benchmark: simulated history imported and trained, a key, reviewers."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from app.wiring import open_runtime
from core.models import Case, ResolvedCase
from core.principals import KeyScope
from core.settings import Settings
from core.store import identity
from evals.simulator import simulate
from tools.retrieval.base import ContextIndex

PASSWORD = "bench-password-1"
REVIEWERS = ("bench-alice", "bench-bob")
RETRIEVAL_QUERIES = 200


@dataclass
class Prepared:
    """What the load needs: the cases to send, the credentials, and how long the import took."""

    cases: list[dict[str, Any]]
    api_key: str
    reviewers: tuple[str, ...] = REVIEWERS
    password: str = PASSWORD
    figures: dict[str, float] = field(default_factory=dict)


def time_retrieval(index: ContextIndex, lines: list[dict[str, Any]], k: int = 5) -> list[float]:
    """Returns the seconds each similar-history search took, the way the retrieve node asks."""
    timings = []
    for line in lines[:RETRIEVAL_QUERIES]:
        case = Case.model_validate(line["case"])
        started = time.perf_counter()
        index.similar_history(case, k, {case.case_id})
        index.similar_messages(case, k)
        timings.append(time.perf_counter() - started)
    return timings


async def prepare_store(settings: Settings, *, history: int, cases: int, seed: int) -> Prepared:
    """Simulates the data, imports the history (index and model), and creates the callers."""
    started = time.perf_counter()
    data = simulate(cases=cases, history=history, messages=0, seed=seed)
    simulated = time.perf_counter()
    items = [ResolvedCase.model_validate(line) for line in data.history]
    async with open_runtime(settings) as runtime:
        opened = time.perf_counter()
        await runtime.learner.add_history(items)
        imported = time.perf_counter()
        retrieval = await asyncio.to_thread(time_retrieval, runtime.deps.index, data.eval_lines)
        roles = {a.approver_role for a in runtime.deps.taxonomy.actions if a.approver_role}
        roles |= set(runtime.deps.policy.roles.values())
        async with runtime.db.transaction() as conn:
            key = await identity.create_key(conn, "bench", scope=KeyScope.orchestrator)
            for name in REVIEWERS:
                await identity.add_user(conn, name, PASSWORD, sorted(roles))
    return Prepared(
        cases=[line["case"] for line in data.eval_lines],
        api_key=key,
        figures={
            "simulate_s": simulated - started,
            # Embedding, the Chroma index and the classifier's training, on an empty store.
            "index_build_s": imported - opened,
            "retrieval_p50_ms": 1000 * statistics.median(retrieval),
            "retrieval_p95_ms": 1000 * statistics.quantiles(retrieval, n=20)[-1],
        },
    )
