"""Refuses a NUL character in any path or query parameter before a route or a store sees it."""

from __future__ import annotations

from fastapi import Request

from core.errors import InvalidInput

NUL = "\x00"


def _nul_field(request: Request) -> str | None:
    for name, value in request.query_params.multi_items():
        if NUL in name:
            return "query"
        if NUL in value:
            return f"query.{name}"
    for name, value in request.path_params.items():
        if NUL in str(value):
            return f"path.{name}"
    return None


async def refuse_nul_in_url(request: Request) -> None:
    """Raises InvalidInput naming the parameter: PostgreSQL text cannot hold NUL, so none may pass."""
    if (field := _nul_field(request)) is not None:
        raise InvalidInput(f"{field}: must not contain NUL (\\u0000) characters", field=field)
