"""A run holds its case's lease for as long as it lasts, and stops when another process took it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from app.wiring import Overrides, Runtime, open_runtime
from core.models import ResolvedCase
from core.results import CaseStatus
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import audit
from core.store.db import utcnow
from core.store.tables import cases
from tests.support.desk import ORCHESTRATOR, inventory_case
from tools.actions.fake import FakeActions
from tools.embedding.fake import FakeEmbedder
from tools.erp.fake import FakeErp
from tools.retrieval.fake import FakeContextIndex
from workflow.intake import TriageService

LEASE_S = 0.3


class SlowGraph:
    """The service's graph, but every run first waits as a slow model call would."""

    def __init__(self, graph: Any, delay_s: float) -> None:
        self.graph = graph
        self.delay_s = delay_s
        self.finished = 0

    async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(self.delay_s)
        out = await self.graph.ainvoke(*args, **kwargs)
        self.finished += 1
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.graph, name)


@pytest.fixture
async def runtime(tmp_path: Path, history: list[ResolvedCase]) -> AsyncIterator[Runtime]:
    """A runtime on the fakes whose runs hold leases of a fraction of a second."""
    settings = Settings(
        data_dir=tmp_path, classifier="local", learn_from_outcomes=False, run_lease_s=LEASE_S
    )
    overrides = Overrides(
        erp=FakeErp(), actions=FakeActions(), index=FakeContextIndex(FakeEmbedder())
    )
    async with open_runtime(settings, overrides) as runtime:
        await runtime.learner.add_history(history)
        yield runtime


def rival(runtime: Runtime) -> TriageService:
    """Another process's service on the same store: its own owner name, the plain graph."""
    return TriageService(runtime.deps, runtime.graph, run_lease_s=LEASE_S, owner="rival")


async def received(runtime: Runtime, case_id: str, kind: str) -> int:
    async with runtime.db.transaction() as conn:
        return len(await audit.entries(conn, case_id, kind=kind))


async def test_a_run_longer_than_its_lease_keeps_the_case_from_recovery(
    runtime: Runtime,
) -> None:
    slow = SlowGraph(runtime.graph, delay_s=4 * LEASE_S)
    runtime.service.graph = slow  # type: ignore[assignment]
    submit = asyncio.create_task(runtime.service.submit(inventory_case("LEASE-1"), ORCHESTRATOR))
    await asyncio.sleep(2 * LEASE_S)  # an unrenewed lease has run out by now

    assert await rival(runtime).recover() == 0

    stored, created = await submit
    assert created
    assert stored.status is CaseStatus.pending_approval
    assert slow.finished == 1
    async with runtime.db.transaction() as conn:
        records = await approval_store.list_approvals(conn, case_id="LEASE-1")
    assert len([r for r in records if r.posts_to_erp]) == 1  # one gate ran, not two


async def test_a_run_whose_lease_was_taken_stops_and_leaves_the_case_to_the_taker(
    runtime: Runtime,
) -> None:
    slow = SlowGraph(runtime.graph, delay_s=6 * LEASE_S)
    runtime.service.graph = slow  # type: ignore[assignment]
    case = inventory_case("LEASE-2")
    submit = asyncio.create_task(runtime.service.submit(case, ORCHESTRATOR))
    await asyncio.sleep(LEASE_S / 2)
    # Another process takes the run over, as it would after this one had stalled past its lease.
    async with runtime.db.transaction() as conn:
        await conn.execute(
            update(cases)
            .where(cases.c.case_id == "LEASE-2")
            .values(run_owner="rival", run_lease_until=utcnow() + timedelta(seconds=60))
        )
    taker = asyncio.create_task(rival(runtime)._triage(case, ORCHESTRATOR, claimed=True))

    stored, created = await submit
    assert await taker
    assert created
    assert stored.status is CaseStatus.pending_approval
    assert slow.finished == 0  # the first run was stopped before it reached the graph
    assert await received(runtime, "LEASE-2", "case.received") == 1
    async with runtime.db.transaction() as conn:
        records = await approval_store.list_approvals(conn, case_id="LEASE-2")
    assert len([r for r in records if r.posts_to_erp]) == 1
