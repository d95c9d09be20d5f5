"""The crash suite: SIGKILL the service at every node boundary, in intake and in delivery.

Each kill point is killed KILLS times (TRIAGE_CRASH_KILLS, default 20), one case per kill, on
SQLite and on PostgreSQL. Every process life starts by finishing the previous case the way an
orchestrator and a reviewer would (a retried POST, an approval), so recovery is exercised from
every point. At the end no case is lost or stuck, no idempotency key was posted twice as new,
and every action performed is in the audit.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cases import make_inventory_case
from tests.support.processes import Process, api_process, client
from tests.support.service import Service, Store, basic, seeded_store, table_rows

pytestmark = pytest.mark.slow
# Each kill is a process start (about 4 s): 20 kills at each of 10 points on two stores are 400
# kills and about half an hour of make test. TRIAGE_CRASH_KILLS=3 gives a quick local pass.
KILLS = int(os.environ.get("TRIAGE_CRASH_KILLS", "20"))
ACTION = "post_inventory_adjustment"
BEFORE_APPROVAL = [
    "intake.stored",
    "after:retrieve",
    "after:classify",
    "after:propose",
    "after:policy_gate",
    "after:execute_automatic",
]
AFTER_APPROVAL = ["after:await_approval", "after:execute", "after:close", "outbox.posted"]
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[Store]:
    """A private copy of the seeded store that outlives many killed processes."""
    with seeded_store(request.param, tmp_path, tmp_path_factory.getbasetemp()) as copy:
        yield copy


def finish(service: Service, case: dict[str, Any]) -> None:
    """Does what the orchestrator and a reviewer do after a crash: retry, approve, wait."""
    response = service.submit(case)
    assert response.status_code in (200, 201), response.text
    assert response.json()["status"] != "triaging", "a retried POST found the case stuck"
    for approval in service.approvals(case["case_id"], status="pending"):
        assert service.decide(approval["approval_id"], basic("alice")).status_code == 200
    service.wait_for(case["case_id"], "resolved", timeout_s=60)


def provoke(service: Service, case: dict[str, Any], point: str) -> None:
    """Drives one case towards the kill point; the process may die under any of these calls."""
    try:
        service.submit(case)
        if point in AFTER_APPROVAL:
            approval = service.approval_for(case["case_id"], ACTION)
            service.decide(approval["approval_id"], basic("alice"))
    except httpx.TransportError:
        pass  # the process died answering: that is the point


def killed(process: Process) -> bool:
    """Waits for the process to die and tells whether SIGKILL ended it."""
    try:
        return process.popen.wait(timeout=60) == -signal.SIGKILL
    finally:
        process.kill()


def check_invariants(service: Service, store: Store, cases: list[dict[str, Any]]) -> None:
    """No case lost or stuck, no key posted twice as new, no performed action unaudited."""
    settings = service.settings
    for case in cases:
        case_id = case["case_id"]
        assert service.case(case_id)["status"] == "resolved"
        postings = service.postings(case_id)
        assert [p["action"] for p in postings] == [ACTION]
        audit = service.audit(case_id)
        new_deliveries = [
            e for e in audit if e["kind"] == "erp.delivered" and not e["detail"]["duplicate"]
        ]
        assert len(new_deliveries) <= 1
        assert {e["detail"]["idempotency_key"] for e in audit if e["kind"] == "erp.delivered"} == {
            postings[0]["idempotency_key"]
        }
        started = {e["detail"]["idempotency_key"] for e in audit if e["kind"] == "action.started"}
        performed = table_rows(settings, "action_log", case_id)
        assert {row["idempotency_key"] for row in performed} <= started


@pytest.mark.parametrize("point", BEFORE_APPROVAL + AFTER_APPROVAL)
def test_kills_at_a_point_lose_nothing_and_repeat_nothing(
    store: Store, tmp_path: Path, point: str
) -> None:
    """KILLS kills at this point, one case each, then recovery: every case ends resolved, once."""
    cases: list[dict[str, Any]] = []
    kills = 0
    for life in range(KILLS + 1):
        crash = {} if life == KILLS else {"TRIAGE_CRASH_AT": point}
        case = make_inventory_case()
        if crash:
            crash["TRIAGE_CRASH_CASE"] = case["case_id"]
        process = api_process(
            store, tmp_path / "service.log", worker=True, TRIAGE_OUTBOX_LEASE_S="2", **crash
        )
        with client(process, store) as service:
            if cases:
                finish(service, cases[-1])
            if not crash:
                check_invariants(service, store, cases)
                process.stop()
                break
            provoke(service, case, point)
            kills += killed(process)
        cases.append(case)
    assert kills == KILLS, f"{kills} of {KILLS} processes died at {point}"
