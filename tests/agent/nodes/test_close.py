"""The close node: the final status follows from the approvals and the case's ERP outbox rows."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from agent.nodes.close import make_close
from core.approvals import ApprovalStatus
from core.results import CaseStatus
from core.store import approvals as approval_store
from core.store import cases as case_store
from core.store import outbox as outbox_store
from core.store.db import Database
from core.store.tables import outbox
from tests.support.nodes import make_deps, stored_case, through_gate


@pytest.mark.parametrize(
    ("approval", "posting", "expected", "executed"),
    [
        (ApprovalStatus.approved, "delivered", CaseStatus.resolved, ["post_inventory_adjustment"]),
        (ApprovalStatus.approved, "pending", CaseStatus.executing, []),
        (ApprovalStatus.approved, "dead", CaseStatus.failed, []),
        (ApprovalStatus.rejected, None, CaseStatus.rejected, []),
    ],
)
async def test_the_final_status_follows_the_approvals_and_the_erp_outbox(
    db: Database,
    approval: ApprovalStatus,
    posting: str | None,
    expected: CaseStatus,
    executed: list[str],
) -> None:
    deps = make_deps(db)
    case = await stored_case(db)
    state = await through_gate(deps, case)
    (approval_id,) = state["approval_ids"]
    async with db.transaction() as conn:
        await approval_store.set_approval_status(
            conn, approval_id, approval, expect=ApprovalStatus.pending
        )
        if posting is not None:
            await outbox_store.enqueue(
                conn,
                kind="erp",
                case_id=case.case_id,
                action="post_inventory_adjustment",
                idempotency_key=f"erp-{case.case_id}",
                payload={},
                approval_id=approval_id,
            )
            await conn.execute(
                update(outbox).where(outbox.c.case_id == case.case_id).values(status=posting)
            )
    result = await make_close(deps)(state)
    assert result == {"status": expected.value, "executed": executed}
    async with db.transaction() as conn:
        assert (await case_store.get_case(conn, case.case_id)).status is expected


async def test_without_erp_rows_the_case_is_resolved_with_what_ran(db: Database) -> None:
    deps = make_deps(db)
    case = await stored_case(db)
    state = await through_gate(deps, case)
    async with db.transaction() as conn:
        (approval_id,) = state["approval_ids"]
        await approval_store.set_approval_status(
            conn, approval_id, ApprovalStatus.approved, expect=ApprovalStatus.pending
        )
    result = await make_close(deps)({**state, "executed": ["create_cycle_count"]})
    assert result == {"status": "resolved", "executed": ["create_cycle_count"]}
