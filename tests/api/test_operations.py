"""Readiness and metrics through HTTP: what an operator's probes and Prometheus see."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete

from core.store.tables import workers
from tests.support.cases import make_inventory_case
from tests.support.erp import erp_server
from tests.support.service import (
    READ_KEY,
    Service,
    basic,
    bearer,
    empty_store,
    run_store,
    running_service,
    seeded_store,
)

ACTION = "post_inventory_adjustment"


def scrape(
    service: Service, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Returns every sample of /metrics by name and sorted labels."""
    response = service.http.get("/metrics", headers=headers or bearer(READ_KEY))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    """Returns one sample's value, 0 when the series is absent."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_readyz_passes_every_check_then_names_the_worker_once_no_heartbeat_is_fresh(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The database, the index and a worker are each reported; with no worker beating, a 503."""
    with (
        seeded_store("sqlite", tmp_path, tmp_path_factory.getbasetemp()) as store,
        running_service(store.data_dir) as service,
    ):
        ready = service.http.get("/readyz")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert {name: c["status"] for name, c in checks.items()} == {
            "database": "ok",
            "index": "ok",
            "worker": "ok",
        }
        assert checks["index"]["history"] == 250  # the seeded history, counted by Chroma
        run_store(service.settings.resolved_database_url, lambda c: c.execute(delete(workers)))
        failing = service.http.get("/readyz")
        assert failing.status_code == 503
        assert failing.json()["failing"] == ["worker"]
        assert failing.json()["checks"]["database"]["status"] == "ok"


def test_metrics_count_cases_approvals_breaches_the_outbox_and_latencies(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """One case through triage, approval and a failing ERP moves each metric it should."""
    case = make_inventory_case(sla_due_at="2020-01-01T00:00:00Z")
    with (
        erp_server("fail") as (_erp, url),
        seeded_store("sqlite", tmp_path, tmp_path_factory.getbasetemp()) as store,
        running_service(
            store.data_dir, erp_url=url, erp_max_attempts=1, outbox_max_attempts=1
        ) as service,
    ):
        assert service.http.get("/metrics").status_code == 401
        assert service.http.get("/metrics", headers=bearer()).status_code == 403
        triaged = service.submit(case).json()
        assert triaged["status"] == "pending_approval"
        cause = triaged["classification"]["cause"]
        before = scrape(service)
        assert value(before, "triage_cases", status="pending_approval", cause=cause) == 1
        assert value(before, "triage_approvals_pending") >= 1
        assert value(before, "triage_sla_breaches") == 1
        assert value(before, "triage_duration_seconds_count") == 1
        assert value(before, "triage_approval_duration_seconds_count", outcome="approved") == 0

        for approval in service.approvals(case["case_id"], "pending"):
            decided = service.decide(approval["approval_id"], basic("alice"))
            assert decided.status_code == 200, decided.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            after = scrape(service, **basic("bob"))
            if value(after, "triage_outbox_dead_letters", kind="erp") == 1:
                break
            time.sleep(0.1)
        assert value(after, "triage_outbox_dead_letters", kind="erp") == 1
        assert value(after, "triage_outbox_pending", kind="erp") == 0
        assert value(after, "triage_approvals_pending") == 0
        assert value(after, "triage_approval_duration_seconds_count", outcome="approved") >= 1
        assert value(after, "triage_duration_seconds_count") == 1


def test_metrics_are_open_to_anyone_only_when_configured(tmp_path: Path) -> None:
    """TRIAGE_METRICS_PUBLIC lets a scraper without a key in; readiness never asks for one."""
    with (
        empty_store(tmp_path) as store,
        running_service(store.data_dir, metrics_public=True) as svc,
    ):
        assert svc.http.get("/metrics").status_code == 200
        assert svc.http.get("/readyz").status_code == 200
