"""A chat model wrapper that reports every call, its tokens and its failures to the telemetry."""

from __future__ import annotations

from typing import Any

from core.telemetry import Telemetry
from tools.llm.base import ChatModel, LlmFailure, LlmReply


class MeteredChatModel:
    """Delegates to a chat model and counts each call where the client is actually called."""

    def __init__(self, inner: ChatModel, telemetry: Telemetry) -> None:
        self.inner = inner
        self.telemetry = telemetry
        self.model = inner.model

    async def complete_json(
        self, *, system: str, user: str, schema: dict[str, Any], schema_name: str
    ) -> LlmReply:
        """Returns the inner model's reply, reporting the call either way."""
        try:
            reply = await self.inner.complete_json(
                system=system, user=user, schema=schema, schema_name=schema_name
            )
        except LlmFailure as failure:
            self.telemetry.llm_called(self.model, {}, failure.reason)
            raise
        self.telemetry.llm_called(reply.model, reply.usage, None)
        return reply

    async def aclose(self) -> None:
        """Closes the inner model."""
        await self.inner.aclose()
