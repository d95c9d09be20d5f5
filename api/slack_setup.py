"""Slack in the app: the interactivity route and the SLA timer loop, only when configured."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from api.routes import slack
from app.wiring import Runtime
from core.settings import Settings
from notify.slack.reminders import SlaTimers

SLA_POLL_S = 60.0  # reminders and escalations are minutes-grained; no need to poll faster


def install_slack(app: FastAPI, settings: Settings) -> None:
    """Mounts POST /slack/actions when a bot token and a signing secret are configured."""
    if settings.slack_bot_token is not None and settings.slack_signing_secret is not None:
        app.include_router(slack.router)


def start_sla_timers(
    runtime: Runtime, stop: asyncio.Event, poll_s: float = SLA_POLL_S
) -> asyncio.Task[None] | None:
    """Starts the SLA timer loop when Slack is configured; returns its task, or None."""
    if runtime.slack is None:
        return None
    timers = SlaTimers(runtime.db, runtime.slack.notifier)
    return asyncio.create_task(timers.run_forever(poll_s, stop))
