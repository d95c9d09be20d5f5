"""The callback sender over HTTP: Standard Webhooks headers, HMAC-SHA256, one attempt per call."""

from __future__ import annotations

from datetime import datetime

import httpx
from standardwebhooks import Webhook

from core.errors import PermanentIntegrationError, RetryableIntegrationError
from core.store.db import utcnow
from tools.webhooks.base import BODY_EXCERPT_CHARS, WebhookMessage, WebhookReply


def signed_headers(message: WebhookMessage, secret: str, at: datetime) -> dict[str, str]:
    """Returns the webhook-id, webhook-timestamp and webhook-signature headers of a message."""
    return {
        "webhook-id": message.msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message.msg_id, at, message.body),
        "content-type": "application/json",
    }


class HttpWebhooks:
    """POSTs signed callbacks; no retries here, since the outbox retries with backoff."""

    name = "http"

    def __init__(self, *, timeout_s: float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        self._timeout_s = timeout_s
        self._client = client

    async def send(self, message: WebhookMessage, secret: str) -> WebhookReply:
        """Signs the message as of now and posts it once."""
        if self._client is not None:
            return await self._send(self._client, message, secret)
        async with httpx.AsyncClient() as client:
            return await self._send(client, message, secret)

    async def _send(
        self, client: httpx.AsyncClient, message: WebhookMessage, secret: str
    ) -> WebhookReply:
        # The timestamp is the attempt's, as the scheme asks; the id stays the event's.
        headers = signed_headers(message, secret, utcnow())
        try:
            response = await client.post(
                message.url, content=message.body, headers=headers, timeout=self._timeout_s
            )
        except httpx.TimeoutException as exc:
            raise RetryableIntegrationError(f"callback {message.msg_id}: timeout") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise RetryableIntegrationError(
                f"callback {message.msg_id}: connection error: {type(exc).__name__}"
            ) from exc
        except httpx.HTTPError as exc:
            raise PermanentIntegrationError(
                f"callback {message.msg_id} could not be sent: {exc}"
            ) from exc
        return WebhookReply(status=response.status_code, body=response.text[:BODY_EXCERPT_CHARS])
