"""Incoming-webhook mode for teams without a bot token: notifications only, no buttons."""

from __future__ import annotations

from typing import Any

from slack_sdk.webhook.async_client import AsyncWebhookClient

from core.errors import PermanentIntegrationError
from tools.slack.base import Blocks, without_buttons
from tools.slack.web import retry_handlers, send_webhook


class WebhookSlack:
    """Posts every message through one incoming webhook; updates and modals are not possible."""

    name = "webhook"
    interactive = False

    def __init__(self, url: str, *, timeout_s: int = 10, max_retries: int = 2) -> None:
        self._client = AsyncWebhookClient(
            url, timeout=timeout_s, retry_handlers=retry_handlers(max_retries)
        )

    async def post_message(
        self, channel: str, text: str, blocks: Blocks, thread_ts: str | None = None
    ) -> str:
        """Posts to the webhook's own channel and returns "" (webhooks give no ts)."""
        await self.post_webhook(text, blocks)
        return ""

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks) -> None:
        """Refuses: an incoming webhook cannot edit what it posted."""
        raise PermanentIntegrationError("an incoming webhook cannot update messages")

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """Refuses: an incoming webhook cannot address one user."""
        raise PermanentIntegrationError("an incoming webhook cannot post ephemeral messages")

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Refuses: an incoming webhook cannot open modals."""
        raise PermanentIntegrationError("an incoming webhook cannot open modals")

    async def post_webhook(self, text: str, blocks: Blocks) -> None:
        """Posts the message without any buttons."""
        await send_webhook(self._client, text, without_buttons(blocks))
