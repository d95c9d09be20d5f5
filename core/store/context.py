"""Stored context: resolved history and loose supplier/carrier messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import Select, bindparam, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import LooseMessage, Refs, ResolvedCase
from core.store.db import utcnow
from core.store.tables import history, loose_messages

HistorySource = Literal["import", "feedback"]
_REF_COLUMNS = ("po_id", "supplier_id", "shipment_id", "order_id", "invoice_id")
_MESSAGES_BY_IDS = select(loose_messages.c.message_id, loose_messages.c.body).where(
    loose_messages.c.message_id.in_(bindparam("ids", expanding=True))
)


@cache
def _matching_query(keys: tuple[str, ...], excluding: bool) -> Select[Any]:
    """Returns the statement matching messages on these ref columns, built once per shape."""
    clauses = [getattr(loose_messages.c, key) == bindparam(key) for key in keys]
    query = select(loose_messages.c.message_id, loose_messages.c.body).where(or_(*clauses))
    if excluding:
        query = query.where(
            loose_messages.c.message_id.not_in(bindparam("exclude", expanding=True))
        )
    return query.order_by(loose_messages.c.at.desc()).limit(bindparam("limit"))


async def upsert_history(
    conn: AsyncConnection, items: Sequence[ResolvedCase], source: HistorySource = "import"
) -> int:
    """Stores resolved cases, replacing any with the same case id; returns how many were written."""
    if not items:
        return 0
    ids = [item.case_id for item in items]
    await conn.execute(delete(history).where(history.c.case_id.in_(ids)))
    now = utcnow()
    await conn.execute(
        insert(history),
        [
            {
                "case_id": item.case_id,
                "body": item.model_dump(mode="json"),
                "cause": item.resolution.cause,
                "actions": item.resolution.actions,
                "outcome": item.resolution.outcome,
                "resolved_at": item.resolution.resolved_at,
                "source": source,
                "imported_at": now,
            }
            for item in items
        ],
    )
    return len(items)


async def all_history(conn: AsyncConnection) -> list[ResolvedCase]:
    """Returns every resolved case, in a stable order, for training."""
    rows = await conn.execute(select(history.c.body).order_by(history.c.case_id))
    return [ResolvedCase.model_validate(body) for (body,) in rows]


async def history_batches(
    conn: AsyncConnection, *, size: int, case_ids: Sequence[str] | None = None
) -> AsyncIterator[list[ResolvedCase]]:
    """Yields the resolved cases (or those of case_ids) in all_history's order, size at a time.

    Each batch is one query (keyset pagination on the case id), so that neither the driver nor
    the caller ever holds the whole history's rows.
    """
    if case_ids is not None:
        ordered = sorted(case_ids)
        for start in range(0, len(ordered), size):
            query = select(history.c.body).where(
                history.c.case_id.in_(ordered[start : start + size])
            )
            chosen = await conn.execute(query.order_by(history.c.case_id))
            yield [ResolvedCase.model_validate(body) for (body,) in chosen]
        return
    after: str | None = None
    while True:
        query = select(history.c.case_id, history.c.body).order_by(history.c.case_id).limit(size)
        if after is not None:
            query = query.where(history.c.case_id > after)
        rows = (await conn.execute(query)).all()
        if not rows:
            return
        after = rows[-1][0]
        yield [ResolvedCase.model_validate(body) for _, body in rows]
        del rows


async def history_recency(conn: AsyncConnection) -> list[tuple[str, str, datetime]]:
    """Returns every resolved case's id, cause and when it was resolved (else imported)."""
    at = func.coalesce(history.c.resolved_at, history.c.imported_at)
    rows = await conn.execute(select(history.c.case_id, history.c.cause, at))
    return [(case_id, cause, when) for case_id, cause, when in rows]


async def history_count(conn: AsyncConnection) -> int:
    """Returns how many resolved cases are stored."""
    return int((await conn.execute(select(func.count()).select_from(history))).scalar_one())


async def upsert_messages(conn: AsyncConnection, items: Sequence[tuple[str, LooseMessage]]) -> int:
    """Stores loose messages by their content id; re-importing one changes nothing."""
    if not items:
        return 0
    ids = [message_id for message_id, _ in items]
    existing = set(
        (
            await conn.execute(
                select(loose_messages.c.message_id).where(loose_messages.c.message_id.in_(ids))
            )
        ).scalars()
    )
    now = utcnow()
    fresh = {mid: m for mid, m in items if mid not in existing}
    if fresh:
        await conn.execute(
            insert(loose_messages),
            [
                {
                    "message_id": mid,
                    "at": m.at,
                    "party": m.party.value,
                    **{col: getattr(m.refs, col) for col in _REF_COLUMNS},
                    "body": m.model_dump(mode="json"),
                    "imported_at": now,
                }
                for mid, m in fresh.items()
            ],
        )
    return len(fresh)


async def _messages_matching(
    conn: AsyncConnection, keys: dict[str, str], limit: int, exclude: Sequence[str] = ()
) -> list[tuple[str, LooseMessage]]:
    columns = {k: v for k, v in keys.items() if k in _REF_COLUMNS}
    if not columns:
        return []
    params: dict[str, object] = {**columns, "limit": limit}
    if exclude:
        params["exclude"] = list(exclude)
    rows = await conn.execute(_matching_query(tuple(columns), bool(exclude)), params)
    return [(mid, LooseMessage.model_validate(body)) for mid, body in rows]


async def messages_by_refs(
    conn: AsyncConnection, refs: Refs, limit: int = 20
) -> list[tuple[str, LooseMessage]]:
    """Returns loose messages that share a document ref: an order, po, shipment or invoice id."""
    return await _messages_matching(conn, refs.document_keys(), limit)


async def messages_by_party(
    conn: AsyncConnection, refs: Refs, exclude: Sequence[str] = (), limit: int = 10
) -> list[tuple[str, LooseMessage]]:
    """Returns loose messages that share only a party (the supplier): context, not evidence."""
    # Only supplier_id is a stored column; customer and carrier refs live in the message body.
    return await _messages_matching(conn, refs.party_keys(), limit, exclude)


async def messages_by_ids(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, LooseMessage]:
    """Returns loose messages by id."""
    if not ids:
        return {}
    rows = await conn.execute(_MESSAGES_BY_IDS, {"ids": list(ids)})
    return {mid: LooseMessage.model_validate(body) for mid, body in rows}
