"""The real chat adapter for any OpenAI-compatible endpoint: retries, a breaker, JSON-mode fallback."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from core.errors import RetryableIntegrationError
from tools.llm.base import (
    LlmMalformedReply,
    LlmRejected,
    LlmReply,
    LlmUnavailable,
)
from tools.llm.breaker import CircuitBreaker

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (vLLM, Ollama, llama.cpp) accept any key, but the SDK insists on one.
PLACEHOLDER_API_KEY = "not-needed"
RETRIED_STATUSES = frozenset({408, 409, 429})
EXCERPT_CHARS = 300
_STRUCTURED_HINTS = re.compile(r"response_format|json_schema|structured output|strict", re.I)
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)

Sleep = Callable[[float], Awaitable[None]]


class _StructuredOutputsRefused(Exception):
    """The server rejected `response_format: json_schema`; the caller switches to JSON mode."""


class OpenAiChatModel:
    """Asks an OpenAI-compatible chat endpoint for schema-shaped JSON, retrying what is transient."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str | None,
        timeout_s: float,
        max_attempts: int = 4,
        max_concurrency: int = 16,
        breaker: CircuitBreaker | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 30.0,
        temperature: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.model = model
        self.breaker = breaker or CircuitBreaker()
        # The SDK's own retries are off: tenacity below owns every retry, so counts are exact.
        self._client = openai.AsyncOpenAI(
            base_url=base_url or DEFAULT_BASE_URL,
            api_key=api_key or PLACEHOLDER_API_KEY,
            timeout=timeout_s,
            max_retries=0,
        )
        self._max_attempts = max_attempts
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._backoff = wait_exponential_jitter(
            multiplier=backoff_initial_s, max=backoff_max_s, jitter=backoff_initial_s
        )
        self._max_retry_after_s = max_retry_after_s
        self._temperature = temperature
        self._sleep = sleep
        self.json_mode_models: set[str] = set()

    async def aclose(self) -> None:
        """Closes the HTTP connections."""
        await self._client.close()

    async def complete_json(
        self, *, system: str, user: str, schema: dict[str, Any], schema_name: str
    ) -> LlmReply:
        """Returns one JSON object from the model; raises an LlmFailure subclass when it cannot."""
        self.breaker.before_call()
        failed = True
        try:
            async with self._semaphore:
                reply = await self._with_retries(system, user, schema, schema_name)
            failed = False
            return reply
        except (LlmMalformedReply, LlmRejected) as exc:
            # The endpoint answered, so it is up, unless it refuses the key, the model or the path.
            failed = exc.reason in {"http_401", "http_403", "http_404"}
            raise
        finally:
            if failed:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()

    async def _with_retries(
        self, system: str, user: str, schema: dict[str, Any], schema_name: str
    ) -> LlmReply:
        errors: list[str] = []
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(RetryableIntegrationError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return await retrying(self._attempt, system, user, schema, schema_name, errors)
        except RetryableIntegrationError as exc:
            raise LlmUnavailable(
                f"LLM call failed after {len(errors)} attempts: {exc.message}",
                reason=str(exc.detail.get("reason", "unavailable")),
                attempts=len(errors),
                attempt_errors=errors,
            ) from exc

    def _wait(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableIntegrationError) and error.retry_after is not None:
            # Honour the server's hint, but never stall a case longer than the ceiling.
            return max(0.0, min(error.retry_after, self._max_retry_after_s))
        return float(self._backoff(retry_state))

    async def _attempt(
        self, system: str, user: str, schema: dict[str, Any], schema_name: str, errors: list[str]
    ) -> LlmReply:
        structured = self.model not in self.json_mode_models
        try:
            completion = await self._request(system, user, schema, schema_name, structured, errors)
        except _StructuredOutputsRefused as exc:
            errors.append(f"structured outputs refused ({exc}); switched to JSON mode")
            self.json_mode_models.add(self.model)
            structured = False
            completion = await self._request(system, user, schema, schema_name, False, errors)
        return _reply(completion, self.model, structured, errors)

    async def _request(
        self,
        system: str,
        user: str,
        schema: dict[str, Any],
        schema_name: str,
        structured: bool,
        errors: list[str],
    ) -> ChatCompletion:
        if structured:
            response_format: Any = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "strict": True, "schema": schema},
            }
        else:
            response_format = {"type": "json_object"}
            system = (
                f"{system}\nReply with one JSON object that matches this JSON Schema:\n"
                f"{json.dumps(schema, sort_keys=True)}\n"
            )
        extra: dict[str, Any] = {}
        if self._temperature is not None:
            extra["temperature"] = self._temperature
        try:
            return await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format=response_format,
                **extra,
            )
        except openai.APIStatusError as exc:
            raise _status_failure(exc, structured, errors, self._max_retry_after_s) from exc
        except openai.APITimeoutError as exc:
            raise _retryable(errors, "timeout", "request timed out") from exc
        except openai.APIConnectionError as exc:
            raise _retryable(errors, "connection_error", f"connection error: {exc}") from exc
        except openai.OpenAIError as exc:
            errors.append(f"unusable response: {exc}")
            raise LlmMalformedReply(
                f"unusable response from the LLM endpoint: {exc}",
                reason="bad_response",
                attempts=len(errors),
                attempt_errors=errors,
            ) from exc


def _status_failure(
    exc: openai.APIStatusError, structured: bool, errors: list[str], cap_s: float
) -> Exception:
    """Returns the error to raise for an HTTP error status from the endpoint."""
    status = exc.status_code
    excerpt = _excerpt(exc)
    if status in RETRIED_STATUSES or status >= 500:
        reason = "rate_limited" if status == 429 else "server_error" if status >= 500 else "busy"
        retry_after = retry_after_s(exc.response.headers)
        hint = f" (retry after {min(retry_after, cap_s):g}s)" if retry_after is not None else ""
        return _retryable(errors, reason, f"HTTP {status}{hint}", retry_after=retry_after)
    if structured and status in {400, 422} and _STRUCTURED_HINTS.search(excerpt):
        return _StructuredOutputsRefused(f"HTTP {status}: {excerpt[:120]}")
    errors.append(f"HTTP {status}: {excerpt}")
    return LlmRejected(
        f"LLM endpoint refused the request: HTTP {status}: {excerpt}",
        reason=f"http_{status}",
        attempts=len(errors),
        attempt_errors=errors,
    )


def _retryable(
    errors: list[str], reason: str, description: str, *, retry_after: float | None = None
) -> RetryableIntegrationError:
    # Every failed attempt is kept so the result can show what the retries went through.
    errors.append(description)
    return RetryableIntegrationError(description, retry_after=retry_after, reason=reason)


def _excerpt(exc: openai.APIStatusError) -> str:
    body = exc.body
    text = json.dumps(body) if isinstance(body, dict | list) else str(body or exc.message)
    return text[:EXCERPT_CHARS]


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Returns the server's retry hint in seconds from retry-after-ms or Retry-After, if any."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _reply(completion: ChatCompletion, model: str, structured: bool, errors: list[str]) -> LlmReply:
    """Returns the reply's JSON object and usage, or raises LlmMalformedReply."""
    attempts = len(errors) + 1
    if not completion.choices:
        raise LlmMalformedReply(
            "the LLM reply has no choices",
            reason="empty_reply",
            attempts=attempts,
            attempt_errors=errors,
        )
    message = completion.choices[0].message
    if message.refusal:
        raise LlmMalformedReply(
            f"the model refused: {message.refusal[:EXCERPT_CHARS]}",
            reason="model_refusal",
            attempts=attempts,
            attempt_errors=errors,
        )
    content = parse_json_object(message.content or "", attempts=attempts, errors=errors)
    usage: dict[str, int] = {}
    if completion.usage is not None:
        usage = {
            "prompt_tokens": completion.usage.prompt_tokens,
            "completion_tokens": completion.usage.completion_tokens,
            "total_tokens": completion.usage.total_tokens,
        }
    return LlmReply(
        content=content,
        usage=usage,
        model=completion.model or model,
        structured=structured,
        attempts=attempts,
        attempt_errors=list(errors),
    )


def parse_json_object(
    text: str, *, attempts: int = 1, errors: list[str] | None = None
) -> dict[str, Any]:
    """Returns the JSON object in a reply, tolerating a Markdown code fence around it."""
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        raise LlmMalformedReply(
            f"the LLM reply is not valid JSON ({exc.msg} at {exc.pos}): {text[:120]!r}",
            reason="malformed_json",
            attempts=attempts,
            attempt_errors=errors,
        ) from exc
    if not isinstance(value, dict):
        raise LlmMalformedReply(
            f"the LLM reply is JSON but not an object: {type(value).__name__}",
            reason="malformed_json",
            attempts=attempts,
            attempt_errors=errors,
        )
    return value
