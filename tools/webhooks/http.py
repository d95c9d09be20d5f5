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
        pinned = None if self._allow_private else await _public_address(message)
        if self._client is not None:
            return await self._send(self._client, message, secret, pinned)
        async with httpx.AsyncClient() as client:
            return await self._send(client, message, secret, pinned)

    async def _send(
        self, client: httpx.AsyncClient, message: WebhookMessage, secret: str, pinned: str | None
    ) -> WebhookReply:
        # The timestamp is the attempt's, as the scheme asks; the id stays the event's.
        headers = signed_headers(message, secret, utcnow())
        url = httpx.URL(message.url)
        extensions: dict[str, str] = {}
        if pinned is not None:
            # Connect to the address that was checked, so a second DNS answer cannot swap in a
            # private one; the Host header and TLS name stay the URL's.
            headers["host"] = url.netloc.decode()
            if url.scheme == "https":
                extensions["sni_hostname"] = url.raw_host.decode()
            url = url.copy_with(host=pinned)
        try:
            response = await client.post(
                url,
                content=message.body,
                headers=headers,
                timeout=self._timeout_s,
                follow_redirects=False,  # a redirect could lead past the address check
                extensions=extensions,
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


async def _public_address(message: WebhookMessage) -> str:
    """Returns the address to connect to once every address of the host proved public.

    Raises Permanent for a non-public address, Retryable when the host does not resolve.
    """
    try:
        addresses = await callback_targets.resolve(message.url)
    except OSError as exc:
        raise RetryableIntegrationError(
            f"callback {message.msg_id}: cannot resolve {callback_targets.origin_of(message.url)}"
        ) from exc
    problem = callback_targets.first_problem(message.url, addresses)
    if problem:
        raise PermanentIntegrationError(
            f"callback {message.msg_id} refused: {problem}; callbacks go to public addresses "
            f"unless {callback_targets.PRIVATE_OPT_IN} is set"
        )
    if not addresses:
        raise RetryableIntegrationError(f"callback {message.msg_id}: no address to connect to")
    return addresses[0].split("%", 1)[0]
