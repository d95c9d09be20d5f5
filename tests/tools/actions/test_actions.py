"""Non-ERP action runners: one log entry per key, and no path to the ERP."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from core.errors import PermanentIntegrationError, RetryableIntegrationError
from core.store.db import Database
from core.taxonomy import load_taxonomy
from tests.support.postings import make_action_request
from tools.actions import ActionRequest, FakeActions, RecordingActions


async def test_recording_logs_exactly_what_would_have_been_sent(db: Database) -> None:
    request = make_action_request()

    receipt = await RecordingActions(db).run(request)

    entries = await RecordingActions(db).list_entries()
    assert len(entries) == 1
    entry = entries[0]
    assert receipt.reference == str(entry["entry_id"])
    assert receipt.duplicate is False
    assert (entry["case_id"], entry["action"], entry["target"]) == (
        "CASE-1",
        "notify_customer",
        "CRM",
    )
    assert entry["params"] == request.params
    assert entry["idempotency_key"] == request.idempotency_key
    assert entry["at"].utcoffset().total_seconds() == 0


async def test_recording_is_idempotent_per_key(db: Database) -> None:
    runner = RecordingActions(db)

    first = await runner.run(make_action_request())
    second = await runner.run(make_action_request(params={"changed": True}))

    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.reference == first.reference
    entries = await runner.list_entries()
    assert len(entries) == 1
    assert entries[0]["params"] == make_action_request().params


async def test_recording_concurrent_runs_of_one_key_log_once(db: Database) -> None:
    runner = RecordingActions(db)

    receipts = await asyncio.gather(*(runner.run(make_action_request()) for _ in range(6)))

    assert sum(not receipt.duplicate for receipt in receipts) == 1
    assert len(await runner.list_entries()) == 1


async def test_recording_lists_entries_by_case(db: Database) -> None:
    runner = RecordingActions(db)
    await runner.run(make_action_request(idempotency_key="a", case_id="CASE-1"))
    await runner.run(make_action_request(idempotency_key="b", case_id="CASE-2", target="TMS"))

    entries = await runner.list_entries(case_id="CASE-2")

    assert [entry["idempotency_key"] for entry in entries] == ["b"]


def test_an_action_request_cannot_carry_an_erp_action() -> None:
    """The type refuses an ERP flag, and the catalogue constructor refuses an ERP action."""
    with pytest.raises(ValidationError):
        make_action_request(action="post_inventory_adjustment", target="ERP", posts_to_erp=True)
    erp_action = load_taxonomy().action("post_inventory_adjustment")
    with pytest.raises(TypeError, match="ErpPoster"):
        ActionRequest.of(erp_action, case_id="C-1", idempotency_key="k", authorized_by="x")
    rebook = ActionRequest.of(
        load_taxonomy().action("rebook_carrier"),
        case_id="C-1",
        idempotency_key="k",
        authorized_by="x",
    )
    assert (rebook.target, rebook.posts_to_erp) == ("TMS", False)


async def test_fake_actions_are_idempotent_per_key() -> None:
    runner = FakeActions()

    first = await runner.run(make_action_request())
    second = await runner.run(make_action_request())

    assert (first.duplicate, second.duplicate, first.reference) == (False, True, second.reference)
    assert list(runner.requests) == [make_action_request().idempotency_key]


async def test_fake_actions_fail_as_scripted_then_succeed() -> None:
    runner = FakeActions(fail_times=1)
    runner.fail_next(permanent=True)

    with pytest.raises(RetryableIntegrationError):
        await runner.run(make_action_request())
    with pytest.raises(PermanentIntegrationError):
        await runner.run(make_action_request())
    receipt = await runner.run(make_action_request())

    assert receipt.duplicate is False
    assert len(runner.calls) == 3
