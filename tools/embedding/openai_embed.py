"""Embeddings from an OpenAI-compatible endpoint, by configuration; the packaged WordLlama stays default."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import openai
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from core.errors import ConfigurationError, PermanentIntegrationError, RetryableIntegrationError
from tools.llm.openai_chat import DEFAULT_BASE_URL, PLACEHOLDER_API_KEY, retry_after_s

KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
BATCH = 128


class OpenAiEmbedder:
    """Embeds texts through `/v1/embeddings`, in batches, retrying what is transient."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str | None,
        timeout_s: float = 30.0,
        max_attempts: int = 4,
        dimension: int | None = None,
        max_retry_after_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        size = dimension or KNOWN_DIMENSIONS.get(model)
        if size is None:
            raise ConfigurationError(
                f"the dimension of embedding model {model!r} is unknown; configure it explicitly"
            )
        self.dimension = size
        self.name = f"openai-{model}-{size}"
        self.model = model
        self._client = openai.OpenAI(
            base_url=base_url or DEFAULT_BASE_URL,
            api_key=api_key or PLACEHOLDER_API_KEY,
            timeout=timeout_s,
            max_retries=0,
        )
        self._max_attempts = max_attempts
        self._max_retry_after_s = max_retry_after_s
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)
        self._sleep = sleep

    def close(self) -> None:
        """Closes the HTTP connections."""
        self._client.close()

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Returns one L2-normalised vector per text, in input order."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            retrying = Retrying(
                stop=stop_after_attempt(self._max_attempts),
                wait=self._wait,
                retry=retry_if_exception_type(RetryableIntegrationError),
                sleep=self._sleep,
                reraise=True,
            )
            vectors += retrying(self._embed_batch, texts[start : start + BATCH])
        return vectors

    def _wait(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableIntegrationError) and error.retry_after is not None:
            return max(0.0, min(error.retry_after, self._max_retry_after_s))
        return float(self._backoff(retry_state))

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        # Some servers reject empty strings; a single space embeds as "nothing" just as well.
        inputs = [text if text.strip() else " " for text in batch]
        try:
            response = self._client.embeddings.create(model=self.model, input=inputs)
        except openai.APIStatusError as exc:
            if exc.status_code in {408, 409, 429} or exc.status_code >= 500:
                raise RetryableIntegrationError(
                    f"embeddings HTTP {exc.status_code}",
                    retry_after=retry_after_s(exc.response.headers),
                ) from exc
            raise PermanentIntegrationError(
                f"embeddings refused: HTTP {exc.status_code}", status=exc.status_code
            ) from exc
        except openai.APIConnectionError as exc:
            raise RetryableIntegrationError(f"embeddings unreachable: {exc}") from exc
        ordered = sorted(response.data, key=lambda item: item.index)
        vectors = [_unit([float(x) for x in item.embedding]) for item in ordered]
        if len(vectors) != len(batch) or any(len(v) != self.dimension for v in vectors):
            raise PermanentIntegrationError(
                f"embeddings reply has {len(vectors)} vectors for {len(batch)} texts or a "
                f"dimension other than {self.dimension}"
            )
        return vectors


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
