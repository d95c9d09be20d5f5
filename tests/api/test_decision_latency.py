"""A decision returns once committed: a hanging or slow ERP never holds up the reviewer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cases import make_inventory_case
from tests.support.erp import ErpLog, Mode, erp_server
from tests.support.processes import api_process, client
from tests.support.service import Service, basic, seeded_store

pytestmark = pytest.mark.slow
ACTION = "post_inventory_adjustment"
DECISIONS = 5


@pytest.fixture
def service_with_erp(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[tuple[Service, ErpLog]]:
    """`triage serve` with its embedded worker on SQLite, posting to an ERP in the given mode."""
    mode: Mode = request.param
    with (
        erp_server(mode) as (erp, url),
        seeded_store("sqlite", tmp_path, tmp_path_factory.getbasetemp()) as store,
    ):
        process = api_process(
            store,
            tmp_path / "service.log",
            worker=True,
            TRIAGE_ERP_ADAPTER="http",
            TRIAGE_ERP_URL=url,
        )
        try:
            with client(process, store) as service:
                yield service, erp
        finally:
            process.kill()  # a graceful stop would wait on the hanging delivery


def decide_cases(service: Service) -> tuple[list[str], list[float]]:
    """Opens DECISIONS ERP approvals, approves them one by one, and times each round trip."""
    case_ids = []
    for _ in range(DECISIONS):
        case = make_inventory_case()
        assert service.submit(case).status_code == 201
        case_ids.append(case["case_id"])
    # The first Basic request pays for argon2 once; the decisions are what is timed.
    assert service.http.get("/v1/approvals", headers=basic("alice")).status_code == 200
    timings = []
    for case_id in case_ids:
        approval = service.approval_for(case_id, ACTION)
        started = time.perf_counter()
        response = service.decide(approval["approval_id"], basic("alice"))
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved"
    return case_ids, timings


def report(label: str, timings: list[float]) -> float:
    """Prints the decision round trips and returns their median."""
    median = statistics.median(timings)
    shown = ", ".join(f"{t * 1000:.0f}" for t in timings)
    print(f"\ndecide with a {label} ERP: {shown} ms; median {median * 1000:.0f} ms")
    return median


def erp_rows(service: Service, case_id: str) -> list[dict[str, Any]]:
    """Returns the case's ERP outbox rows."""
    response = service.http.get("/v1/outbox", params={"case_id": case_id}, headers=basic("alice"))
    assert response.status_code == 200, response.text
    return [row for row in response.json()["items"] if row["kind"] == "erp"]


@pytest.mark.parametrize("service_with_erp", ["hang"], indirect=True)
def test_a_decision_against_a_hanging_erp_returns_within_200_ms(
    service_with_erp: tuple[Service, ErpLog],
) -> None:
    """The worker hangs on the ERP, yet each decision returns at once and nothing is posted."""
    service, erp = service_with_erp
    case_ids, timings = decide_cases(service)
    median = report("hanging", timings)
    assert max(timings) < 1.0
    assert median < 0.2
    erp.wait_for(1)  # the worker is inside a delivery the ERP never answers
    time.sleep(1.0)
    for case_id in case_ids:
        rows = erp_rows(service, case_id)
        assert [row["status"] for row in rows] == ["pending"]
        found = service.case(case_id)
        assert found["status"] != "resolved"
        assert ACTION not in found["executed"]
        assert "erp.delivered" not in service.audit_kinds(case_id)


@pytest.mark.parametrize("service_with_erp", ["slow"], indirect=True)
def test_a_decision_against_a_slow_erp_returns_before_the_posting(
    service_with_erp: tuple[Service, ErpLog],
) -> None:
    """The ERP takes 2 s per posting; decisions return long before, and every case then posts."""
    service, erp = service_with_erp
    case_ids, timings = decide_cases(service)
    report("slow (2 s)", timings)
    assert max(timings) < 1.0
    for case_id in case_ids:
        service.wait_for(case_id, "resolved", timeout_s=60)
    assert sorted(erp.keys().values()) == [1] * DECISIONS
