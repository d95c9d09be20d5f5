"""The ERP adapter for a real HTTP endpoint, with idempotency keys and bounded retries."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from core.errors import PermanentIntegrationError, RetryableIntegrationError
from policies.postings import ApprovedPosting
from tools.erp.base import PostingReceipt, require_approved_posting

BODY_EXCERPT_CHARS = 300


class HttpErp:
    """Posts approved actions as JSON to `{base_url}/postings` with an Idempotency-Key header."""

    name = "http"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        max_attempts: int,
        client: httpx.AsyncClient | None = None,
        wait_initial_s: float = 0.5,
        wait_max_s: float = 8.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._url = base_url.rstrip("/") + "/postings"
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._client = client
        self._wait_max_s = wait_max_s
        self._backoff = wait_exponential_jitter(
            multiplier=wait_initial_s, max=wait_max_s, jitter=wait_initial_s
        )

    async def post(self, posting: ApprovedPosting) -> PostingReceipt:
        """Posts once per idempotency key, retrying timeouts, 5xx and 429 with backoff."""
        require_approved_posting(posting)
        if self._client is not None:
            return await self._post_with_retries(self._client, posting)
        async with httpx.AsyncClient() as client:
            return await self._post_with_retries(client, posting)

    async def _post_with_retries(
        self, client: httpx.AsyncClient, posting: ApprovedPosting
    ) -> PostingReceipt:
        errors: list[str] = []
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(RetryableIntegrationError),
            reraise=True,
        )
        try:
            return await retrying(self._attempt, client, posting, errors)
        except RetryableIntegrationError as exc:
            raise RetryableIntegrationError(
                f"ERP posting {posting.idempotency_key} failed after {len(errors)} attempts: "
                f"{exc.message}",
                retry_after=exc.retry_after,
                idempotency_key=posting.idempotency_key,
                attempts=len(errors),
                attempt_errors=list(errors),
            ) from exc

    def _wait(self, retry_state: RetryCallState) -> float:
        backoff = float(self._backoff(retry_state))
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableIntegrationError) and error.retry_after is not None:
            # Honour the server's hint, but never wait longer than the configured ceiling.
            return min(max(error.retry_after, backoff), self._wait_max_s)
        return backoff

    async def _attempt(
        self, client: httpx.AsyncClient, posting: ApprovedPosting, errors: list[str]
    ) -> PostingReceipt:
        key = posting.idempotency_key
        try:
            response = await client.post(
                self._url,
                json=posting.payload(),
                headers={"Idempotency-Key": key},
                timeout=self._timeout_s,
            )
        except httpx.TimeoutException as exc:
            raise _retryable(errors, "timeout") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _retryable(errors, f"connection error: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise PermanentIntegrationError(
                f"ERP posting {key} could not be sent: {exc}", idempotency_key=key
            ) from exc
        return self._interpret(response, key, errors)

    def _interpret(self, response: httpx.Response, key: str, errors: list[str]) -> PostingReceipt:
        status = response.status_code
        body = _json_body(response)
        if 200 <= status < 300 or (status == 409 and _confirms_key(response, body, key)):
            return PostingReceipt(
                idempotency_key=key,
                reference=_reference(body, key),
                attempts=len(errors) + 1,
                attempt_errors=list(errors),
                duplicate=status == 409,
            )
        if status == 429 or status >= 500:
            retry_after = _retry_after_s(response.headers.get("Retry-After"))
            raise _retryable(errors, f"HTTP {status}", retry_after=retry_after)
        raise PermanentIntegrationError(
            f"ERP refused posting {key}: HTTP {status}",
            idempotency_key=key,
            status=status,
            body=response.text[:BODY_EXCERPT_CHARS],
            attempt_errors=list(errors),
        )


def _retryable(
    errors: list[str], description: str, *, retry_after: float | None = None
) -> RetryableIntegrationError:
    # Every failed attempt is kept so the caller can audit what the retries went through.
    errors.append(description)
    return RetryableIntegrationError(description, retry_after=retry_after)


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _confirms_key(response: httpx.Response, body: dict[str, Any], key: str) -> bool:
    # A 409 means "already posted" only when the ERP names our key; other conflicts are refusals.
    return body.get("idempotency_key") == key or response.headers.get("Idempotency-Key") == key


def _reference(body: dict[str, Any], key: str) -> str:
    reference = body.get("id") or body.get("reference")
    # The ERP accepted the posting; without a document id the shared key is the only handle.
    return str(reference) if reference not in (None, "") else key


def _retry_after_s(value: str | None) -> float | None:
    """Returns the Retry-After header in seconds (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None
