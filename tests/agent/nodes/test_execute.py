"""The execute nodes: each action audited as started before it runs and as executed after it."""

from __future__ import annotations

from agent.nodes.execute import make_execute
from core.approvals import ApprovalStatus
from core.store import approvals as approval_store
from core.store import audit
from core.store.db import Database
from tests.support.nodes import make_deps, stored_case, through_gate
from tools.actions.fake import FakeActions

ACTION_KINDS = ("action.started", "action.executed", "action.failed")


async def _action_rows(db: Database, case_id: str) -> list[tuple[str, str]]:
    async with db.transaction() as conn:
        entries = await audit.entries(conn, case_id=case_id)
    return [(e.kind, e.detail["action"]) for e in entries if e.kind in ACTION_KINDS]


async def test_an_automatic_action_is_audited_as_started_before_it_is_executed(
    db: Database,
) -> None:
    actions = FakeActions()
    deps = make_deps(db, actions=actions)
    case = await stored_case(db)
    update = await make_execute(deps, "automatic")(await through_gate(deps, case))
    assert update["executed"] == ["create_cycle_count"]
    assert [r.action for r in actions.requests.values()] == ["create_cycle_count"]
    assert await _action_rows(db, case.case_id) == [
        ("action.started", "create_cycle_count"),
        ("action.executed", "create_cycle_count"),
    ]


async def test_a_rerun_reaches_the_same_action_through_its_idempotency_key(db: Database) -> None:
    actions = FakeActions()
    deps = make_deps(db, actions=actions)
    state = await through_gate(deps, await stored_case(db))
    await make_execute(deps, "automatic")(state)
    await make_execute(deps, "automatic")(state)
    assert len(actions.calls) == 2
    assert len(set(actions.calls)) == 1
    assert len(actions.requests) == 1


async def test_a_failing_action_is_audited_as_failed_and_not_reported_executed(
    db: Database,
) -> None:
    actions = FakeActions(fail_times=1, permanent=True)
    deps = make_deps(db, actions=actions)
    case = await stored_case(db)
    update = await make_execute(deps, "automatic")(await through_gate(deps, case))
    assert update["executed"] == []
    assert await _action_rows(db, case.case_id) == [
        ("action.started", "create_cycle_count"),
        ("action.failed", "create_cycle_count"),
    ]


async def test_an_approved_erp_posting_is_left_to_the_outbox(db: Database) -> None:
    actions = FakeActions()
    deps = make_deps(db, actions=actions)
    case = await stored_case(db)
    state = await through_gate(deps, case)
    async with db.transaction() as conn:
        (approval_id,) = state["approval_ids"]
        await approval_store.set_approval_status(
            conn, approval_id, ApprovalStatus.approved, expect=ApprovalStatus.pending
        )
    update = await make_execute(deps, "approved")({**state, "executed": ["create_cycle_count"]})
    assert update["executed"] == ["create_cycle_count"]
    assert actions.calls == []
