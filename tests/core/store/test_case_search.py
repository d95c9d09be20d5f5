"""Finding cases by id or ref, and reading the detection time, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.models import Case
from core.store import cases as case_store
from core.store import stats
from core.store.db import Database
from core.store.search import find_cases, finds
from tests.support.cases import make_case


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    await database.dispose()


async def _put(db: Database, case_id: str, **over: Any) -> None:
    async with db.transaction() as conn:
        await case_store.insert_case(
            conn, Case.model_validate(make_case(case_id=case_id, **over)), "t"
        )


async def _found(db: Database, text: str) -> list[str]:
    async with db.transaction() as conn:
        return sorted(f.case.case_id for f in await find_cases(conn, text))


async def test_search_finds_ids_and_refs_exactly_or_by_prefix_ignoring_case(
    store: Database,
) -> None:
    """A PO, an invoice prefix, a case id prefix and an extra ref each find their case only."""
    await _put(store, "EXC-2026-000101", refs={"po_id": "PO-4471", "invoice_id": "INV-88120"})
    await _put(store, "EXC-2026-000102", refs={"po_id": "PO-4472", "invoice_id": "INV-99001"})
    await _put(
        store, "EXC-2026-000203", refs={"order_id": "SO-1", "asn_number": "ASN-7731", "po_id": None}
    )
    await _put(store, "OTHER-1", refs={"shipment_id": "SH_100%"}, stalled_step="PO-4471 mentioned")
    assert await _found(store, "PO-4471") == ["EXC-2026-000101"]
    assert await _found(store, "po-447") == ["EXC-2026-000101", "EXC-2026-000102"]
    assert await _found(store, "inv-881") == ["EXC-2026-000101"]
    assert await _found(store, "  exc-2026-0002 ") == ["EXC-2026-000203"]
    assert await _found(store, "ASN-77") == ["EXC-2026-000203"]
    # LIKE wildcards in the text are literal, and a ref key's name is not a value.
    assert await _found(store, "SH_100%") == ["OTHER-1"]
    assert await _found(store, "SH%") == []
    assert await _found(store, "po_id") == []
    assert await _found(store, "4471") == []  # a prefix, not a substring
    assert await _found(store, "") == []


def test_finds_looks_at_lists_and_extra_refs_but_not_booleans() -> None:
    """SKUs and extra refs are searched; a boolean extra ref is no identifier."""
    case = Case.model_validate(
        make_case(refs={"skus": ["SKU-2231", "SKU-9"], "rma": "RMA-5", "urgent": True})
    )
    assert finds(case, "sku-9")
    assert finds(case, "rma-5")
    assert not finds(case, "true")
    assert not finds(case, "RMA-6")


async def test_case_facts_carry_the_detection_time_from_the_body(store: Database) -> None:
    """The dashboard's facts read detected_at from the stored JSON, normalised to UTC."""
    await _put(store, "DET-1", detected_at="2026-11-20T23:30:00-02:00")
    async with store.transaction() as conn:
        facts = await stats.case_facts(conn, datetime.now(UTC) - timedelta(days=1))
    (fact,) = facts
    assert fact.detected_at == datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    assert fact.created_at.date() == datetime.now(UTC).date()


async def test_the_case_listing_filters_by_id_or_ref_and_pages_through_matches(
    store: Database,
) -> None:
    """GET /v1/cases?q= reads through list_cases: matches only, and cursors chain past misses."""
    for i, po in enumerate(["PO-1", "PO-2", "XX-3", "PO-4"]):
        await _put(store, f"LIST-{i}", refs={"po_id": po})
    seen: list[str] = []
    cursor: str | None = None
    async with store.transaction() as conn:
        while True:
            page, cursor = await case_store.list_cases(conn, limit=1, cursor=cursor, q="po-")
            seen += [s.case.case_id for s in page]
            if cursor is None:
                break
        everything, _ = await case_store.list_cases(conn, limit=10, q="list-")
    assert sorted(seen) == ["LIST-0", "LIST-1", "LIST-3"]
    assert len(everything) == 4
