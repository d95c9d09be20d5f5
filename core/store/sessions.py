"""Reviewer UI sessions held server-side, so that logging out revokes the cookie for good."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.principals import Principal, PrincipalKind
from core.store.db import utcnow
from core.store.tables import ui_sessions, users


def _hashed(session_id: str) -> str:
    # Only a hash is stored: a leaked table alone names no live session.
    return hashlib.sha256(session_id.encode()).hexdigest()


async def open_session(conn: AsyncConnection, username: str, max_age_s: int) -> str:
    """Records a new login of a reviewer and returns its session id."""
    now = utcnow()
    await conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_at < now))
    session_id = secrets.token_urlsafe(32)
    await conn.execute(
        insert(ui_sessions).values(
            session_hash=_hashed(session_id),
            username=username,
            created_at=now,
            expires_at=now + timedelta(seconds=max_age_s),
        )
    )
    return session_id


async def session_person(conn: AsyncConnection, session_id: str) -> Principal | None:
    """Returns the active reviewer of a live (unrevoked, unexpired) session, or None."""
    row = (
        await conn.execute(
            select(users.c.username, users.c.roles)
            .join(ui_sessions, ui_sessions.c.username == users.c.username)
            .where(
                ui_sessions.c.session_hash == _hashed(session_id),
                ui_sessions.c.revoked_at.is_(None),
                ui_sessions.c.expires_at > utcnow(),
                users.c.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    return Principal(name=row[0], kind=PrincipalKind.person, roles=frozenset(row[1]))


async def revoke_session(conn: AsyncConnection, session_id: str) -> None:
    """Ends one session; its cookie no longer authenticates anyone."""
    await conn.execute(
        update(ui_sessions)
        .where(ui_sessions.c.session_hash == _hashed(session_id))
        .values(revoked_at=utcnow())
    )


async def revoke_sessions_of(conn: AsyncConnection, username: str) -> None:
    """Ends every live session of a reviewer, e.g. when their password changes."""
    await conn.execute(
        update(ui_sessions)
        .where(ui_sessions.c.username == username, ui_sessions.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
