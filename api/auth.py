"""Authentication: orchestrator API keys as Bearer tokens, reviewers by HTTP Basic or session."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from app.wiring import Runtime
from core.credentials import VerifiedCredentials
from core.errors import AuthenticationFailed, PolicyRefusal
from core.principals import Principal
from core.store import identity, sessions


def runtime_of(request: Request) -> Runtime:
    """Returns the runtime the app was started with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def _basic_credentials(token: str) -> tuple[str, str]:
    """Returns the username and password of a Basic token, or raises AuthenticationFailed."""
    try:
        decoded = base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationFailed("malformed Basic credentials: not base64 of UTF-8") from exc
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise AuthenticationFailed("malformed Basic credentials: expected username:password")
    if identity.has_control_characters(decoded):
        raise AuthenticationFailed(
            "malformed Basic credentials: control characters are not allowed"
        )
    return username, password


async def _basic(request: Request, token: str) -> Principal:
    username, password = _basic_credentials(token)
    remembered: VerifiedCredentials = request.app.state.verified_credentials
    async with runtime_of(request).db.transaction() as conn:
        record = await identity.password_record(conn, username)
    # Checked after the transaction: argon2 may queue, and must not hold a pooled connection.
    return await identity.check_password(record, password, remembered)


async def current_principal(request: Request) -> Principal:
    """Returns who is calling, from a Bearer key, Basic credentials or a UI session."""
    runtime = runtime_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        async with runtime.db.transaction() as conn:
            return await identity.principal_for_key(conn, token.strip())
    if scheme.lower() == "basic" and token:
        return await _basic(request, token.strip())
    session_id = getattr(request.state, "session_id", None)
    if session_id:
        async with runtime.db.transaction() as conn:
            principal = await sessions.session_person(conn, session_id)
        if principal:
            return principal
    raise AuthenticationFailed("authentication required: Bearer API key or HTTP Basic")


ADMIN_ROLE = "admin"


def require_admin(caller: Principal) -> None:
    """Raises PolicyRefusal unless the caller is an admin key or a person with the admin role."""
    if caller.is_person and ADMIN_ROLE not in caller.roles:
        raise PolicyRefusal(
            f"{caller.label} is not an admin; replaying the outbox needs the admin role",
            rule="admin-only",
        )
