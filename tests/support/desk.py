"""A review desk on the fakes: an in-process runtime, its fake ERP, two reviewers and a case."""

from __future__ import annotations

from dataclasses import dataclass

from app.wiring import Runtime
from core.models import Case
from core.principals import Principal, PrincipalKind
from core.results import CaseStatus
from core.store import approvals as approval_store
from core.store import outbox as outbox_store
from tests.support.cases import make_case
from tools.erp.fake import FakeErp

ROLES = frozenset({"inventory_controller", "ops_supervisor"})
ALICE = Principal(name="alice", kind=PrincipalKind.person, roles=ROLES)
BOB = Principal(name="bob", kind=PrincipalKind.person, roles=ROLES)
ORCHESTRATOR = Principal(name="orchestrator", kind=PrincipalKind.api_key)
STAMP = "2026-11-20T{}:00Z"


def inventory_case(case_id: str) -> Case:
    """Returns a clear inventory discrepancy whose adjustment waits for an inventory controller."""
    return Case.model_validate(
        make_case(**{
            "case_id": case_id,
            "workflow": "inventory_sync",
            "stalled_step": "nightly inventory reconciliation exception",
            "detected_at": STAMP.format("11:00"),
            "site": "DC-ATL",
            "refs": {"skus": ["SKU-4410"]},
            "amount": {"value": 3200.0, "currency": "USD"},
            "events": [
                {"at": STAMP.format("09:10"), "system": "WMS", "type": "short_pick",
                 "detail": "Short pick SKU-4410 at A-12-3: expected 16, found 4"},
                {"at": STAMP.format("10:05"), "system": "WMS", "type": "cycle_count_variance",
                 "detail": "Cycle count variance SKU-4410 at A-12-3: counted 4, system 16"},
            ],
            "attributes": {"erp_on_hand": 16, "wms_on_hand": 4},
        })
    )  # fmt: skip


@dataclass
class Desk:
    """A runtime on the fakes and the fake ERP it posts to."""

    runtime: Runtime
    erp: FakeErp

    async def pending(self, case_id: str) -> str:
        """Submits a case and returns its one pending ERP approval's id."""
        await self.runtime.service.submit(inventory_case(case_id), ORCHESTRATOR)
        async with self.runtime.db.transaction() as conn:
            records = await approval_store.list_approvals(conn, case_id=case_id)
        [record] = [r for r in records if r.posts_to_erp]
        return record.approval_id

    async def rows(self, case_id: str) -> list[tuple[str, str]]:
        """Returns the case's outbox rows as (kind, status)."""
        async with self.runtime.db.transaction() as conn:
            return [
                (r.kind, r.status.value) for r in await outbox_store.rows(conn, case_id=case_id)
            ]

    async def status(self, case_id: str) -> CaseStatus:
        """Returns the case's status."""
        return (await self.runtime.service.get(case_id)).status
