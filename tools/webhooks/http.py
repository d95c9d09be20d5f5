"""The callback sender over HTTP: Standard Webhooks headers, HMAC-SHA256, one attempt per call."""

from __future__ import annotations

from datetime import datetime

import httpx
from standardwebhooks import Webhook

from core import callback_targets
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
    """POSTs signed callbacks; no retries here, since the outbox retries with backoff.

    Unless `allow_private`, a URL whose host resolves to any non-public address is refused for
    good before anything is sent; redirects are never followed.
    """

    name = "http"

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
        allow_private: bool = False,
    ) -> None:
        self._timeout_s = timeout_s
        self._client = client
        self._allow_private = allow_private

    async def send(self, message: WebhookMessage, secret: str) -> WebhookReply:
        """Checks where the message would go, signs it as of now and posts it once."""
        if not self._allow_private:
            await _refuse_private(message)
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
                message.url,
                content=message.body,
                headers=headers,
                timeout=self._timeout_s,
                follow_redirects=False,  # a redirect could lead past the address check
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


async def _refuse_private(message: WebhookMessage) -> None:
    """Raises Permanent when the URL resolves to a non-public address, Retryable when it does not resolve."""
    try:
        private = await callback_targets.private_target(message.url)
    except OSError as exc:
        raise RetryableIntegrationError(
            f"callback {message.msg_id}: cannot resolve {callback_targets.origin_of(message.url)}"
        ) from exc
    if private:
        raise PermanentIntegrationError(
            f"callback {message.msg_id} refused: {private}; callbacks go to public addresses "
            f"unless {callback_targets.PRIVATE_OPT_IN} is set"
        )
