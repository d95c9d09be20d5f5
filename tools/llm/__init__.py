"""Chat models: the Protocol, the OpenAI-compatible adapter, the record/replay cache and a fake."""

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
from tools.llm.openai_chat import OpenAiChatModel
from tools.llm.pricing import PriceTable, load_prices

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
