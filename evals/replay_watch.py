"""Watches a replayed LLM run for requests that were never recorded, so the run fails clearly."""

from __future__ import annotations

from typing import Any

from agent.classifiers.llm import LlmClassifier
from core.errors import ConfigurationError
from tools.llm.base import ChatModel, LlmReply
from tools.llm.cache import ReplayMiss


class ReplayWatch:
    """Delegates to the replaying chat model and remembers the first request it had no recording for."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.model = inner.model
        self.miss: ReplayMiss | None = None

    async def complete_json(
        self, *, system: str, user: str, schema: dict[str, Any], schema_name: str
    ) -> LlmReply:
        """Returns the recorded reply; a miss is remembered and raised again."""
        try:
            return await self.inner.complete_json(
                system=system, user=user, schema=schema, schema_name=schema_name
            )
        except ReplayMiss as miss:
            self.miss = self.miss or miss
            raise

    async def aclose(self) -> None:
        """Closes the inner model."""
        await self.inner.aclose()

    def raise_if_missed(self, failed_cases: int) -> None:
        """Raises ConfigurationError when any request had no recording: a partial replay is void."""
        if self.miss is not None:
            raise ConfigurationError(
                f"replay failed: {self.miss.message} ({failed_cases} case(s) failed or were "
                "not run; the recordings were made with another dataset, history, model or prompt)"
            )


def watch_replay(llm: LlmClassifier) -> ReplayWatch:
    """Puts a ReplayWatch between the LLM classifier and its replaying chat model."""
    watch = ReplayWatch(llm.chat)
    llm.chat = watch
    return watch
