"""The service's Prometheus metrics: one registry per runtime, made in the composition root.

Nothing here is a module global: the registry, the instruments and the collector that reads the
store belong to one Runtime, so two runtimes in one process (tests, evals) never share counts.
prometheus-client's own default REGISTRY is never used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.store.db import Database
from core.store.gauges import StoreGauges, read_gauges

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# From a fast local triage (tens of ms) to a slow LLM with retries (a minute).
TRIAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# People decide in minutes to days.
APPROVAL_BUCKETS = (10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400)


class StoreCollector(Collector):
    """Reports the store's counts as gauges, from the snapshot taken for the current scrape."""

    def __init__(self) -> None:
        self.snapshot = StoreGauges()

    def collect(self) -> Iterator[Metric]:
        """Yields the gauge families of the latest snapshot."""
        shot = self.snapshot
        by_case = GaugeMetricFamily(
            "triage_cases", "Cases by status and cause.", labels=["status", "cause"]
        )
        for (status, cause), count in sorted(shot.cases.items()):
            by_case.add_metric([status, cause], count)
        yield by_case
        yield GaugeMetricFamily(
            "triage_approvals_pending", "Approvals waiting for a person.", shot.pending_approvals
        )
        yield GaugeMetricFamily(
            "triage_sla_breaches",
            "Cases past their SLA that are neither resolved nor rejected.",
            shot.sla_breaches,
        )
        for name, help_, counts in (
            (
                "triage_outbox_pending",
                "Outbox rows waiting for delivery, by kind.",
                shot.outbox_pending,
            ),
            ("triage_outbox_dead_letters", "Outbox rows given up on, by kind.", shot.dead_letters),
        ):
            family = GaugeMetricFamily(name, help_, labels=["kind"])
            for kind, count in sorted(counts.items()):
                family.add_metric([kind], count)
            yield family


class PrometheusTelemetry:
    """Holds the registry and instruments; implements core.telemetry.Telemetry."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.registry = CollectorRegistry(auto_describe=True)
        self.store = StoreCollector()
        self.registry.register(self.store)
        self.triage_seconds = Histogram(
            "triage_duration_seconds",
            "Time of a new case's graph run, from intake to its first wait or its end.",
            buckets=TRIAGE_BUCKETS,
            registry=self.registry,
        )
        self.approval_seconds = Histogram(
            "triage_approval_duration_seconds",
            "Time from an approval's opening to its completion, by outcome.",
            ["outcome"],
            buckets=APPROVAL_BUCKETS,
            registry=self.registry,
        )
        self.llm_calls = Counter(
            "triage_llm_calls", "Chat-model calls, by model.", ["model"], registry=self.registry
        )
        self.llm_tokens = Counter(
            "triage_llm_tokens",
            "Tokens used, by model and kind.",
            ["model", "kind"],
            registry=self.registry,
        )
        self.llm_errors = Counter(
            "triage_llm_errors",
            "Failed chat-model calls, by model and reason.",
            ["model", "reason"],
            registry=self.registry,
        )

    def triage_finished(self, seconds: float) -> None:
        """Observes one triage run."""
        self.triage_seconds.observe(seconds)

    def approval_completed(self, outcome: str, seconds: float) -> None:
        """Observes the time an approval took to complete."""
        self.approval_seconds.labels(outcome=outcome).observe(max(0.0, seconds))

    def llm_called(self, model: str, usage: Mapping[str, int], error: str | None) -> None:
        """Counts a chat-model call, its tokens and its failure."""
        self.llm_calls.labels(model=model).inc()
        for kind in ("prompt_tokens", "completion_tokens"):
            if usage.get(kind):
                self.llm_tokens.labels(model=model, kind=kind.removesuffix("_tokens")).inc(
                    usage[kind]
                )
        if error is not None:
            self.llm_errors.labels(model=model, reason=error).inc()

    async def render(self) -> bytes:
        """Reads the store's counts and returns every metric in the text exposition format."""
        async with self.db.transaction() as conn:
            self.store.snapshot = await read_gauges(conn)
        return generate_latest(self.registry)
