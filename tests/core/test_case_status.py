"""Every pair of statuses: the table allows it and move() applies it, or move() refuses it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from itertools import product
from pathlib import Path

import pytest
from sqlalchemy import update

from core import case_status
from core.case_status import TRANSITIONS, IllegalTransition
from core.models import Case
from core.results import CaseStatus, TriageResult
from core.store import audit
from core.store import cases as case_store
from core.store.db import Database
from core.store.tables import cases

PAIRS = list(product(CaseStatus, CaseStatus))
CASE = Case.model_validate(
    {
        "case_id": "STATUS-1",
        "workflow": "inventory_sync",
        "stalled_step": "reconciliation",
        "detected_at": "2026-11-20T10:00:00Z",
        "site": "DC-ATL",
    }
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding one case, made once: migrating is the slow part."""
    path = tmp_path_factory.mktemp("status") / "template.db"

    async def make() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await asyncio.to_thread(database.migrate)
        async with database.transaction() as conn:
            await case_store.insert_case(conn, CASE, "api_key:test")
        await database.dispose()

    asyncio.run(make())
    return path


@pytest.fixture
async def db(template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A private copy of the template store."""
    copy = tmp_path / "status.db"
    shutil.copyfile(template, copy)
    database = Database(f"sqlite+aiosqlite:///{copy}")
    yield database
    await database.dispose()


async def _put(db: Database, status: CaseStatus) -> None:
    """Sets a status behind move()'s back: test set-up only."""
    async with db.transaction() as conn:
        await conn.execute(
            update(cases).where(cases.c.case_id == CASE.case_id).values(status=status.value)
        )


async def _status_rows(db: Database) -> list[str]:
    async with db.transaction() as conn:
        rows = await audit.entries(conn, CASE.case_id, kind="case.status")
    return [row.detail["status"] for row in rows]


def test_terminal_statuses_lead_nowhere_and_every_status_has_a_row() -> None:
    """The table covers every status; resolved and rejected are terminal."""
    assert set(TRANSITIONS) == set(CaseStatus)
    assert {CaseStatus.resolved, CaseStatus.rejected} == case_status.TERMINAL
    assert not case_status.UNFINISHED & case_status.TERMINAL


@pytest.mark.parametrize(("start", "to"), PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
async def test_move_applies_exactly_the_table(
    db: Database, start: CaseStatus, to: CaseStatus
) -> None:
    """An allowed move changes the status and audits it once; a refused one changes nothing."""
    await _put(db, start)
    if to is start or to in TRANSITIONS[start]:
        async with db.transaction() as conn:
            changed = await case_status.move(conn, CASE.case_id, to, actor="test")
        assert changed is (to is not start)
        assert await _status_rows(db) == ([] if to is start else [to.value])
    else:
        with pytest.raises(IllegalTransition):
            async with db.transaction() as conn:
                await case_status.move(conn, CASE.case_id, to, actor="test")
        assert await _status_rows(db) == []
    async with db.transaction() as conn:
        expected = to if case_status.allowed(start, to) else start
        assert await case_status.lock(conn, CASE.case_id) is expected


async def test_a_move_keeps_the_stored_result_in_step(db: Database) -> None:
    """The stored result's status follows the case's, so readers never see two answers."""
    async with db.transaction() as conn:
        result = TriageResult(case_id=CASE.case_id, status=CaseStatus.triaging)
        await case_status.move(
            conn, CASE.case_id, CaseStatus.pending_approval, actor="test", result=result
        )
        await case_status.move(conn, CASE.case_id, CaseStatus.executing, actor="test")
        stored = await case_store.get_case(conn, CASE.case_id)
    assert stored.status is CaseStatus.executing
    assert stored.result is not None
    assert stored.result.status is CaseStatus.executing
