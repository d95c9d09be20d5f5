"""The callback interface: one signed Standard Webhooks message out, the receiver's reply back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.errors import PermanentIntegrationError, RetryableIntegrationError

BODY_EXCERPT_CHARS = 300
# Statuses that say "try later" rather than "never": timeouts, throttling and server errors.
_TRANSIENT = frozenset({408, 425, 429})


@dataclass(frozen=True)
class WebhookMessage:
    """One callback: its id (the event id, the same on every retry), target and exact body."""

    msg_id: str
    url: str
    body: bytes


@dataclass(frozen=True)
class WebhookReply:
    """What the receiver answered."""

    status: int
    body: str


class WebhookSender(Protocol):
    """Signs and sends one callback in a single attempt (the outbox retries)."""

    name: str

    async def send(self, message: WebhookMessage, secret: str) -> WebhookReply:
        """Sends the message signed with the whsec_ secret; raises Retryable on network failure."""
        ...


def require_accepted(reply: WebhookReply, msg_id: str) -> WebhookReply:
    """Returns a 2xx reply; raises Retryable for 5xx/408/429, Permanent for other refusals."""
    if 200 <= reply.status < 300:
        return reply
    excerpt = reply.body[:BODY_EXCERPT_CHARS]
    if reply.status >= 500 or reply.status in _TRANSIENT:
        raise RetryableIntegrationError(
            f"callback {msg_id} got HTTP {reply.status}", status=reply.status, body=excerpt
        )
    raise PermanentIntegrationError(
        f"callback {msg_id} was refused: HTTP {reply.status}", status=reply.status, body=excerpt
    )
