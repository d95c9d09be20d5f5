"""The Slack Web API adapter: AsyncWebClient with slack_sdk's retry handlers."""

from __future__ import annotations

from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from core.errors import PermanentIntegrationError
from tools.slack.base import Blocks
from tools.slack.errors import from_exception, from_status


def retry_handlers(max_retries: int) -> list[AsyncRetryHandler]:
    """Returns slack_sdk's handlers for 429 (honouring Retry-After) and connection errors."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=max_retries),
        AsyncConnectionErrorRetryHandler(max_retry_count=max_retries),
    ]


class WebSlack:
    """Calls chat.postMessage, chat.update, chat.postEphemeral and views.open with a bot token."""

    name = "web"
    interactive = True

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        webhook_url: str | None = None,
        timeout_s: int = 10,
        max_retries: int = 2,
    ) -> None:
        handlers = retry_handlers(max_retries)
        kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
        self._client = AsyncWebClient(
            token=token, timeout=timeout_s, retry_handlers=handlers, **kwargs
        )
        self._webhook = (
            AsyncWebhookClient(webhook_url, timeout=timeout_s, retry_handlers=handlers)
            if webhook_url
            else None
        )

    async def _call(self, method: str, **args: Any) -> dict[str, Any]:
        try:
            response = await self._client.api_call(method, json=args)
        except Exception as exc:  # slack_sdk raises SlackApiError, aiohttp its own errors
            raise from_exception(method, exc) from exc
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def post_message(
        self, channel: str, text: str, blocks: Blocks, thread_ts: str | None = None
    ) -> str:
        """Posts a message and returns its ts."""
        args: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if thread_ts:
            args["thread_ts"] = thread_ts
        data = await self._call("chat.postMessage", **args)
        return str(data.get("ts", ""))

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks) -> None:
        """Replaces a posted message."""
        await self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """Shows a message to one user."""
        await self._call("chat.postEphemeral", channel=channel, user=user, text=text)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Opens a modal."""
        await self._call("views.open", trigger_id=trigger_id, view=view)

    async def post_webhook(self, text: str, blocks: Blocks) -> None:
        """Posts through the incoming webhook configured beside the token."""
        if self._webhook is None:
            raise PermanentIntegrationError("no Slack incoming webhook is configured")
        await send_webhook(self._webhook, text, blocks)


async def send_webhook(client: AsyncWebhookClient, text: str, blocks: Blocks) -> None:
    """Sends one incoming-webhook message, mapping failures to integration errors."""
    try:
        response = await client.send(text=text, blocks=blocks)
    except Exception as exc:  # aiohttp's connection errors after the retry handlers gave up
        raise from_exception("webhook", exc) from exc
    if response.status_code != 200:
        raise from_status("webhook", response.status_code, response.body, response.headers)
