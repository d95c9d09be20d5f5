"""Slack SLA reminders: a reminder at 80% and an escalation on breach, each exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.wiring import Runtime
from core.approvals import ApprovalStatus
from core.results import CaseStatus
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.db import utcnow
from notify.slack.config import load_slack_config
from notify.slack.notifier import SlackDelivery, SlackNotifier
from notify.slack.reminders import SlackReminders, SlaReport
from tests.support.slack import make_slack_case, slack_runtime, submit, write_config
from tools.slack import FakeSlack


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Runtime, SlackReminders, FakeSlack]]:
    config = load_slack_config(write_config(tmp_path))
    notifier = SlackNotifier(config, "http://triage.test", buttons=True, threads=True)
    slack = FakeSlack()
    async with slack_runtime(Settings(data_dir=tmp_path / "data"), notifier=notifier) as runtime:
        runtime.outbox.register("slack", SlackDelivery(slack, runtime.db))
        yield runtime, SlackReminders(runtime.db, notifier, runtime.expiry), slack


async def test_nothing_happens_before_80_percent_of_the_sla(
    setup: tuple[Runtime, SlackReminders, FakeSlack],
) -> None:
    runtime, timers, _ = setup
    await submit(runtime, make_slack_case())  # detected 1 h ago, due in 9 h: reminder in 7 h
    assert await timers.check_sla(utcnow() + timedelta(hours=6, minutes=50)) == SlaReport()


async def test_a_reminder_at_80_percent_mentions_the_approver_group_once(
    setup: tuple[Runtime, SlackReminders, FakeSlack],
) -> None:
    runtime, timers, slack = setup
    await submit(runtime, make_slack_case())
    later = utcnow() + timedelta(hours=7, minutes=10)
    assert await timers.check_sla(later) == SlaReport(reminded=1)
    assert await timers.check_sla(later + timedelta(minutes=5)) == SlaReport()
    await runtime.outbox.deliver_due()
    [reminder] = [c for c in slack.named("chat.postMessage") if "reminder" in c.args["text"]]
    assert reminder.args["channel"] == "C-ATL"
    assert reminder.args["text"].startswith("<!subteam^S-OPS> reminder")


async def test_a_breach_escalates_to_the_escalation_channel_once(
    setup: tuple[Runtime, SlackReminders, FakeSlack],
) -> None:
    runtime, timers, slack = setup
    await submit(runtime, make_slack_case())
    breached = utcnow() + timedelta(hours=9, minutes=5)
    assert await timers.check_sla(breached) == SlaReport(escalated=1)
    assert await timers.check_sla(breached + timedelta(hours=1)) == SlaReport()
    await runtime.outbox.deliver_due()
    [escalation] = [c for c in slack.named("chat.postMessage") if "breached" in c.args["text"]]
    assert escalation.args["channel"] == "C-ESCALATE"
    async with runtime.db.transaction() as conn:
        assert len(await audit.entries(conn, kind="sla.escalation")) == 1


async def test_expiry_is_left_to_the_worker_and_updates_the_slack_message(
    setup: tuple[Runtime, SlackReminders, FakeSlack],
) -> None:
    runtime, timers, slack = setup
    [approval_id] = await submit(runtime, make_slack_case())
    await runtime.outbox.deliver_due()
    expired = utcnow() + timedelta(hours=48, minutes=1)  # the default policy's expiry
    assert await timers.check_sla(expired) == SlaReport()  # Slack leaves expiry to the worker
    assert await runtime.expiry.expire_due(expired) == 1
    assert await runtime.expiry.expire_due(expired) == 0
    async with runtime.db.transaction() as conn:
        record = await approval_store.get_approval(conn, approval_id)
        stored = await case_store.get_case(conn, "C-1")
        entries = await audit.entries(conn, kind="approval.expired")
    assert record.status is ApprovalStatus.expired
    assert stored.status is CaseStatus.routed
    assert [e.detail["approval_id"] for e in entries] == [approval_id]
    await runtime.outbox.deliver_due()
    [edit] = slack.named("chat.update")
    assert "routed" in edit.args["text"]


async def test_a_case_without_an_sla_is_never_reminded(
    setup: tuple[Runtime, SlackReminders, FakeSlack],
) -> None:
    runtime, timers, _ = setup
    await submit(runtime, make_slack_case(sla_due_at=None))
    assert await timers.check_sla(utcnow() + timedelta(hours=47)) == SlaReport()
