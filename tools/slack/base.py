"""The Slack interface the agent acts through: post, update, ephemeral, modal and webhook."""

from __future__ import annotations

from typing import Any, Protocol

Blocks = list[dict[str, Any]]


class SlackApi(Protocol):
    """Sends messages to Slack; raises Retryable/PermanentIntegrationError on failure."""

    name: str
    interactive: bool

    async def post_message(
        self, channel: str, text: str, blocks: Blocks, thread_ts: str | None = None
    ) -> str:
        """Posts a message (optionally in a thread) and returns its ts ("" when Slack gives none)."""
        ...

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks) -> None:
        """Replaces the text and blocks of a posted message."""
        ...

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """Shows a message to one user only."""
        ...

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Opens a modal in answer to an interaction."""
        ...

    async def post_webhook(self, text: str, blocks: Blocks) -> None:
        """Posts through the incoming webhook."""
        ...


def without_buttons(blocks: Blocks) -> Blocks:
    """Returns the blocks minus interactive ones, for channels that cannot call back."""
    return [b for b in blocks if b.get("type") not in ("actions", "input")]
