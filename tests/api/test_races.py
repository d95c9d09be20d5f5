"""Racing requests across two API processes and a worker on PostgreSQL: one winner each time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import pytest

from tests.support.cases import make_inventory_case
from tests.support.processes import Process, api_process, client, stop_all, worker_process
from tests.support.service import READ_KEY, Service, Store, basic, bearer, seeded_store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ACTION = "post_inventory_adjustment"
Call = Callable[[], httpx.Response]
TRIALS = 8


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Service, Service, Store]]:
    """Two API processes and one worker process on one private PostgreSQL database."""
    root = tmp_path_factory.mktemp("races")
    logs = root / "logs"
    logs.mkdir()
    processes: list[Process] = []
    with seeded_store("postgres", root, tmp_path_factory.getbasetemp()) as store:
        try:
            processes.append(api_process(store, logs / "api-a.log", worker=False))
            processes.append(api_process(store, logs / "api-b.log", worker=False))
            processes.append(worker_process(store, logs / "worker.log"))
            with client(processes[0], store) as a, client(processes[1], store) as b:
                yield a, b, store
        finally:
            stop_all(*processes)


def deciding(service: Service, approval_id: str, who: str, decision: str = "approve") -> Call:
    """Returns a call that posts one reviewer's decision."""
    reason = {"reason": "race"} if decision == "reject" else {}
    return lambda: service.decide(approval_id, basic(who), decision, **reason)


def at_once(*calls: Call) -> list[httpx.Response]:
    """Fires the calls from threads released together, and returns their responses in order."""
    barrier = threading.Barrier(len(calls))

    def fire(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(fire, calls))


def pending_case(service: Service, amount: float = 3200.0) -> tuple[str, dict[str, Any]]:
    """Submits an inventory case and returns its id and its pending ERP approval."""
    case = make_inventory_case(amount=amount)
    assert service.submit(case).status_code == 201
    return case["case_id"], service.approval_for(case["case_id"], ACTION)


def votes(service: Service, approval_id: str) -> list[dict[str, Any]]:
    """Returns the votes recorded on an approval."""
    response = service.http.get(f"/v1/approvals/{approval_id}", headers=bearer(READ_KEY))
    assert response.status_code == 200, response.text
    return list(response.json()["votes"])


def settle(service: Service, case_id: str) -> dict[str, Any]:
    """Waits until the worker has finished the case and returns it."""
    return service.wait_for(case_id, "resolved", "rejected", "failed")


def test_two_approvals_of_a_single_approval_item_have_one_winner(
    cluster: tuple[Service, Service, Store],
) -> None:
    """Alice on one process and Bob on the other approve at once: one 200, one 409, one posting."""
    a, b, _store = cluster
    for _ in range(TRIALS):
        case_id, approval = pending_case(a)
        first, second = at_once(
            deciding(a, approval["approval_id"], "alice"),
            deciding(b, approval["approval_id"], "bob"),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (
            first.text,
            second.text,
        )
        assert len(votes(a, approval["approval_id"])) == 1
        assert settle(a, case_id)["status"] == "resolved"
        assert len(a.postings(case_id)) == 1
        assert a.audit_kinds(case_id).count("approval.complete") == 1


def test_approve_racing_reject_never_posts_a_rejection(
    cluster: tuple[Service, Service, Store],
) -> None:
    """Approve and reject at once: exactly one wins, and a rejection is never posted."""
    a, b, _store = cluster
    outcomes = set()
    for trial in range(TRIALS):
        case_id, approval = pending_case(a)
        approve = deciding(a, approval["approval_id"], "alice")
        reject = deciding(b, approval["approval_id"], "bob", "reject")
        responses = at_once(approve, reject) if trial % 2 else at_once(reject, approve)
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        winner = next(r.json()["status"] for r in responses if r.status_code == 200)
        outcomes.add(winner)
        final = settle(a, case_id)
        if winner == "rejected":
            assert final["status"] == "rejected"
            time.sleep(0.5)  # a few worker polls that must not deliver anything
            assert a.postings(case_id) == []
        else:
            assert final["status"] == "resolved"
            assert len(a.postings(case_id)) == 1
    assert outcomes, "no race was decided"


def test_three_reviewers_on_a_two_approval_item_complete_it_exactly_once(
    cluster: tuple[Service, Service, Store],
) -> None:
    """Above the four-eyes amount, three reviewers at once: two count, one 409, one posting."""
    a, b, _store = cluster
    for _ in range(TRIALS):
        case_id, approval = pending_case(a, amount=25_000.0)
        assert approval["required_approvals"] == 2
        approval_id = approval["approval_id"]
        responses = at_once(
            deciding(a, approval_id, "alice"),
            deciding(b, approval_id, "bob"),
            deciding(a, approval_id, "carol"),
        )
        assert sorted(r.status_code for r in responses) == [200, 200, 409], [
            r.text for r in responses
        ]
        assert settle(a, case_id)["status"] == "resolved"
        assert len(a.postings(case_id)) == 1
        assert len(a.postings(case_id)[0]["approvers"]) == 2
        assert a.audit_kinds(case_id).count("approval.complete") == 1


def test_concurrent_intake_of_one_id_triages_it_once(
    cluster: tuple[Service, Service, Store],
) -> None:
    """Twenty POSTs of one case across both processes: one 201, the rest 200, never a 5xx."""
    a, b, _store = cluster
    case = make_inventory_case()
    calls: list[Call] = [partial(s.submit, case) for s in (a, b) * 10]
    responses = at_once(*calls)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [201], [r.text for r in responses if r.status_code >= 300]
    assert a.audit_kinds(case["case_id"]).count("case.received") == 1
    assert len(a.approvals(case["case_id"])) == 1
