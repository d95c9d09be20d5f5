"""Closed cases teach the local classifier: the reviewer's cause enters history and a retrain follows."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.corrections import correct_cause
from app.wiring import Overrides, Runtime, open_runtime
from core.models import Case, ResolvedCase
from core.principals import Principal, PrincipalKind
from core.results import CaseStatus
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import audit
from core.store import context as context_store
from evals.simulator import simulate
from tests.support.cases import make_case
from tools.embedding.fake import FakeEmbedder
from tools.retrieval.fake import FakeContextIndex

REVIEWER = Principal(
    name="rita", kind=PrincipalKind.person, roles=frozenset({"ops_supervisor", "finance_approver"})
)
ORCHESTRATOR = Principal(name="orchestrator", kind=PrincipalKind.api_key)


def cutoff_case(case_id: str) -> Case:
    """Returns a clear carrier-cutoff case whose rebooking waits for an ops supervisor."""
    stamp = "2026-11-20T{}:00Z"
    return Case.model_validate(
        make_case(**{
            "case_id": case_id,
            "workflow": "shipment_confirmation",
            "stalled_step": "waiting for carrier pickup",
            "detected_at": stamp.format("17:05"),
            "site": "DC-ATL",
            "refs": {"shipment_id": "SH-1", "carrier": "UPS"},
            "events": [
                {"at": stamp.format("15:40"), "system": "WMS", "type": "pack_complete",
                 "detail": "12 cartons packed and staged at door 14"},
                {"at": stamp.format("16:31"), "system": "CARRIER", "type": "pickup_missed",
                 "detail": "driver departed at cutoff, trailer full", "code": "T3"},
            ],
        })
    )  # fmt: skip


def settings_for(tmp_path: Path, *, learn: bool) -> Settings:
    """Returns embedded settings that retrain at once after feedback."""
    return Settings(
        data_dir=tmp_path, classifier="local", learn_from_outcomes=learn, retrain_debounce_s=0
    )


async def seed(runtime_learner: object, count: int = 300) -> None:
    """Imports a small simulated history so the classifier trains."""
    history = simulate(cases=0, history=count, messages=0, seed=4).history
    await runtime_learner.add_history([ResolvedCase.model_validate(h) for h in history])  # type: ignore[attr-defined]


async def close_with_correction(tmp_path: Path, *, learn: bool) -> tuple[int, int, str | None]:
    """Triages a case, corrects its cause, approves it; returns history sizes and the stored cause."""
    index = FakeContextIndex(FakeEmbedder())
    async with open_runtime(settings_for(tmp_path, learn=learn), Overrides(index=index)) as rt:
        await seed(rt.learner)
        before = rt.learner.model_info.get("history_cases")
        case = cutoff_case("LEARN-1")
        await rt.service.submit(case, ORCHESTRATOR)
        await correct_cause(
            rt.deps, case.case_id, "warehouse_congestion", "dock was full", REVIEWER
        )
        async with rt.db.transaction() as conn:
            pending = await approval_store.list_approvals(conn, case_id=case.case_id)
        for record in pending:
            await rt.desk.decide(record.approval_id, REVIEWER, "approve", "ok")
        await rt.outbox.deliver_due()  # the worker's part: post, then resume the case
        assert (await rt.service.get(case.case_id)).status is CaseStatus.resolved
        await rt.learner.settle()
        async with rt.db.transaction() as conn:
            learned = [h for h in await context_store.all_history(conn) if h.case_id == "LEARN-1"]
        after = rt.learner.model_info.get("history_cases")
        return int(before or 0), int(after or 0), learned[0].resolution.cause if learned else None


def test_a_closed_case_enters_history_with_the_corrected_cause_and_retrains(tmp_path: Path) -> None:
    """The reviewer's cause, not the classifier's, is what the retrained model learns."""
    before, after, cause = asyncio.run(close_with_correction(tmp_path, learn=True))
    assert cause == "warehouse_congestion"
    assert after == before + 1


def test_learning_from_outcomes_can_be_switched_off(tmp_path: Path) -> None:
    """With learning off (as in evals), closing a case adds nothing to history and trains nothing."""
    before, after, cause = asyncio.run(close_with_correction(tmp_path, learn=False))
    assert cause is None
    assert after == before


async def correct_after_close(tmp_path: Path) -> tuple[int, int, str | None]:
    """Closes a case, then corrects its cause; returns retrain counts before and after, and the cause."""
    index = FakeContextIndex(FakeEmbedder())
    async with open_runtime(settings_for(tmp_path, learn=True), Overrides(index=index)) as rt:
        await seed(rt.learner)
        case = cutoff_case("LEARN-2")
        await rt.service.submit(case, ORCHESTRATOR)
        async with rt.db.transaction() as conn:
            pending = await approval_store.list_approvals(conn, case_id=case.case_id)
        for record in pending:
            await rt.desk.decide(record.approval_id, REVIEWER, "approve", "ok")
        await rt.outbox.deliver_due()
        await rt.learner.settle()
        trained_before = await trainings(rt)
        await correct_cause(
            rt.deps, case.case_id, "warehouse_congestion", "dock was full", REVIEWER
        )
        await rt.learner.settle()
        async with rt.db.transaction() as conn:
            learned = [h for h in await context_store.all_history(conn) if h.case_id == "LEARN-2"]
        return trained_before, await trainings(rt), learned[0].resolution.cause if learned else None


async def trainings(runtime: Runtime) -> int:
    """Counts the classifier.trained audit rows."""
    async with runtime.db.transaction() as conn:
        return len(await audit.entries(conn, kind="classifier.trained"))


def test_correcting_a_closed_case_relabels_its_history_and_retrains(tmp_path: Path) -> None:
    """A correction after closing reaches history through the one writer, which retrains."""
    before, after, cause = asyncio.run(correct_after_close(tmp_path))
    assert cause == "warehouse_congestion"
    assert after == before + 1
