"""Checkpoints of closed cases are pruned after the retention period; audits and results stay."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableConfig
from sqlalchemy import update

from app.wiring import Overrides, Runtime, open_runtime
from core.models import Case, ResolvedCase
from core.principals import Principal, PrincipalKind
from core.results import CaseStatus
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import audit
from core.store.db import utcnow
from core.store.tables import cases
from evals.simulator import simulate
from tests.support.cases import make_inventory_case
from tests.support.service import TEST_SECRET_KEY, fresh_postgres
from tools.actions.fake import FakeActions
from tools.embedding.fake import FakeEmbedder
from tools.erp.fake import FakeErp
from tools.retrieval.fake import FakeContextIndex

ORCHESTRATOR = Principal(name="orchestrator", kind=PrincipalKind.api_key)
ALICE = Principal(
    name="alice",
    kind=PrincipalKind.person,
    roles=frozenset({"inventory_controller", "ops_supervisor"}),
)
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def database_url(store: str) -> Iterator[str | None]:
    """Yields None for the embedded store, or the URL of a fresh PostgreSQL database."""
    if store == "sqlite":
        yield None
        return
    with fresh_postgres() as url:
        yield url


async def _values(runtime: Runtime, case_id: str) -> dict[str, object]:
    state = await runtime.graph.aget_state(RunnableConfig(configurable={"thread_id": case_id}))
    return dict(state.values)


async def _age(runtime: Runtime, days: float) -> None:
    async with runtime.db.transaction() as conn:
        await conn.execute(update(cases).values(updated_at=utcnow() - timedelta(days=days)))


async def prune_scenario(data_dir: Path, url: str | None) -> None:
    """Closes one case, leaves one waiting, ages both and prunes."""
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        classifier="local",
        learn_from_outcomes=False,
        secret_key=TEST_SECRET_KEY,  # PostgreSQL needs a configured one
    )
    overrides = Overrides(
        erp=FakeErp(), actions=FakeActions(), index=FakeContextIndex(FakeEmbedder())
    )
    async with open_runtime(settings, overrides) as runtime:
        history = simulate(cases=0, history=300, messages=0, seed=4).history
        await runtime.learner.add_history([ResolvedCase.model_validate(h) for h in history])
        closed, waiting = (Case.model_validate(make_inventory_case()) for _ in range(2))
        for case in (closed, waiting):
            stored, _ = await runtime.service.submit(case, ORCHESTRATOR)
            assert stored.status is CaseStatus.pending_approval
        async with runtime.db.transaction() as conn:
            pending = await approval_store.list_approvals(conn, case_id=closed.case_id)
        for record in pending:
            await runtime.desk.decide(record.approval_id, ALICE, "approve")
        await runtime.outbox.deliver_due(case_id=closed.case_id)
        assert (await runtime.service.get(closed.case_id)).status is CaseStatus.resolved
        assert await _values(runtime, closed.case_id)
        pruner = runtime.worker.pruner
        assert pruner is not None

        await _age(runtime, 29)  # within the default 30 days: nothing goes
        assert await pruner.prune() == 0
        assert await _values(runtime, closed.case_id)

        async with runtime.db.transaction() as conn:
            kept = [e.kind for e in await audit.entries(conn, closed.case_id)]
        await _age(runtime, 31)
        assert await pruner.prune() == 1
        assert await pruner.prune() == 0  # audited as pruned: never looked at again

        assert await _values(runtime, closed.case_id) == {}
        assert await _values(runtime, waiting.case_id)  # an unfinished case keeps its checkpoint
        stored = await runtime.service.get(closed.case_id)
        assert stored.status is CaseStatus.resolved
        assert stored.result is not None
        async with runtime.db.transaction() as conn:
            after = [e.kind for e in await audit.entries(conn, closed.case_id)]
        assert after == [*kept, "checkpoint.pruned"]


@pytest.mark.parametrize("store", STORES)
def test_a_closed_cases_checkpoint_is_pruned_after_retention_and_its_audit_stays(
    store: str, tmp_path: Path
) -> None:
    """Only the resolved case loses its checkpoint, once it is older than the retention."""
    with database_url(store) as url:
        asyncio.run(prune_scenario(tmp_path, url))
