"""Posted Slack messages by outbox key, so updates find them and retries never post twice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.store.db import utcnow
from core.store.tables import slack_messages


@dataclass(frozen=True)
class PostedMessage:
    """Where a message went: its channel and ts ("" for incoming webhooks)."""

    message_key: str
    case_id: str
    channel: str
    ts: str
    thread_ts: str | None = None


async def find(conn: AsyncConnection, message_key: str) -> PostedMessage | None:
    """Returns the message posted for an outbox key, if one was posted."""
    row = (
        (
            await conn.execute(
                select(slack_messages).where(slack_messages.c.message_key == message_key)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return PostedMessage(
        message_key=row["message_key"],
        case_id=row["case_id"],
        channel=row["channel"],
        ts=row["ts"],
        thread_ts=row["thread_ts"],
    )


async def remember(conn: AsyncConnection, message: PostedMessage) -> None:
    """Stores a posted message once; a second store of the same key is ignored."""
    if await find(conn, message.message_key) is not None:
        return
    await conn.execute(
        insert(slack_messages).values(
            message_key=message.message_key,
            case_id=message.case_id,
            channel=message.channel,
            ts=message.ts,
            thread_ts=message.thread_ts,
            posted_at=utcnow(),
        )
    )
