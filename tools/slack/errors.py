"""Maps Slack and transport failures onto the service's retryable and permanent errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from core.errors import IntegrationError, PermanentIntegrationError, RetryableIntegrationError

# Slack error codes that another attempt may cure, whatever the HTTP status says.
RETRYABLE_CODES = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def retry_after_of(headers: Mapping[str, Any] | None) -> float | None:
    """Returns the Retry-After header in seconds, if present and numeric."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return None
    return None


def from_status(method: str, status: int, code: str, headers: Any) -> IntegrationError:
    """Returns the error for a failed call with this HTTP status and Slack error code."""
    message = f"Slack {method} failed: HTTP {status} {code}".strip()
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        return RetryableIntegrationError(message, retry_after=retry_after_of(headers))
    return PermanentIntegrationError(message)


def from_exception(method: str, exc: Exception) -> IntegrationError:
    """Returns the error for an exception raised by slack_sdk or the transport."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        data = response.data if isinstance(response.data, dict) else {}
        return from_status(
            method, int(response.status_code), str(data.get("error", "")), response.headers
        )
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return RetryableIntegrationError(f"Slack {method} unreachable: {type(exc).__name__}")
    return PermanentIntegrationError(f"Slack {method} failed: {type(exc).__name__}: {exc}")
