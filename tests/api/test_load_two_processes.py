"""Load on PostgreSQL: two API processes, two workers, duplicates and racing reviewers, one ERP.

TRIAGE_LOAD_CASES (default 1,000) requests go out, 30% of them repeats of an earlier id (half
at once on the other process, half later). Every approval is then decided by two reviewers
at once, one on each API process. The ERP honours no idempotency key, so a row delivered
twice shows up as two requests with one key.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.results import ProposedAction
from core.store import tables
from tests.support.cases import make_cutoff_case, make_inventory_case
from tests.support.erp import ErpLog, erp_server
from tests.support.processes import Process, api_process, client, stop_all, worker_process
from tests.support.service import READ_KEY, Service, Store, basic, bearer, run_store, seeded_store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TOTAL = int(os.environ.get("TRIAGE_LOAD_CASES", "1000"))
DUPLICATE_SHARE = 0.3
THREADS = 16
SETTLE_TIMEOUT_S = 600.0
MAKERS: list[Callable[[], dict[str, Any]]] = [
    make_inventory_case,  # one ERP approval by one person
    make_cutoff_case,  # one approval of a carrier rebooking, no ERP
    lambda: make_inventory_case(amount=25_000.0),  # an ERP approval that needs two people
]


@dataclass
class Sent:
    """One HTTP exchange of the run: which case, through which process, its answer and timing."""

    case_id: str
    api: int
    status: int
    body: dict[str, Any] | None
    started: float
    ended: float


@dataclass
class Cluster:
    """The two API clients, the store, the ERP's log and every process (for their RSS)."""

    apis: list[Service]
    store: Store
    erp: ErpLog
    processes: dict[str, Process]
    started_rss: dict[str, float]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two `serve --no-worker` processes and two `triage worker`s on one database, one ERP."""
    root = tmp_path_factory.mktemp("load")
    running: dict[str, Process] = {}
    with (
        erp_server() as (erp, url),
        seeded_store("postgres", root, tmp_path_factory.getbasetemp()) as store,
    ):
        env = {"TRIAGE_ERP_ADAPTER": "http", "TRIAGE_ERP_URL": url}
        try:
            for name in ("api-a", "api-b"):
                running[name] = api_process(store, root / f"{name}.log", worker=False, **env)
            for name in ("worker-1", "worker-2"):
                running[name] = worker_process(store, root / f"{name}.log", **env)
            with (
                client(running["api-a"], store) as a,
                client(running["api-b"], store) as b,
            ):
                # Only an API process has finished starting here (it answered /healthz).
                rss = {name: peak_rss_mb(p) for name, p in running.items() if p.base_url}
                yield Cluster([a, b], store, erp, running, rss)
        finally:
            stop_all(*running.values())


def plan(total: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[int]]:
    """Returns the unique cases and the order of sending (indexes; repeats are duplicates)."""
    duplicates = round(total * DUPLICATE_SHARE)
    cases = [MAKERS[i % len(MAKERS)]() for i in range(total - duplicates)]
    order: list[tuple[float, int]] = [(float(i), i) for i in range(len(cases))]
    for n in range(duplicates):
        i = rng.randrange(len(cases))
        # Half follow their original at once (the next job, so the other process), half later.
        at = i + 0.5 if n % 2 else rng.uniform(i + 1, len(cases) + 1)
        order.append((at, i))
    return cases, [i for _at, i in sorted(order)]


def send_all(cluster: Cluster, cases: list[dict[str, Any]], order: list[int]) -> list[Sent]:
    """Sends the cases in order from THREADS threads, alternating between the two processes."""

    def send(job: tuple[int, int]) -> Sent:
        position, index = job
        api = position % 2
        started = time.monotonic()
        response = cluster.apis[api].submit(cases[index])
        body = response.json() if response.status_code < 300 else None
        return Sent(
            cases[index]["case_id"], api, response.status_code, body, started, time.monotonic()
        )

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(send, enumerate(order)))


def decide_all(cluster: Cluster, approvals: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Two reviewers decide every approval at once, one on each process; returns the codes."""
    barriers = {a["approval_id"]: threading.Barrier(2, timeout=60) for a in approvals}

    def decide(job: tuple[int, dict[str, Any], str]) -> tuple[str, int]:
        api, approval, who = job
        barriers[approval["approval_id"]].wait()
        response = cluster.apis[api].decide(approval["approval_id"], basic(who))
        return approval["approval_id"], response.status_code

    # Each pair is queued back to back, so a pool of even size always holds both halves.
    jobs = [(n % 2, a, who) for n, a in enumerate(approvals) for who in ("alice", "bob")]
    jobs = [(api if who == "alice" else 1 - api, a, who) for api, a, who in jobs]
    codes: dict[str, list[int]] = defaultdict(list)
    with ThreadPoolExecutor(THREADS) as pool:
        for approval_id, code in pool.map(decide, jobs):
            codes[approval_id].append(code)
    return codes


def store_counts(store: Store) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Returns case rows per id, `case.received` audits per id, and cases per status."""
    assert store.database_url is not None

    async def work(conn: Any) -> tuple[Counter[str], Counter[str], Counter[str]]:
        rows = (await conn.execute(select(tables.cases.c.case_id, tables.cases.c.status))).all()
        received = select(tables.audit.c.case_id, func.count()).where(
            tables.audit.c.kind == "case.received"
        )
        audits = (await conn.execute(received.group_by(tables.audit.c.case_id))).all()
        return (
            Counter(case_id for case_id, _ in rows),
            Counter(dict(audits)),
            Counter(status for _, status in rows),
        )

    return run_store(store.database_url, work)


def outbox_statuses(store: Store) -> Counter[str]:
    """Counts the ERP outbox rows per status."""
    assert store.database_url is not None

    async def work(conn: Any) -> Counter[str]:
        query = select(tables.outbox.c.status).where(tables.outbox.c.kind == "erp")
        return Counter(status for (status,) in (await conn.execute(query)).all())

    return run_store(store.database_url, work)


def wait_settled(store: Store, total: int) -> Counter[str]:
    """Waits until every case is resolved (or gives up) and returns the cases per status."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        statuses = store_counts(store)[2]
        if statuses["resolved"] == total or time.monotonic() > deadline:
            return statuses
        time.sleep(1.0)


def peak_rss_mb(process: Process) -> float:
    """Returns a process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{process.popen.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def overlapping(sent: list[Sent]) -> int:
    """Counts the duplicate requests that were in flight while another of their id was."""
    by_id: dict[str, list[Sent]] = defaultdict(list)
    for s in sent:
        by_id[s.case_id].append(s)
    count = 0
    for group in by_id.values():
        for s in group[1:]:
            count += any(o is not s and o.started < s.ended and s.started < o.ended for o in group)
    return count


# Execution moves on while duplicates are answered: an answer given when the gate had decided
# and one given after the automatic actions ran differ in what has run, not in the triage.
PROGRESS = ("updated_at", "executed", "postings")


def same_triage(body: dict[str, Any]) -> dict[str, Any]:
    """Returns what every answer for one id must agree on: the triage, not its progress."""
    return {k: v for k, v in body.items() if k not in PROGRESS}


def pending_approvals(service: Service) -> list[dict[str, Any]]:
    """Returns every pending approval, following the listing's pages."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"status": "pending", "limit": 500}
    while True:
        page = service.http.get("/v1/approvals", params=params, headers=bearer(READ_KEY)).json()
        found += page["items"]
        if not page.get("next_cursor"):
            return found
        params["cursor"] = page["next_cursor"]


def test_two_processes_under_load_triage_each_id_once_and_post_each_key_once(
    cluster: Cluster,
) -> None:
    """1,000 requests, 30% duplicates, racing reviewers: one triage per id, one ERP call per key."""
    cases, order = plan(TOTAL, random.Random(12))
    started = time.monotonic()
    sent = send_all(cluster, cases, order)
    intake_s = time.monotonic() - started

    by_id: dict[str, list[Sent]] = defaultdict(list)
    for s in sent:
        by_id[s.case_id].append(s)
    server_errors = [s for s in sent if s.status >= 500]
    assert server_errors == []
    for case_id, answers in by_id.items():
        assert sorted(a.status for a in answers) == [200] * (len(answers) - 1) + [201], case_id
        triages = {repr(same_triage(a.body or {})) for a in answers}
        assert len(triages) == 1, f"{case_id} got {len(triages)} different triages"
    rows, received, _statuses = store_counts(cluster.store)
    ids = {c["case_id"] for c in cases}
    assert {i: rows[i] for i in ids} == dict.fromkeys(ids, 1)
    assert {i: received[i] for i in ids} == dict.fromkeys(ids, 1)

    approvals = [a for a in pending_approvals(cluster.apis[0]) if a["case_id"] in ids]
    # Every case waits for a person; some twice, where a customer message is under its floor.
    assert {a["case_id"] for a in approvals} == ids
    decided_at = time.monotonic()
    codes = decide_all(cluster, approvals)
    decide_s = time.monotonic() - decided_at
    for approval in approvals:
        wanted = [200, 409] if approval["required_approvals"] == 1 else [200, 200]
        assert sorted(codes[approval["approval_id"]]) == wanted, approval

    statuses = wait_settled(cluster.store, len(cases))
    settle_s = time.monotonic() - decided_at
    assert statuses["resolved"] == len(cases), statuses
    erp_approvals = [a for a in approvals if a["posts_to_erp"]]
    expected = {
        ProposedAction(action=a["action"], posts_to_erp=True).key(a["case_id"]): a
        for a in erp_approvals
    }
    per_key = cluster.erp.keys()
    assert set(per_key) == set(expected)
    assert [k for k, n in per_key.items() if n != 1] == []
    for request in cluster.erp.requests:
        approval = expected[request["key"]]
        assert request["body"]["case_id"] == approval["case_id"]
        assert len(request["body"]["approved_by"]) == approval["required_approvals"]
    assert outbox_statuses(cluster.store) == Counter({"delivered": len(expected)})

    rss = {name: peak_rss_mb(p) for name, p in cluster.processes.items()}
    duplicates = len(sent) - len(cases)
    print(
        f"\nload: {len(sent)} requests for {len(cases)} ids, {duplicates} duplicates "
        f"({overlapping(sent)} in flight beside another of their id), 0 5xx\n"
        f"intake {intake_s:.1f} s ({len(sent) / intake_s:.1f} requests/s); "
        f"{len(approvals)} approvals, {2 * len(approvals)} racing decisions in {decide_s:.1f} s "
        f"({2 * len(approvals) / decide_s:.1f}/s); all resolved {settle_s:.1f} s after the first; "
        f"wall {time.monotonic() - started:.1f} s\n"
        f"ERP: {len(cluster.erp.requests)} requests, {len(per_key)} keys, max {max(per_key.values())} "
        "per key\npeak RSS (VmHWM) at the end (API processes once healthy): "
        + ", ".join(
            f"{n} {mb:.0f} MB"
            + (f" ({cluster.started_rss[n]:.0f})" if n in cluster.started_rss else "")
            for n, mb in rss.items()
        )
    )
