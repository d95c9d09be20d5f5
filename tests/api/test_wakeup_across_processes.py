"""On PostgreSQL a decision taken in an API process wakes a separate worker process at once.

The worker polls only once a minute here, so a case finished within seconds was woken by the
notification its decision committed, not found by the poll.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.support.cases import make_inventory_case
from tests.support.processes import Process, api_process, client, stop_all, worker_process
from tests.support.service import PG_ADMIN_URL, Service, Store, basic, seeded_store
from tools.wakeups.postgres import APPLICATION_NAME

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ACTION = "post_inventory_adjustment"
WORKER_POLL_S = "60"
WAKE_TIMEOUT_S = 15.0
START_TIMEOUT_S = 90.0


@dataclass
class Cluster:
    """An API process without a worker, a `triage worker` beside it, and their store."""

    service: Service
    store: Store
    worker: Process


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """`serve --no-worker` and `triage worker` (polling once a minute) on one PostgreSQL store."""
    root = tmp_path_factory.mktemp("wakeup")
    api = worker = None
    with seeded_store("postgres", root, tmp_path_factory.getbasetemp()) as store:
        try:
            api = api_process(store, root / "api.log", worker=False)
            worker = worker_process(store, root / "worker.log", TRIAGE_OUTBOX_POLL_S=WORKER_POLL_S)
            wait_listening(store, worker)
            with client(api, store) as service:
                yield Cluster(service, store, worker)
        finally:
            stop_all(api, worker)


def listener_pids(store: Store) -> list[int]:
    """Returns the server pids of the worker's listening connections to the store."""
    assert store.database_url is not None
    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
    name = make_url(store.database_url).database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return [int(row[0]) for row in conn.execute(query, (name, APPLICATION_NAME)).fetchall()]


def wait_listening(store: Store, worker: Process, *, not_pid: int | None = None) -> int:
    """Waits until the worker LISTENs (on a connection other than `not_pid`); returns its pid."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker.popen.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{worker.tail()}")
        pids = [pid for pid in listener_pids(store) if pid != not_pid]
        if pids:
            return pids[0]
        time.sleep(0.1)
    raise RuntimeError(f"the worker never listened:\n{worker.tail()}")


def approve_and_wait(service: Service) -> str:
    """Submits a case, approves its ERP action, and waits (briefly) for it to be resolved."""
    case = make_inventory_case()
    assert service.submit(case).status_code == 201
    approval = service.approval_for(case["case_id"], ACTION)
    decided = service.decide(approval["approval_id"], basic("alice"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    service.wait_for(case["case_id"], "resolved", timeout_s=WAKE_TIMEOUT_S)
    return str(case["case_id"])


def test_a_decision_wakes_the_worker_in_another_process(cluster: Cluster) -> None:
    """The worker resumes the decided case and delivers its ERP posting well before its poll."""
    case_id = approve_and_wait(cluster.service)
    final = cluster.service.case(case_id)
    assert ACTION in final["executed"]
    assert len(cluster.service.postings(case_id)) == 1
    assert cluster.service.audit_kinds(case_id).count("erp.delivered") == 1


def test_the_worker_listens_again_after_its_connection_is_terminated(cluster: Cluster) -> None:
    """pg_terminate_backend on the listener: it reconnects, logs once, and decisions still wake it."""
    first = wait_listening(cluster.store, cluster.worker)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (first,))
    wait_listening(cluster.store, cluster.worker, not_pid=first)
    case_id = approve_and_wait(cluster.service)
    assert len(cluster.service.postings(case_id)) == 1
    log = cluster.worker.log.read_text(errors="replace")
    assert log.count("the outbox listener is not connected") == 1
    assert "the outbox listener is connected again" in log
    assert cluster.worker.popen.poll() is None
