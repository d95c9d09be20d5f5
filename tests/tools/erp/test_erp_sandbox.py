"""The sandbox ERP and the fake ERP: exactly one posting per key, sealed postings only."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from core.errors import PermanentIntegrationError, RetryableIntegrationError
from core.store.db import Database
from tests.support.postings import make_posting
from tools.erp import ErpPoster, FakeErp, HttpErp, SandboxErp


def look_alikes() -> list[Any]:
    """Returns objects shaped like an ApprovedPosting that the gate never sealed."""
    posting = make_posting("forged")
    names = ("case_id", "action", "params", "idempotency_key", "approval_id", "approvers")
    fields = {name: getattr(posting, name) for name in names}
    return [
        SimpleNamespace(**fields, payload=posting.payload),
        {**fields, "seal": None},
        posting.payload(),
    ]


async def test_sandbox_records_a_posting_with_payload_and_approvers(db: Database) -> None:
    posting = make_posting("k1")

    receipt = await SandboxErp(db).post(posting)

    rows = await SandboxErp(db).list_postings()
    assert [row["idempotency_key"] for row in rows] == ["k1"]
    row = rows[0]
    assert receipt.reference == str(row["posting_id"])
    assert (receipt.duplicate, receipt.attempts, receipt.attempt_errors) == (False, 1, [])
    assert row["payload"] == posting.payload()
    assert row["approvers"] == ["alice"]
    assert row["case_id"] == "CASE-1"
    assert row["posted_at"].utcoffset().total_seconds() == 0


async def test_sandbox_posting_the_same_key_twice_inserts_once(db: Database) -> None:
    erp = SandboxErp(db)

    first = await erp.post(make_posting("k1"))
    second = await erp.post(make_posting("k1"))

    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.reference == first.reference
    assert len(await erp.list_postings()) == 1


async def test_sandbox_concurrent_posts_of_one_key_insert_once(db: Database) -> None:
    erp = SandboxErp(db)

    receipts = await asyncio.gather(*(erp.post(make_posting("k1")) for _ in range(6)))

    assert sum(not receipt.duplicate for receipt in receipts) == 1
    assert len({receipt.reference for receipt in receipts}) == 1
    assert len(await erp.list_postings()) == 1


async def test_sandbox_lost_race_on_the_unique_key_returns_the_winner(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique constraint, not the pre-read, is what guarantees one row per key."""
    erp = SandboxErp(db)
    winner = await erp.post(make_posting("k1"))
    real_find = erp._find
    calls: list[str] = []

    async def find_missing_once(key: str) -> dict[str, Any] | None:
        calls.append(key)
        return None if len(calls) == 1 else await real_find(key)

    monkeypatch.setattr(erp, "_find", find_missing_once)

    loser = await erp.post(make_posting("k1"))

    assert loser.duplicate is True
    assert loser.reference == winner.reference
    assert len(calls) == 2
    assert len(await erp.list_postings()) == 1


async def test_sandbox_lists_postings_by_case(db: Database) -> None:
    erp = SandboxErp(db)
    await erp.post(make_posting("k1", case_id="CASE-1"))
    await erp.post(make_posting("k2", case_id="CASE-2"))
    await erp.post(make_posting("k3", case_id="CASE-1"))

    rows = await erp.list_postings(case_id="CASE-1")

    assert [row["idempotency_key"] for row in rows] == ["k1", "k3"]


@pytest.mark.parametrize("forged", look_alikes(), ids=["namespace", "dict", "payload"])
async def test_every_erp_adapter_refuses_a_look_alike_posting(db: Database, forged: Any) -> None:
    adapters: list[ErpPoster] = [
        SandboxErp(db),
        FakeErp(),
        HttpErp("http://127.0.0.1:9", timeout_s=0.1, max_attempts=1),
    ]
    for adapter in adapters:
        with pytest.raises(TypeError, match="ApprovedPosting"):
            await adapter.post(forged)
    assert await SandboxErp(db).list_postings() == []


async def test_fake_erp_is_idempotent_by_key() -> None:
    erp = FakeErp()

    first = await erp.post(make_posting("k1"))
    second = await erp.post(make_posting("k1"))

    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.reference == second.reference
    assert list(erp.postings) == ["k1"]
    assert erp.calls == ["k1", "k1"]


async def test_fake_erp_fails_the_scripted_number_of_times_then_posts() -> None:
    erp = FakeErp(fail_times=2)

    for _ in range(2):
        with pytest.raises(RetryableIntegrationError):
            await erp.post(make_posting("k1"))
    receipt = await erp.post(make_posting("k1"))

    assert receipt.duplicate is False
    assert list(erp.postings) == ["k1"]


async def test_fake_erp_can_refuse_permanently() -> None:
    erp = FakeErp()
    erp.fail_next(permanent=True)

    with pytest.raises(PermanentIntegrationError):
        await erp.post(make_posting("k1"))
    assert erp.postings == {}
