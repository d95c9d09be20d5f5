"""Restart safety: a case waiting for approval survives a stop and posts exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cases import make_inventory_case
from tests.support.service import Store, basic, running_service, seeded_store, table_rows
from workflow.intake import TriageService
from workflow.worker import Worker

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ACTION = "post_inventory_adjustment"


@pytest.fixture(params=STORES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[Store]:
    """A private copy of the seeded store that outlives several server runs."""
    with seeded_store(request.param, tmp_path, tmp_path_factory.getbasetemp()) as copy:
        yield copy


def test_a_restart_while_pending_resumes_on_approval(store: Store) -> None:
    """Submit, stop while pending, start a new server on the same data, approve: one posting."""
    case = make_inventory_case()
    with running_service(store.data_dir, database_url=store.database_url) as first:
        assert first.submit(case).json()["status"] == "pending_approval"
        approval_id = first.approval_for(case["case_id"], ACTION)["approval_id"]

    with running_service(store.data_dir, database_url=store.database_url) as second:
        assert second.case(case["case_id"])["status"] == "pending_approval"
        assert second.decide(approval_id, basic("alice")).status_code == 200
        final = second.wait_for(case["case_id"], "resolved")
        assert ACTION in final["executed"]
        assert len(second.postings(case["case_id"])) == 1

    with running_service(store.data_dir, database_url=store.database_url) as third:
        assert third.case(case["case_id"])["status"] == "resolved"
        assert len(third.postings(case["case_id"])) == 1
        assert third.audit_kinds(case["case_id"]).count("erp.delivered") == 1


def test_an_approval_committed_before_a_crash_is_resumed_and_posted_once_on_start(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approval and its outbox row commit, the process dies before resuming; start finishes it."""
    case = make_inventory_case()

    async def crash_before_resume(self: TriageService, case_id: str) -> bool:
        return False  # as resume says when it did not resume: the audit row is typed

    monkeypatch.setattr(TriageService, "resume", crash_before_resume)
    monkeypatch.setattr(Worker, "wake", lambda self: None)
    # A long poll keeps the worker from delivering the row before the "crash".
    with running_service(
        store.data_dir, database_url=store.database_url, outbox_poll_s=3600
    ) as first:
        assert first.submit(case).json()["status"] == "pending_approval"
        approval_id = first.approval_for(case["case_id"], ACTION)["approval_id"]
        assert first.decide(approval_id, basic("alice")).json()["status"] == "approved"
        assert first.case(case["case_id"])["status"] == "pending_approval"
        assert first.postings(case["case_id"]) == []
        outbox = table_rows(first.settings, "outbox", case["case_id"])
        assert [(row["kind"], row["status"]) for row in outbox] == [
            ("erp", "pending"),
            ("resume", "pending"),
        ]
    monkeypatch.undo()

    with running_service(store.data_dir, database_url=store.database_url) as second:
        final = second.wait_for(case["case_id"], "resolved")
        assert ACTION in final["executed"]
        assert len(second.postings(case["case_id"])) == 1
        assert second.audit_kinds(case["case_id"]).count("erp.delivered") == 1

    with running_service(store.data_dir, database_url=store.database_url) as third:
        assert len(third.postings(case["case_id"])) == 1
        assert third.case(case["case_id"])["status"] == "resolved"


def test_a_posting_delivered_before_the_crash_is_not_posted_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatcher delivered the posting but the graph never resumed; start closes, no repost."""
    case = make_inventory_case()

    async def crash_before_resume(self: TriageService, case_id: str) -> bool:
        return False  # as resume says when it did not resume: the audit row is typed

    monkeypatch.setattr(TriageService, "resume", crash_before_resume)
    with running_service(store.data_dir, database_url=store.database_url) as first:
        first.submit(case)
        approval_id = first.approval_for(case["case_id"], ACTION)["approval_id"]
        assert first.decide(approval_id, basic("alice")).status_code == 200
        rows: list[dict[str, object]] = []
        for _ in range(100):
            rows = table_rows(first.settings, "outbox", case["case_id"])
            if rows and all(row["status"] == "delivered" for row in rows):
                break
            time.sleep(0.1)
        assert [(row["kind"], row["status"]) for row in rows] == [
            ("erp", "delivered"),
            ("resume", "delivered"),
        ]
        assert len(first.postings(case["case_id"])) == 1
        assert first.case(case["case_id"])["status"] == "pending_approval"
    monkeypatch.undo()

    with running_service(store.data_dir, database_url=store.database_url) as second:
        final = second.wait_for(case["case_id"], "resolved")
        assert ACTION in final["executed"]
        assert len(second.postings(case["case_id"])) == 1
        assert second.audit_kinds(case["case_id"]).count("erp.delivered") == 1
