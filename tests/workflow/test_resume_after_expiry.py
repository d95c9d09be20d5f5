"""An approval that expired routes the case to a person; resuming must never execute it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.wiring import Overrides, open_runtime
from core.approvals import ApprovalStatus
from core.models import Case, ResolvedCase
from core.principals import Principal, PrincipalKind
from core.results import CaseStatus
from core.settings import Settings
from core.store import approvals as approval_store
from evals.simulator import simulate
from tests.support.cases import make_case
from tools.actions.fake import FakeActions
from tools.embedding.fake import FakeEmbedder
from tools.erp.fake import FakeErp
from tools.retrieval.fake import FakeContextIndex

ORCHESTRATOR = Principal(name="orchestrator", kind=PrincipalKind.api_key)


def inventory_case(case_id: str) -> Case:
    """Returns a clear inventory discrepancy whose adjustment is an ERP posting."""
    stamp = "2026-11-21T{}:00Z"
    return Case.model_validate(
        make_case(**{
            "case_id": case_id,
            "workflow": "inventory_sync",
            "stalled_step": "allocation blocked: ERP availability differs from WMS",
            "detected_at": stamp.format("09:12"),
            "site": "DC-RNO",
            "refs": {"order_id": "SO-1", "skus": ["SKU-7781"]},
            "events": [
                {"at": stamp.format("07:55"), "system": "WMS", "type": "short_pick",
                 "detail": "Picker found 4 of 16 at A-12-03"},
                {"at": stamp.format("08:30"), "system": "WMS", "type": "cycle_count",
                 "detail": "Location A-12-03 counted 4, expected 16"},
            ],
            "attributes": {"erp_on_hand": 16, "wms_on_hand": 4},
        })
    )  # fmt: skip


async def expire_then_resume(tmp_path: Path) -> tuple[CaseStatus, int, int]:
    """Triages a case, expires all its approvals, resumes it; returns status and what ran."""
    erp, actions = FakeErp(), FakeActions()
    overrides = Overrides(erp=erp, actions=actions, index=FakeContextIndex(FakeEmbedder()))
    settings = Settings(data_dir=tmp_path, classifier="local", learn_from_outcomes=False)
    async with open_runtime(settings, overrides) as runtime:
        history = simulate(cases=0, history=300, messages=0, seed=4).history
        await runtime.learner.add_history([ResolvedCase.model_validate(h) for h in history])
        case = inventory_case("EXPIRE-1")
        await runtime.service.submit(case, ORCHESTRATOR)
        async with runtime.db.transaction() as conn:
            pending = await approval_store.list_approvals(conn, case_id=case.case_id)
            for record in pending:
                await approval_store.set_approval_status(
                    conn, record.approval_id, ApprovalStatus.expired, expect=ApprovalStatus.pending
                )
        await runtime.service.resume(case.case_id)
        await runtime.service.recover()
        status = (await runtime.service.get(case.case_id)).status
        return status, len(erp.postings), len(actions.requests)


def test_expired_approvals_are_never_resumed_into_execution(tmp_path: Path) -> None:
    """Neither resume nor the start-up recovery posts or resolves a case whose approvals expired."""
    status, postings, _ = asyncio.run(expire_then_resume(tmp_path))
    assert postings == 0
    assert status is not CaseStatus.resolved
