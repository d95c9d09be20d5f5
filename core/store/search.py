"""Finding cases by their id or any ref value, exact or by prefix, ignoring case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.models import Case
from core.store.db import as_utc, utcnow
from core.store.tables import cases

# Candidates read per search; a prefix shared by more cases than this finds the newest ones.
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class FoundCase:
    """A case a search found, with its status."""

    case: Case
    status: str
    created_at: datetime


def searchable(case: Case) -> list[str]:
    """Returns the case id and every ref value, extra refs included, that a search looks at."""
    values = [case.case_id]
    for value in case.refs.model_dump().values():
        items = value if isinstance(value, list) else [value]
        values += [str(v) for v in items if v not in (None, "") and not isinstance(v, bool)]
    return values


def finds(case: Case, text: str) -> bool:
    """Tells whether the case id or one of its ref values is the text or starts with it."""
    wanted = text.strip().casefold()
    return bool(wanted) and any(v.casefold().startswith(wanted) for v in searchable(case))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def candidates(text: str) -> ColumnElement[bool]:
    """Returns a portable SQL condition that every case `finds` accepts also meets.

    Refs live inside the JSON body and their keys are open-ended, so the condition looks at the
    text of the refs object; Python then checks each candidate exactly. Case is ignored for
    ASCII letters here, and for all letters in `finds`.
    """
    wanted = text.strip().lower()
    # A stored JSON string starts with a quote and escapes as json.dumps does.
    encoded = json.dumps(wanted)[1:-1]
    refs_text = func.lower(cast(cases.c.body["refs"], Text))
    return or_(
        func.lower(cases.c.case_id).like(_like(wanted) + "%", escape="\\"),
        refs_text.like('%"' + _like(encoded) + "%", escape="\\"),
    )


async def find_cases(conn: AsyncConnection, text: str, limit: int = 50) -> list[FoundCase]:
    """Returns the newest cases whose id or a ref value is the text or starts with it."""
    if not text.strip():
        return []
    query = (
        select(cases.c.body, cases.c.status, cases.c.created_at)
        .where(candidates(text))
        .order_by(cases.c.created_at.desc(), cases.c.case_id.desc())
        .limit(MAX_CANDIDATES)
    )
    found: list[FoundCase] = []
    for body, status, created_at in await conn.execute(query):
        case = Case.model_validate(body)
        if finds(case, text):
            found.append(FoundCase(case, status, as_utc(created_at) or utcnow()))
    return found[:limit]
