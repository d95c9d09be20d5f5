"""A case whose graph fails after the gate opened approvals voids them: nothing posts for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.wiring import Overrides
from tests.support.cases import make_inventory_case
from tests.support.service import (
    Service,
    basic,
    running_service,
    seeded_store,
    table_rows,
)
from tools.actions.base import ActionReceipt, ActionRequest

ACTION = "post_inventory_adjustment"
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class BrokenActions:
    """An action runner with a bug: every action raises an error that is no integration failure."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def run(self, request: ActionRequest) -> ActionReceipt:
        """Raises, as a bug in a runner would."""
        self.calls.append(request.action)
        raise RuntimeError(f"runner bug while running {request.action}")


@pytest.fixture(params=STORES)
def broken(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[tuple[Service, BrokenActions]]:
    """A service (with its worker) whose automatic actions blow up after the gate."""
    actions = BrokenActions()
    with (
        seeded_store(request.param, tmp_path, tmp_path_factory.getbasetemp()) as store,
        running_service(
            store.data_dir,
            database_url=store.database_url,
            overrides=Overrides(actions=actions),
        ) as service,
    ):
        yield service, actions


def test_a_failure_after_the_gate_voids_the_open_approvals_and_nothing_posts(
    broken: tuple[Service, BrokenActions],
) -> None:
    """The ERP approval opened by the gate is void, approving it is a 409, and no row is queued."""
    service, actions = broken
    case = make_inventory_case()
    case_id = case["case_id"]
    response = service.submit(case)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "failed"
    assert actions.calls == ["create_cycle_count"]  # it failed in execute_automatic

    kinds = service.audit_kinds(case_id)
    assert "approval.requested" in kinds  # the gate had opened the approval before the failure
    approval = service.approval_for(case_id, ACTION)
    assert approval["status"] == "void"
    audit = service.audit(case_id)
    failed = [e for e in audit if e["kind"] == "case.status" and e["detail"]["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["detail"]["voided_approvals"] == [approval["approval_id"]]

    for who in ("alice", "bob"):
        refused = service.decide(approval["approval_id"], basic(who))
        assert refused.status_code == 409, refused.text
    time.sleep(1.0)  # several worker polls, none of which may find anything to post
    assert table_rows(service.settings, "outbox", case_id) == []
    assert service.postings(case_id) == []
    assert service.case(case_id)["status"] == "failed"
    assert service.approval_for(case_id, ACTION)["votes"] == []
