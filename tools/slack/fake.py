"""An in-memory Slack for tests and evals: records every call, fails on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import IntegrationError, PermanentIntegrationError, RetryableIntegrationError
from tools.slack.base import Blocks


@dataclass
class SlackCall:
    """One recorded call: the method and its arguments."""

    method: str
    args: dict[str, Any] = field(default_factory=dict)


class FakeSlack:
    """Keeps calls in a list and hands out increasing message timestamps."""

    name = "fake"

    def __init__(self, *, interactive: bool = True) -> None:
        self.interactive = interactive
        self.calls: list[SlackCall] = []
        self._failures: list[IntegrationError] = []
        self._next_ts = 0

    def fail_next(self, times: int = 1, *, permanent: bool = False) -> None:
        """Makes the next `times` calls raise a retryable (or permanent) integration error."""
        for _ in range(times):
            error: IntegrationError = (
                PermanentIntegrationError("fake Slack refused the call")
                if permanent
                else RetryableIntegrationError("fake Slack unavailable")
            )
            self._failures.append(error)

    def named(self, method: str) -> list[SlackCall]:
        """Returns the recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    def _record(self, method: str, **args: Any) -> None:
        if self._failures:
            raise self._failures.pop(0)
        self.calls.append(SlackCall(method, args))

    async def post_message(
        self, channel: str, text: str, blocks: Blocks, thread_ts: str | None = None
    ) -> str:
        """Records a chat.postMessage and returns a new ts."""
        self._record(
            "chat.postMessage", channel=channel, text=text, blocks=blocks, thread_ts=thread_ts
        )
        self._next_ts += 1
        return f"1700000000.{self._next_ts:06d}"

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks) -> None:
        """Records a chat.update."""
        self._record("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """Records a chat.postEphemeral."""
        self._record("chat.postEphemeral", channel=channel, user=user, text=text)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Records a views.open."""
        self._record("views.open", trigger_id=trigger_id, view=view)

    async def post_webhook(self, text: str, blocks: Blocks) -> None:
        """Records an incoming-webhook post."""
        self._record("webhook", text=text, blocks=blocks)
