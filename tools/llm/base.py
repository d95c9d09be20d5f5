"""The chat-model interface, its reply, the typed failures and the strict JSON schema builder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from core.errors import IntegrationError, PermanentIntegrationError


@dataclass(frozen=True)
class LlmReply:
    """A parsed JSON reply with its token usage and what it took to get it."""

    content: dict[str, Any]
    usage: dict[str, int]
    model: str
    structured: bool
    attempts: int = 1
    attempt_errors: list[str] = field(default_factory=list)
    cached: bool = False


class ChatModel(Protocol):
    """Asks a chat model for one JSON object that follows a schema."""

    model: str

    async def complete_json(
        self, *, system: str, user: str, schema: dict[str, Any], schema_name: str
    ) -> LlmReply:
        """Returns the model's JSON reply, or raises an LlmFailure subclass."""
        ...

    async def aclose(self) -> None:
        """Releases connections; the model is not used afterwards."""
        ...


class LlmFailure(IntegrationError):
    """Raised when the chat model gave no usable reply; `reason` is a short code for audits."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        attempts: int = 1,
        attempt_errors: list[str] | None = None,
        **detail: Any,
    ) -> None:
        super().__init__(message, reason=reason, attempts=attempts, **detail)
        self.reason = reason
        self.attempts = attempts
        self.attempt_errors = list(attempt_errors or [])


class LlmUnavailable(LlmFailure):
    """Raised when every attempt hit a timeout, connection error, 429 or 5xx."""


class CircuitOpen(LlmFailure):
    """Raised without calling the endpoint while the circuit breaker is open."""


class LlmRejected(LlmFailure, PermanentIntegrationError):
    """Raised for a 4xx other than 429 (bad request, key, permission, model): never retried."""


class LlmMalformedReply(LlmFailure, PermanentIntegrationError):
    """Raised when the reply is not a JSON object, or does not match the expected schema."""


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Returns the model's JSON schema in the strict form structured outputs require."""
    schema = model.model_json_schema()
    _make_strict(schema)
    return schema


def _make_strict(node: Any) -> None:
    # Strict mode wants every object closed and every property required, at every depth.
    if isinstance(node, dict):
        node.pop("default", None)
        node.pop("title", None)
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
            node["required"] = list(node["properties"])
        for key, value in node.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                for child in value.values():
                    _make_strict(child)
            else:
                _make_strict(value)
    elif isinstance(node, list):
        for item in node:
            _make_strict(item)
