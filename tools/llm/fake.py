"""A scriptable chat model for tests and evals: replies, failures or a function of the request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.llm.base import LlmReply

Script = dict[str, Any] | LlmReply | Exception
Responder = Callable[["ChatRequest"], Script]


@dataclass(frozen=True)
class ChatRequest:
    """One request the fake received."""

    system: str
    user: str
    schema: dict[str, Any]
    schema_name: str


class FakeChatModel:
    """Plays back scripted replies in order (the last one repeats), or asks a responder function."""

    def __init__(
        self,
        script: list[Script] | None = None,
        *,
        responder: Responder | None = None,
        model: str = "fake-llm",
        usage: dict[str, int] | None = None,
    ) -> None:
        if not script and responder is None:
            raise ValueError("give a script or a responder")
        self.model = model
        self.requests: list[ChatRequest] = []
        self._script = list(script or [])
        self._responder = responder
        self._usage = (
            usage if usage is not None else {"prompt_tokens": 100, "completion_tokens": 20}
        )

    async def aclose(self) -> None:
        """Does nothing: the fake holds no connections."""

    async def complete_json(
        self, *, system: str, user: str, schema: dict[str, Any], schema_name: str
    ) -> LlmReply:
        """Returns the next scripted reply, or raises the next scripted exception."""
        request = ChatRequest(system=system, user=user, schema=schema, schema_name=schema_name)
        self.requests.append(request)
        if self._responder is not None:
            step = self._responder(request)
        else:
            step = self._script[min(len(self.requests), len(self._script)) - 1]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, LlmReply):
            return step
        return LlmReply(content=step, usage=dict(self._usage), model=self.model, structured=True)
