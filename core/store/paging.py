"""Opaque page cursors: the sort key of a page's last row, base64-encoded, as /v1/cases uses."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.errors import InvalidInput


def encode_cursor(*parts: str) -> str:
    """Returns the cursor that resumes after a row with these sort-key parts."""
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode()


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """Returns the sort-key parts of a cursor, or raises InvalidInput naming `cursor`."""
    try:
        found = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", parts - 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not one this service issued", field="cursor") from exc
    if len(found) != parts:
        raise InvalidInput("cursor is not one this service issued", field="cursor")
    return found


def decode_id_cursor(cursor: str | None) -> int:
    """Returns the integer id a cursor resumes after (0 without a cursor)."""
    if not cursor:
        return 0
    (value,) = decode_cursor(cursor, 1)
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput("cursor is not one this service issued", field="cursor")
    return int(value)


async def id_page(
    conn: AsyncConnection,
    query: Select[Any],
    id_column: ColumnElement[int],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[Any], str | None]:
    """Returns one page of rows in id order after the cursor, and the cursor of the next page."""
    after = decode_id_cursor(cursor)
    query = query.where(id_column > after).order_by(id_column).limit(limit + 1)
    found = (await conn.execute(query)).mappings().all()
    page = found[:limit]
    more = len(found) > limit and page
    return page, encode_cursor(str(page[-1][id_column.key])) if more else None
