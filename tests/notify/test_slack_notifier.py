"""Slack notifications go out through the outbox: once, retried, updated and dead-lettered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from agent.deps import SilentNotifier
from api.app import create_app
from app.wiring import Runtime
from core.principals import KeyScope, Principal, PrincipalKind
from core.settings import Settings
from core.store import audit, identity
from core.store import outbox as outbox_store
from core.store.db import utcnow
from core.store.tables import outbox
from notify.slack.config import SlackConfig
from tests.support.slack import (
    make_slack_case,
    slack_runtime,
    slack_settings,
    submit,
)
from tests.support.slack_server import FakeSlackServer

BOB = Principal(name="bob", kind=PrincipalKind.person, roles=frozenset({"ops_supervisor"}))


@pytest.fixture
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer() as server:
        yield server


async def slack_rows(runtime: Runtime, status: str | None = None) -> list[outbox_store.OutboxRow]:
    async with runtime.db.transaction() as conn:
        rows = await outbox_store.rows(conn, status=status)
    return [r for r in rows if r.kind == "slack"]


async def make_due(runtime: Runtime) -> None:
    """Moves every retry to now, so a test need not wait for the backoff."""
    async with runtime.db.transaction() as conn:
        await conn.execute(update(outbox).values(next_attempt_at=utcnow()))


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def test_a_pending_approval_posts_one_block_kit_message_to_the_site_channel(
    tmp_path: Path, slack: FakeSlackServer
) -> None:
    async with slack_runtime(slack_settings(tmp_path / "data", slack.base_url)) as runtime:
        [approval_id] = await submit(runtime, make_slack_case())
        assert [r.action for r in await slack_rows(runtime)] == ["slack.approval"]
        assert await runtime.outbox.deliver_due() == 1
    [post] = slack.named("chat.postMessage")
    text = str(post.body["blocks"])
    assert post.body["channel"] == "C-ATL"
    assert "carrier_cutoff_missed (92% confidence)" in text
    assert "4,200.00 USD" in text
    assert "SLA due" in text
    assert "rebook_carrier" in text
    approve, reject, open_ui = buttons(post.body["blocks"])
    assert (approve["text"]["text"], approve["value"]) == ("Approve", approval_id)
    assert (reject["text"]["text"], reject["value"]) == ("Reject", approval_id)
    assert open_ui["url"] == "http://triage.test/ui/cases/C-1"


def test_the_queue_channel_wins_over_the_site_channel_and_the_default_is_last() -> None:
    config = SlackConfig.model_validate(
        {
            "default_channel": "C-D",
            "channels": {"queues": {"invoice_match": "C-F"}, "sites": {"DC-ATL": "C-A"}},
        }
    )
    assert config.channel_for(make_slack_case(workflow="invoice_match")) == "C-F"
    assert config.channel_for(make_slack_case()) == "C-A"
    assert config.channel_for(make_slack_case(site="DC-NOWHERE")) == "C-D"
    assert config.channel_for(make_slack_case(attributes={"queue": "invoice_match"})) == "C-F"


async def test_a_decision_elsewhere_updates_the_message_and_replies_in_its_thread(
    tmp_path: Path, slack: FakeSlackServer
) -> None:
    async with slack_runtime(slack_settings(tmp_path / "data", slack.base_url)) as runtime:
        [approval_id] = await submit(runtime, make_slack_case())
        await runtime.outbox.deliver_due()
        await runtime.desk.decide(approval_id, BOB, "approve")
        await runtime.outbox.deliver_due()
    [_post, reply] = slack.named("chat.postMessage")
    [edit] = slack.named("chat.update")
    original_ts = "1700000000.000001"
    assert (edit.body["channel"], edit.body["ts"]) == ("C-ATL", original_ts)
    assert buttons(edit.body["blocks"]) == []
    assert "resolved" in edit.body["text"]
    assert reply.body["thread_ts"] == original_ts
    assert "resolved" in reply.body["text"]


async def test_a_429_is_retried_without_a_duplicate_message(
    tmp_path: Path, slack: FakeSlackServer
) -> None:
    async with slack_runtime(slack_settings(tmp_path / "data", slack.base_url)) as runtime:
        await submit(runtime, make_slack_case())
        slack.fail("chat.postMessage", 429, times=3, retry_after=0)  # beyond the SDK's 2 retries
        assert await runtime.outbox.deliver_due() == 0
        [row] = await slack_rows(runtime)
        assert (row.status, row.attempts) == ("pending", 1)
        await make_due(runtime)
        assert await runtime.outbox.deliver_due() == 1
        await make_due(runtime)
        assert await runtime.outbox.deliver_due() == 0
        async with runtime.db.transaction() as conn:
            kinds = [e.kind for e in await audit.entries(conn, kind=None) if "slack" in e.kind]
    assert len(slack.named("chat.postMessage")) == 1
    assert slack.attempts.count("chat.postMessage") == 4
    assert kinds == ["slack.retry_scheduled", "slack.delivered"]


async def test_a_restart_after_posting_does_not_post_again(
    tmp_path: Path, slack: FakeSlackServer
) -> None:
    settings = slack_settings(tmp_path / "data", slack.base_url)
    async with slack_runtime(settings) as runtime:
        await submit(runtime, make_slack_case())
        await runtime.outbox.deliver_due()
        # A crash between the post and marking the row delivered leaves the row pending.
        async with runtime.db.transaction() as conn:
            await conn.execute(update(outbox).values(status="pending", delivered_at=None))
    async with slack_runtime(settings) as restarted:
        await restarted.service.recover()
        await restarted.outbox.deliver_due()
        async with restarted.db.transaction() as conn:
            delivered = await audit.entries(conn, kind="slack.delivered")
        assert await slack_rows(restarted, "pending") == []
    assert len(slack.named("chat.postMessage")) == 1
    assert [e.detail["duplicate"] for e in delivered] == [False, True]


def wait_for(check: Any, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_after_n_failures_the_message_is_dead_lettered_and_visible_in_the_api(
    tmp_path: Path, slack: FakeSlackServer
) -> None:
    settings = slack_settings(
        tmp_path / "data", slack.base_url, outbox_max_attempts=2, outbox_poll_s=0.05
    )
    slack.fail("chat.postMessage", 500, times=10)
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]

        async def seed() -> str:
            async with runtime.db.transaction() as conn:
                key = await identity.create_key(conn, "operator", scope=KeyScope.read)
            await submit(runtime, make_slack_case())
            return key

        key = client.portal.call(seed)  # type: ignore[union-attr]
        headers = {"Authorization": f"Bearer {key}"}
        dead = wait_for(
            lambda: client.get("/v1/outbox", params={"status": "dead"}, headers=headers).json()[
                "items"
            ]
        )
    assert [(r["kind"], r["action"], r["attempts"]) for r in dead] == [
        ("slack", "slack.approval", 2)
    ]
    assert "HTTP 500" in dead[0]["last_error"]
    assert slack.named("chat.postMessage") == []


async def test_webhook_mode_posts_without_buttons_and_announces_changes_as_new_posts(
    tmp_path: Path, slack: FakeSlackServer
) -> None:
    settings = slack_settings(
        tmp_path / "data",
        None,
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_webhook_url=slack.webhook_url,
    )
    async with slack_runtime(settings) as runtime:
        assert runtime.slack is not None
        assert not runtime.slack.interactive
        [approval_id] = await submit(runtime, make_slack_case())
        await runtime.outbox.deliver_due()
        await runtime.desk.decide(approval_id, BOB, "approve")
        await runtime.outbox.deliver_due()
    first, second = slack.named("webhook")
    assert buttons(first.body["blocks"]) == []
    assert "http://triage.test/ui/cases/C-1" in str(first.body["blocks"])
    assert "resolved" in second.body["text"]
    assert slack.named("chat.update") == slack.named("chat.postMessage") == []


async def test_without_slack_configuration_nothing_slack_related_runs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    async with slack_runtime(settings) as runtime:
        await submit(runtime, make_slack_case())
        assert runtime.slack is None
        assert isinstance(runtime.deps.notifier, SilentNotifier)
        assert "slack" not in runtime.outbox.handlers
        assert await slack_rows(runtime) == []
    paths = {getattr(r, "path", "") for r in create_app(settings).routes}
    assert "/slack/actions" not in paths


async def test_an_override_notifier_wins_over_the_configured_slack(
    tmp_path: Path, slack: FakeSlackServer
) -> None:
    settings = slack_settings(tmp_path / "data", slack.base_url)
    async with slack_runtime(settings, notifier=SilentNotifier()) as runtime:
        await submit(runtime, make_slack_case())
        assert await slack_rows(runtime) == []
        assert "slack" in runtime.outbox.handlers
