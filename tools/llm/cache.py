"""An on-disk record/replay cache in front of a ChatModel, keyed by model, prompt hash and input."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from core.errors import ConfigurationError
from core.models import canonical_digest
from tools.llm.base import (
    ChatModel,
    CircuitOpen,
    LlmFailure,
    LlmMalformedReply,
    LlmRejected,
    LlmReply,
    LlmUnavailable,
)

CacheMode = Literal["record", "replay"]
_FAILURES: dict[str, type[LlmFailure]] = {
    cls.__name__: cls for cls in (LlmUnavailable, CircuitOpen, LlmRejected, LlmMalformedReply)
}


class ReplayMiss(ConfigurationError):
    """Raised in replay mode when no recording matches the request; the network is never used."""


class CachedChatModel:
    """Answers from recordings on disk; in record mode a miss calls the inner model and records it."""

    def __init__(
        self,
        inner: ChatModel | None,
        directory: Path,
        *,
        mode: CacheMode,
        prompt_hash: str,
        model: str | None = None,
    ) -> None:
        if mode == "record" and inner is None:
            raise ValueError("record mode needs an inner chat model")
        self.inner = inner
        self.directory = directory
        self.mode = mode
        self.prompt_hash = prompt_hash
        self.model = model or (inner.model if inner is not None else "replay")

    async def aclose(self) -> None:
        """Closes the inner model, if any."""
        if self.inner is not None:
            await self.inner.aclose()

    def key(self, *, system: str, user: str, schema: dict[str, Any], schema_name: str) -> str:
        """Returns the SHA-256 that names the recording of one request."""
        return canonical_digest(
            {
                "model": self.model,
                "prompt_hash": self.prompt_hash,
                "input": {"system": system, "user": user, "schema_name": schema_name},
                "schema": schema,
            }
        )

    def path(self, key: str) -> Path:
        """Returns where the recording for a key lives."""
        return self.directory / key[:2] / f"{key}.json"

    async def complete_json(
        self, *, system: str, user: str, schema: dict[str, Any], schema_name: str
    ) -> LlmReply:
        """Returns the recorded reply, or (record mode) calls the inner model and records it.

        A recorded failure is raised again in replay, so a replayed run falls back where the
        recorded one did; in record mode a recorded failure is retried against the endpoint.
        """
        key = self.key(system=system, user=user, schema=schema, schema_name=schema_name)
        recorded = self._load(key)
        if recorded is not None and ("reply" in recorded or self.mode == "replay"):
            return _replayed(recorded)
        if self.mode == "replay" or self.inner is None:
            raise ReplayMiss(
                f"no recorded LLM reply for key {key[:16]} (model {self.model}, prompt "
                f"{self.prompt_hash[:12]}) in {self.directory}; record the run first",
                key=key,
            )
        try:
            reply = await self.inner.complete_json(
                system=system, user=user, schema=schema, schema_name=schema_name
            )
        except LlmFailure as exc:
            self._store(key, {"failure": _failure_record(exc)})
            raise
        self._store(key, {"reply": _reply_record(reply)})
        return reply

    def _load(self, key: str) -> dict[str, Any] | None:
        path = self.path(key)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"unreadable LLM recording {path}: {exc}") from exc
        if not isinstance(data, dict) or not ({"reply", "failure"} & set(data)):
            raise ConfigurationError(f"LLM recording {path} holds neither a reply nor a failure")
        return data

    def _store(self, key: str, outcome: dict[str, Any]) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"key": key, "model": self.model, "prompt_hash": self.prompt_hash, **outcome}
        # Written to a temporary file and renamed, so a crash never leaves half a recording.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(record, handle, indent=1, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _reply_record(reply: LlmReply) -> dict[str, Any]:
    return {
        "content": reply.content,
        "usage": reply.usage,
        "model": reply.model,
        "structured": reply.structured,
        "attempts": reply.attempts,
    }


def _failure_record(exc: LlmFailure) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "reason": exc.reason,
        "message": exc.message,
        "attempts": exc.attempts,
    }


def _replayed(recorded: dict[str, Any]) -> LlmReply:
    """Returns the recorded reply, or raises the recorded failure."""
    if "failure" in recorded:
        failure = recorded["failure"]
        cls = _FAILURES.get(failure.get("type"), LlmUnavailable)
        raise cls(
            f"replayed: {failure['message']}",
            reason=failure["reason"],
            attempts=0,
            attempt_errors=[f"recorded failure after {failure.get('attempts', 0)} attempts"],
        )
    reply = recorded["reply"]
    return LlmReply(
        content=reply["content"],
        usage={k: int(v) for k, v in reply["usage"].items()},
        model=reply["model"],
        structured=bool(reply["structured"]),
        attempts=0,
        cached=True,
    )
