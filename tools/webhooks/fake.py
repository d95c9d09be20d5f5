"""An in-memory callback receiver for tests: records what was sent and fails on demand."""

from __future__ import annotations

from tools.failure_script import FailureScript
from tools.webhooks.base import WebhookMessage, WebhookReply


class FakeWebhooks:
    """Keeps every message it was asked to send, with the secret that would have signed it."""

    name = "fake"

    def __init__(self, *, status: int = 200) -> None:
        self.sent: list[tuple[WebhookMessage, str]] = []
        self.status = status
        self._failures = FailureScript("webhook")

    def fail_next(self, times: int = 1, *, permanent: bool = False) -> None:
        """Makes the next `times` sends raise a retryable (or permanent) integration error."""
        self._failures.add(times, permanent=permanent)

    async def send(self, message: WebhookMessage, secret: str) -> WebhookReply:
        """Records the message, or raises the next scripted failure."""
        self._failures.raise_next()
        self.sent.append((message, secret))
        return WebhookReply(status=self.status, body="")
