"""Chat models: the Protocol, the OpenAI-compatible adapter, the record/replay cache and a fake."""

from typing import TYPE_CHECKING, Any

from tools.llm.base import (
    ChatModel,
    CircuitOpen,
    LlmFailure,
    LlmMalformedReply,
    LlmRejected,
    LlmReply,
    LlmUnavailable,
    strict_json_schema,
)
from tools.llm.breaker import CircuitBreaker
from tools.llm.cache import CachedChatModel, ReplayMiss
from tools.llm.fake import FakeChatModel
from tools.llm.pricing import PriceTable, load_prices

if TYPE_CHECKING:
    from tools.llm.openai_chat import OpenAiChatModel

__all__ = [
    "CachedChatModel",
    "ChatModel",
    "CircuitBreaker",
    "CircuitOpen",
    "FakeChatModel",
    "LlmFailure",
    "LlmMalformedReply",
    "LlmRejected",
    "LlmReply",
    "LlmUnavailable",
    "OpenAiChatModel",
    "PriceTable",
    "ReplayMiss",
    "load_prices",
    "strict_json_schema",
]


def __getattr__(name: str) -> Any:
    # The OpenAI SDK takes about a second to import; only a configured LLM needs it.
    if name == "OpenAiChatModel":
        from tools.llm.openai_chat import OpenAiChatModel

        return OpenAiChatModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
