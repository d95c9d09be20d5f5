"""Authentication: orchestrator API keys as Bearer tokens, reviewers by HTTP Basic or session."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from app.wiring import Runtime
from core.errors import AuthenticationFailed, PolicyRefusal
from core.principals import Principal
from core.store import identity


def runtime_of(request: Request) -> Runtime:
    """Returns the runtime the app was started with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _basic(runtime: Runtime, token: str) -> Principal:
    try:
        username, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationFailed("malformed Basic credentials") from exc
    async with runtime.db.transaction() as conn:
        return await identity.verify_password(conn, username, password)


async def current_principal(request: Request) -> Principal:
    """Returns who is calling, from a Bearer key, Basic credentials or a UI session."""
    runtime = runtime_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        async with runtime.db.transaction() as conn:
            return await identity.principal_for_key(conn, token.strip())
    if scheme.lower() == "basic" and token:
        return await _basic(runtime, token.strip())
    session_user = getattr(request.state, "session_user", None)
    if session_user:
        async with runtime.db.transaction() as conn:
            principal = await identity.person(conn, session_user)
        if principal:
            return principal
    raise AuthenticationFailed("authentication required: Bearer API key or HTTP Basic")


ADMIN_ROLE = "admin"


def require_admin(caller: Principal) -> None:
    """Raises PolicyRefusal unless the caller is a person holding the admin role."""
    if not (caller.is_person and ADMIN_ROLE in caller.roles):
        raise PolicyRefusal(
            f"{caller.label} is not an admin; replaying the outbox needs the admin role",
            rule="admin-only",
        )
