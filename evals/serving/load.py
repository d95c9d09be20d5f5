"""Drives the running service over HTTP: case intake, then the approvals, at one concurrency."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
FINISHED = {"resolved", "rejected", "failed"}
RESOLVE_TIMEOUT_S = 60.0
# Each waiting client polls its case this often, times the concurrency: all clients together
# ask about 100 times a second, so that the polling does not become the load it measures.
POLL_S = 0.01


@dataclass
class Callers:
    """The orchestrator's key and the two reviewers who approve (four-eyes needs both)."""

    api_key: str
    reviewers: tuple[str, ...]
    password: str
    # How long a reviewer looks at a case before deciding, on average: each pause is drawn
    # between half and 1.5 times it, so decisions land at any point of the worker's poll. With
    # none, the next decision lands while the worker is still busy with the last case and is
    # picked up in the same round.
    pause_s: float = 0.0

    def basic(self, index: int) -> httpx.BasicAuth:
        """Returns the HTTP Basic credentials of the index-th reviewer."""
        return httpx.BasicAuth(self.reviewers[index], self.password)


@dataclass
class LevelFigures:
    """The raw latencies (seconds) of one concurrency level and the wall time of each phase."""

    post: list[float] = field(default_factory=list)
    decision: list[float] = field(default_factory=list)
    to_resolved: list[float] = field(default_factory=list)
    post_wall_s: float = 0.0
    review_wall_s: float = 0.0
    # The service's own CPU time in each phase: far less sensitive than latency to a busy machine.
    post_cpu_s: float = 0.0
    review_cpu_s: float = 0.0
    unresolved: int = 0


def percentile(values: Sequence[float], q: int) -> float:
    """Returns the q-th percentile (inclusive method), NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def pooled(
    items: Sequence[T], concurrency: int, work: Callable[[T], Awaitable[None]]
) -> float:
    """Runs work on every item with `concurrency` clients at once; returns the wall time."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def client() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started


async def submit_all(
    http: httpx.AsyncClient, callers: Callers, cases: Sequence[dict[str, Any]], concurrency: int
) -> tuple[LevelFigures, list[dict[str, Any]]]:
    """POSTs every case (synchronous triage); returns the latencies and the triage results."""
    figures, results = LevelFigures(), []
    headers = {"Authorization": f"Bearer {callers.api_key}"}

    async def one(case: dict[str, Any]) -> None:
        started = time.perf_counter()
        answer = await http.post("/v1/cases", json=case, headers=headers)
        figures.post.append(time.perf_counter() - started)
        if answer.status_code != 201:
            raise RuntimeError(f"POST /v1/cases: {answer.status_code} {answer.text[:500]}")
        results.append(answer.json())

    figures.post_wall_s = await pooled(cases, concurrency, one)
    return figures, results


async def decide(http: httpx.AsyncClient, callers: Callers, approval_id: str) -> list[float]:
    """Approves as one reviewer, then the second if four-eyes asks; rejects what is refused."""
    url = f"/v1/approvals/{approval_id}/decision"
    timings = []
    for index in range(len(callers.reviewers)):
        started = time.perf_counter()
        answer = await http.post(
            url, json={"decision": "approve", "reason": "bench"}, auth=callers.basic(index)
        )
        timings.append(time.perf_counter() - started)
        if answer.status_code in (403, 422):
            # The gate refused it (e.g. parameters left empty): send it back, as a person would.
            body = {"decision": "reject", "reason": "bench: refused"}
            await http.post(url, json=body, auth=callers.basic(index))
            return timings
        if answer.status_code != 200:
            raise RuntimeError(f"decision: {answer.status_code} {answer.text[:500]}")
        if answer.json()["status"] != "pending":
            return timings
    return timings


async def review_all(
    http: httpx.AsyncClient,
    callers: Callers,
    results: Sequence[dict[str, Any]],
    concurrency: int,
    figures: LevelFigures,
) -> None:
    """Decides every pending approval case by case and waits for each case to finish."""
    waiting = [r for r in results if r["status"] == "pending_approval" and r["approval_ids"]]
    headers = {"Authorization": f"Bearer {callers.api_key}"}

    async def one(result: dict[str, Any]) -> None:
        await asyncio.sleep(callers.pause_s * random.uniform(0.5, 1.5))
        started = time.perf_counter()
        for approval_id in result["approval_ids"]:
            figures.decision += await decide(http, callers, approval_id)
        deadline = started + RESOLVE_TIMEOUT_S
        while time.perf_counter() < deadline:
            answer = await http.get(f"/v1/cases/{result['case_id']}", headers=headers)
            if answer.json()["status"] in FINISHED:
                figures.to_resolved.append(time.perf_counter() - started)
                return
            await asyncio.sleep(POLL_S * concurrency)
        figures.unresolved += 1

    figures.review_wall_s = await pooled(waiting, concurrency, one)


async def run_level(
    base_url: str,
    callers: Callers,
    cases: Sequence[dict[str, Any]],
    concurrency: int,
    cpu_s: Callable[[], float],
) -> LevelFigures:
    """Sends the cases at one concurrency, then decides their approvals at the same concurrency."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=120.0, limits=limits) as http:
        before = cpu_s()
        figures, results = await submit_all(http, callers, cases, concurrency)
        between = cpu_s()
        await review_all(http, callers, results, concurrency, figures)
        figures.post_cpu_s, figures.review_cpu_s = between - before, cpu_s() - between
    return figures


async def basic_auth_reads(
    base_url: str, callers: Callers, case_id: str, calls: int
) -> dict[str, float]:
    """Times GET /v1/approvals with HTTP Basic: the first call, then the median of the rest."""
    timings = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as http:
        for _ in range(calls + 1):
            started = time.perf_counter()
            answer = await http.get(
                "/v1/approvals", params={"case_id": case_id}, auth=callers.basic(0)
            )
            timings.append(time.perf_counter() - started)
            answer.raise_for_status()
    return {
        "basic_auth_first_ms": 1000 * timings[0],
        "basic_auth_p50_ms": 1000 * statistics.median(timings[1:]),
    }
