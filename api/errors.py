"""The one error handler: maps the typed errors of core.errors to HTTP responses."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    Conflict,
    IntegrationError,
    InvalidInput,
    NotFound,
    PolicyRefusal,
    TriageError,
)

_STATUS: list[tuple[type[TriageError], int, str]] = [
    (InvalidInput, 422, "invalid_input"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (AuthenticationFailed, 401, "unauthenticated"),
    (PolicyRefusal, 403, "policy_refusal"),
    (ConfigurationError, 500, "configuration_error"),
    (IntegrationError, 502, "integration_error"),
]


def _allowed(error: dict[str, Any]) -> list[str] | None:
    expected = (error.get("ctx") or {}).get("expected")
    if error.get("type") not in ("enum", "literal_error") or not isinstance(expected, str):
        return None
    return re.findall(r"'([^']*)'", expected)


def _json_syntax(error: dict[str, Any], document: Any) -> dict[str, Any]:
    """Returns the entry of a JSON syntax error at `body`, placed by line and column."""
    position = error["loc"][-1] if isinstance(error["loc"][-1], int) else 0
    text = document if isinstance(document, str) else ""
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    reason = (error.get("ctx") or {}).get("error") or "invalid syntax"
    return {"field": "body", "message": f"malformed JSON at line {line}, column {column}: {reason}"}


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Returns one entry per invalid field: its dotted path, the message and any allowed values."""
    out = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            out.append(_json_syntax(error, exc.body))
            continue
        # Only the leading "body" marks where the input came from; a field may be called body too.
        parts = error["loc"][1:] if error["loc"][:1] == ("body",) else error["loc"]
        loc = [str(p) for p in parts]
        entry: dict[str, Any] = {"field": ".".join(loc) or "body", "message": error["msg"]}
        if (allowed := _allowed(error)) is not None:
            entry["allowed"] = allowed
        out.append(entry)
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers that turn typed errors into JSON responses."""

    @app.exception_handler(TriageError)
    async def _triage_error(_request: Request, exc: TriageError) -> JSONResponse:
        status, code = next(((s, c) for t, s, c in _STATUS if isinstance(exc, t)), (500, "error"))
        body: dict[str, Any] = {"error": code, "message": exc.message, **exc.detail}
        # One Basic challenge: browsers prompt for it, while a second scheme in the same header
        # made Chromium show nothing. API clients send their Bearer key without being asked.
        headers = (
            {"WWW-Authenticate": 'Basic realm="triage", charset="UTF-8"'} if status == 401 else None
        )
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc)
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        message = f"{first['field']}: {first['message']}"
        return JSONResponse(
            {
                "error": "invalid_input",
                "message": message,
                "field": first["field"],
                "errors": errors,
            },
            status_code=422,
        )
