"""Slack in the app: the interactivity route, only when a bot token and a signing secret are set."""

from __future__ import annotations

from fastapi import FastAPI

from api.routes import slack
from core.settings import Settings


def install_slack(app: FastAPI, settings: Settings) -> None:
    """Mounts POST /slack/actions when a bot token and a signing secret are configured."""
    if settings.slack_bot_token is not None and settings.slack_signing_secret is not None:
        app.include_router(slack.router)
