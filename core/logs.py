"""Structured logs: the request and case context, a JSON formatter and a redaction filter."""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Literal

LogFormat = Literal["json", "text"]

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
case_id: ContextVar[str | None] = ContextVar("case_id", default=None)

# Exception messages can quote what a caller sent (a driver's error, a value that failed to
# serialise); a bounded excerpt keeps a useful hint without a whole body in the log.
EXCEPTION_MESSAGE_CHARS = 300
REDACTED = "[redacted]"
# The second line of defence: what slips into a message despite the first (no bodies, no SQL
# parameters, no credentials logged on purpose) is masked by shape.
_SECRETS = [
    re.compile(r"(?i)\b(authorization|proxy-authorization)(\s*[:=]\s*)[^\r\n,;}]+"),
    re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(
        r"(?i)\b(password|passwd|secret|api[_-]?key|token|cookie|set-cookie)(\s*[:=]\s*)\S+"
    ),
    re.compile(r"(?i)\b(triage_session)(=)[^\s;]+"),
    re.compile(r"()()\btrg_[A-Za-z0-9_-]{6,}"),
    re.compile(r"()()\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"()()\bxox[abposr]-[A-Za-z0-9-]{6,}"),
    re.compile(r"()()(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password@ in URLs
    # PostgreSQL quotes the offending values in an error's DETAIL ("Key (id)=(...)", "Failing
    # row contains (...)"): hide_parameters cannot hide what the server itself repeats.
    re.compile(r"(DETAIL:)(\s*)[^\n]*"),
]
# Attributes every LogRecord has; anything else was passed through `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


def new_request_id() -> str:
    """Returns a fresh request id."""
    return uuid.uuid4().hex


def redact(text: str) -> str:
    """Returns the text with credentials masked."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return text


@contextmanager
def bound_case(case: str) -> Iterator[None]:
    """Tags every log line of the block with a case id."""
    token = case_id.set(case)
    try:
        yield
    finally:
        case_id.reset(token)


@contextmanager
def bound_request(request: str | None = None) -> Iterator[str]:
    """Tags every log line of the block with a request id (a new one unless given)."""
    value = request or new_request_id()
    token = request_id.set(value)
    try:
        yield value
    finally:
        request_id.reset(token)


class ContextFilter(logging.Filter):
    """Stamps each record with the current request and case ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Adds request_id and case_id to the record; never drops it."""
        record.request_id = request_id.get()
        record.case_id = case_id.get()
        return True


class RedactionFilter(logging.Filter):
    """Masks credentials in the rendered message before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replaces the message and its arguments by their redacted rendering."""
        try:
            rendered = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            rendered = str(record.msg)
        record.msg = redact(rendered)
        record.args = None
        return True


def _exception(exc_info: Any) -> dict[str, Any]:
    """Returns an exception as its type, a bounded redacted message and its stack frames."""
    kind, value, tb = exc_info
    frames = [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)]
    chain: list[str] = []
    cause = value.__cause__ or value.__context__ if value is not None else None
    while cause is not None and len(chain) < 5:
        chain.append(f"{type(cause).__name__}: {redact(str(cause))[:EXCEPTION_MESSAGE_CHARS]}")
        cause = cause.__cause__ or cause.__context__
    return {
        "type": kind.__name__ if kind else None,
        "message": redact(str(value))[:EXCEPTION_MESSAGE_CHARS],
        "frames": frames,
        "caused_by": chain,
    }


class JsonFormatter(logging.Formatter):
    """Renders one JSON object per line: time, level, logger, message, request and case ids."""

    def format(self, record: logging.LogRecord) -> str:
        """Returns the record as one line of JSON."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "case_id": getattr(record, "case_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value if isinstance(value, int | float | bool) else redact(str(value))
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = _exception(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Renders a readable line with the request and case ids, and a bounded exception."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(case_id)s] %(message)s"
        )

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        """Returns the exception as its type, bounded message and frames, like the JSON form."""
        rendered = _exception(ei)
        return json.dumps(rendered, ensure_ascii=False)


def configure_logging(
    fmt: LogFormat = "json", *, level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """Routes every logger, uvicorn's included, through one formatter and the filters."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    # Filters on the handler see records of every logger that propagates to the root.
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn installs its own handlers; its lines must go through ours instead.
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
