"""With Slack configured the worker sends SLA reminders; expiry's setting lives in the policy."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.wiring import Runtime
from core.errors import ConfigurationError
from core.store import audit
from core.taxonomy import load_taxonomy
from notify.slack.config import load_slack_config
from policies.config import load_policy
from tests.support.slack import (
    CONFIG,
    make_slack_case,
    slack_runtime,
    slack_settings,
    submit,
    write_config,
)
from tests.support.slack_server import FakeSlackServer


async def run_worker_until(runtime: Runtime, slack: FakeSlackServer, word: str) -> None:
    """Runs the real worker loop until Slack received a message containing `word`."""
    stop = asyncio.Event()
    await runtime.worker.start()
    loop = asyncio.create_task(runtime.worker.run(stop))
    try:
        for _ in range(500):
            if any(word in c.body["text"] for c in slack.named("chat.postMessage")):
                return
            await asyncio.sleep(0.02)
        pytest.fail(f"the worker sent no {word}")
    finally:
        stop.set()
        await loop
        await runtime.worker.stop()


async def test_the_worker_sends_one_reminder_at_80_percent_of_the_sla(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    case = make_slack_case(
        detected_at=now - timedelta(hours=9), sla_due_at=now + timedelta(hours=1)
    )
    with FakeSlackServer() as slack:
        settings = slack_settings(
            tmp_path / "data", slack.base_url, outbox_poll_s=0.02, approval_timers_poll_s=0.02
        )
        async with slack_runtime(settings) as runtime:
            assert runtime.reminders is not None
            assert [job.name for job in runtime.worker.jobs] == [
                "approval expiry",
                "slack reminders",
            ]
            await submit(runtime, case)
            await run_worker_until(runtime, slack, "reminder")
            for later in (1e9, 2e9):  # later rounds send nothing more
                await runtime.worker.run_due_jobs(later)
                await runtime.outbox.deliver_due()
            async with runtime.db.transaction() as conn:
                assert len(await audit.entries(conn, kind="sla.reminder")) == 1
                assert await audit.entries(conn, kind="approval.expired") == []
    reminders = [c for c in slack.named("chat.postMessage") if "reminder" in c.body["text"]]
    assert len(reminders) == 1
    assert reminders[0].body["channel"] == "C-ATL"


def test_the_slack_config_no_longer_reads_approval_expiry_hours(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "approval_expiry_hours = 24\n" + CONFIG
    with caplog.at_level(logging.WARNING):
        config = load_slack_config(write_config(tmp_path, text))
    assert not hasattr(config, "approval_expiry_hours")
    assert config.default_channel == "C-DEFAULT"
    assert "approval_expiry_hours is no longer read" in caplog.text


def test_the_policy_file_sets_the_expiry_and_defaults_to_48_hours(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(None)
    assert load_policy(None, taxonomy).approval_expiry_hours == 48
    bare = tmp_path / "bare.toml"
    bare.write_text('version = "t"\n')
    assert load_policy(bare, taxonomy).approval_expiry_hours == 48
    short = tmp_path / "short.toml"
    short.write_text('version = "t"\napproval_expiry_hours = 6\n')
    assert load_policy(short, taxonomy).approval_expiry_hours == 6
    for bad in ("0", "-1", "nan"):
        short.write_text(f'version = "t"\napproval_expiry_hours = {bad}\n')
        with pytest.raises(ConfigurationError):
            load_policy(short, taxonomy)
