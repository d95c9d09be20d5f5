"""API keys (hashed at rest) and reviewers with roles (argon2 password hashes)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core import callback_targets
from core.credentials import VerifiedCredentials
from core.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from core.principals import KeyScope, Principal, PrincipalKind
from core.sealed_secrets import SecretBox
from core.store import sessions
from core.store.db import utcnow
from core.store.tables import api_keys, users

# argon2id at OWASP's minimum configuration (19 MiB, 2 passes, 1 lane), rather than the
# library's default (RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes). OWASP counts it
# as strong as its other settings; it holds 19 MiB per check instead of 64, which is what a
# server process's peak memory pays for each reviewer's first request, and it takes about a fifth
# of the time. Hashes stored with other parameters keep verifying: a hash carries its own.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Each argon2 hash or verification takes the hasher's memory_cost for its duration: eight at once
# at 64 MiB added 450 MB to a process, and a flood of wrong passwords could exhaust the host. At
# most this many run at once per event loop; the rest wait their turn.
ARGON2_AT_ONCE = 2
_argon2_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
KEY_PREFIX = "trg_"
SECRET_PREFIX = "whsec_"  # the Standard Webhooks form: base64 of the HMAC key after the prefix
_CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), 0x7F]))
# Read on every request or status change: built once, so SQLAlchemy neither rebuilds nor re-keys them.
_KEY_CALLBACK = select(
    api_keys.c.callback_url, api_keys.c.callback_secret, api_keys.c.callback_allowed
).where(api_keys.c.name == bindparam("name"), api_keys.c.revoked_at.is_(None))
_KEY_PRINCIPAL = select(api_keys.c.name, api_keys.c.scope).where(
    api_keys.c.key_hash == bindparam("key_hash"), api_keys.c.revoked_at.is_(None)
)


T = TypeVar("T")


def _argon2_gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _argon2_gates.get(loop)
    if gate is None:
        gate = _argon2_gates[loop] = asyncio.Semaphore(ARGON2_AT_ONCE)
    return gate


async def _argon2(work: Callable[..., T], *args: str) -> T:
    """Runs one argon2 call in a thread, at most ARGON2_AT_ONCE of them at a time."""
    async with _argon2_gate():
        return await asyncio.to_thread(work, *args)


def has_control_characters(text: str) -> bool:
    """Tells whether text holds a control character, which RFC 7617 bars from user ids and passwords."""
    return not _CONTROL_CHARACTERS.isdisjoint(text)


def hash_key(key: str) -> str:
    """Returns the stored hash of an API key; keys are long random strings, so SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyCallback:
    """Where an API key's callbacks go, the sealed secret that signs them, and allowed overrides."""

    key_name: str
    url: str | None
    sealed_secret: str | None
    allowed: tuple[str, ...] | None = None

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Returns the URL prefixes a case may name: the configured ones, or the URL's origin."""
        if self.allowed is not None:
            return self.allowed
        return (callback_targets.origin_of(self.url),) if self.url else ()

    def secret(self, box: SecretBox) -> str:
        """Returns the plain signing secret; a box with the wrong key raises SecretKeyError."""
        if not self.sealed_secret:
            raise NotFound(f"API key {self.key_name!r} has no callback secret")
        return box.open(self.sealed_secret, f"the callback secret of API key {self.key_name!r}")


@dataclass(frozen=True)
class CallbackConfig:
    """A key's callback settings as given: URL, plain secret and allowed URL prefixes."""

    url: str | None
    secret: str | None
    allowed: list[str] | None = None


async def _checked_url(url: str, field: str, allow_private: bool) -> str:
    problem = callback_targets.url_problem(url)
    if problem:
        raise InvalidInput(problem, field=field)
    if allow_private:
        return url
    try:
        private = await callback_targets.private_target(url)
    except OSError:
        private = None  # unresolvable now; delivery resolves again and checks every address
    if private:
        raise InvalidInput(
            f"{private}; callbacks go to public addresses unless "
            f"{callback_targets.PRIVATE_OPT_IN} is set",
            field=field,
        )
    return url


async def _stored_callback(
    config: CallbackConfig, box: SecretBox, allow_private: bool
) -> dict[str, object]:
    """Returns the api_keys columns of a callback config, checked and with its secret sealed."""
    if config.url is not None:
        await _checked_url(config.url, "callback_url", allow_private)
    allowed = None
    if config.allowed is not None:
        allowed = [await _checked_url(p, "callback_allowed", allow_private) for p in config.allowed]
    return {
        "callback_url": config.url,
        "callback_secret": box.seal(config.secret) if config.secret else None,
        "callback_allowed": allowed,
    }


async def reseal_callback_secrets(conn: AsyncConnection, box: SecretBox) -> tuple[int, int]:
    """Seals every stored callback secret under the box's first key; returns (resealed, current).

    Each row is compared and set, so a key configured meanwhile is neither lost nor sealed twice.
    """
    query = select(api_keys.c.name, api_keys.c.callback_secret).where(
        api_keys.c.callback_secret.is_not(None)
    )
    resealed = current = 0
    for name, stored in (await conn.execute(query)).all():
        if box.sealed_under_first(stored):
            current += 1
            continue
        fresh = box.reseal(stored, f"the callback secret of API key {name!r}")
        done = await conn.execute(
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.callback_secret == stored)
            .values(callback_secret=fresh)
        )
        resealed += done.rowcount
    return resealed, current


def new_callback_secret() -> str:
    """Returns a fresh signing secret in the whsec_ form (24 random bytes, base64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


async def create_key(
    conn: AsyncConnection,
    name: str,
    key: str | None = None,
    scope: KeyScope = KeyScope.orchestrator,
    *,
    callback: CallbackConfig | None = None,
    box: SecretBox | None = None,
    allow_private: bool = False,
) -> str:
    """Creates an API key with a scope (and callback target) and returns it; only its hash is stored."""
    if not name.strip():
        raise InvalidInput("key name must not be empty", field="name")
    columns: dict[str, object] = {}
    if callback is not None:
        if box is None:
            raise ValueError("a key's callback secret needs the server's SecretBox to be sealed")
        columns = await _stored_callback(callback, box, allow_private)
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        await conn.execute(
            insert(api_keys).values(
                key_id=secrets.token_hex(8),
                name=name,
                key_hash=hash_key(key),
                created_at=utcnow(),
                scope=KeyScope(scope).value,
                **columns,
            )
        )
    except IntegrityError as exc:
        raise Conflict(f"an API key named {name!r} already exists") from exc
    return key


@dataclass(frozen=True)
class KeyInfo:
    """What an operator may see of a key: never its hash or its callback secret."""

    name: str
    scope: KeyScope
    created_at: datetime
    revoked_at: datetime | None
    callback_url: str | None
    allowed: tuple[str, ...] | None


async def list_keys(conn: AsyncConnection) -> list[KeyInfo]:
    """Returns every API key, revoked ones included, by name."""
    rows = await conn.execute(
        select(
            api_keys.c.name,
            api_keys.c.scope,
            api_keys.c.created_at,
            api_keys.c.revoked_at,
            api_keys.c.callback_url,
            api_keys.c.callback_allowed,
        ).order_by(api_keys.c.name)
    )
    return [
        KeyInfo(
            name=name,
            scope=KeyScope(scope),
            created_at=created,
            revoked_at=revoked,
            callback_url=url,
            allowed=tuple(allowed) if allowed is not None else None,
        )
        for name, scope, created, revoked, url, allowed in rows
    ]


async def revoke_key(conn: AsyncConnection, name: str) -> None:
    """Revokes a live key: from the next request on it authenticates nothing, and its cases'
    callbacks stop. Its cases and audit stay."""
    result = await conn.execute(
        update(api_keys)
        .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if not result.rowcount:
        raise NotFound(f"no live API key named {name!r}")


async def set_callback(
    conn: AsyncConnection,
    name: str,
    callback: CallbackConfig,
    box: SecretBox,
    *,
    allow_private: bool = False,
) -> None:
    """Sets an existing key's callback URL, signing secret (sealed) and allowed URL prefixes."""
    columns = await _stored_callback(callback, box, allow_private)
    result = await conn.execute(update(api_keys).where(api_keys.c.name == name).values(**columns))
    if not result.rowcount:
        raise NotFound(f"no API key named {name!r}")


async def callback_of(conn: AsyncConnection, submitted_by: str) -> KeyCallback | None:
    """Returns the callback target of the live key behind a principal label, if it is a key."""
    kind, _, name = submitted_by.partition(":")
    if kind != PrincipalKind.api_key.value:
        return None
    row = (await conn.execute(_KEY_CALLBACK, {"name": name})).first()
    if row is None:
        return None
    allowed = tuple(row[2]) if row[2] is not None else None
    return KeyCallback(key_name=name, url=row[0], sealed_secret=row[1], allowed=allowed)


async def check_case_callback(conn: AsyncConnection, submitted_by: str, url: str) -> None:
    """Refuses a case's callback_url unless it falls under its submitting key's allowed prefixes."""
    target = await callback_of(conn, submitted_by)
    if target is None or not target.sealed_secret or not target.prefixes:
        raise InvalidInput(
            "callback_url needs an API key with a callback URL and secret configured; "
            "this caller has none",
            field="callback_url",
        )
    if not callback_targets.is_allowed(url, target.prefixes):
        raise InvalidInput(
            f"callback_url must start with one of the prefixes allowed for API key "
            f"{target.key_name!r}: {', '.join(target.prefixes)}",
            field="callback_url",
        )


async def principal_for_key(conn: AsyncConnection, key: str) -> Principal:
    """Returns the principal of a valid, unrevoked API key."""
    row = (await conn.execute(_KEY_PRINCIPAL, {"key_hash": hash_key(key)})).first()
    if row is None:
        raise AuthenticationFailed("unknown or revoked API key")
    return Principal(name=row[0], kind=PrincipalKind.api_key, scope=KeyScope(row[1]))


async def keys_with_callbacks(conn: AsyncConnection) -> list[str]:
    """Returns the names of the live keys that have a callback URL and secret."""
    rows = await conn.execute(
        select(api_keys.c.name)
        .where(
            api_keys.c.revoked_at.is_(None),
            api_keys.c.callback_url.is_not(None),
            api_keys.c.callback_secret.is_not(None),
        )
        .order_by(api_keys.c.name)
    )
    return list(rows.scalars())


async def add_user(conn: AsyncConnection, username: str, password: str, roles: list[str]) -> None:
    """Creates a reviewer, or updates the password and roles of an existing one."""
    if not username.strip():
        raise InvalidInput("username must not be empty", field="username")
    if has_control_characters(username) or ":" in username:
        raise InvalidInput("username must not hold control characters or ':'", field="username")
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters", field="password")
    values = {
        "password_hash": await _argon2(_hasher.hash, password),
        "roles": sorted(set(roles)),
        "active": True,
    }
    exists = (
        await conn.execute(select(users.c.username).where(users.c.username == username))
    ).first()
    if exists:
        await conn.execute(update(users).where(users.c.username == username).values(**values))
        # A new password must end the sessions the old one opened.
        await sessions.revoke_sessions_of(conn, username)
    else:
        await conn.execute(insert(users).values(username=username, created_at=utcnow(), **values))


async def deactivate_user(conn: AsyncConnection, username: str) -> None:
    """Stops a reviewer from signing in and ends their sessions; their decisions and audit stay."""
    result = await conn.execute(
        update(users)
        .where(users.c.username == username, users.c.active.is_(True))
        .values(active=False)
    )
    if not result.rowcount:
        raise NotFound(f"no active reviewer named {username!r}")
    await sessions.revoke_sessions_of(conn, username)


async def person(conn: AsyncConnection, username: str) -> Principal | None:
    """Returns an active reviewer as a principal, without checking a password."""
    row = (
        await conn.execute(
            select(users.c.username, users.c.roles).where(
                users.c.username == username, users.c.active.is_(True)
            )
        )
    ).first()
    if row is None:
        return None
    return Principal(name=row[0], kind=PrincipalKind.person, roles=frozenset(row[1]))


@dataclass(frozen=True)
class PasswordRecord:
    """What a password check needs of a reviewer's row: read in a transaction, checked after it."""

    username: str
    password_hash: str | None
    roles: frozenset[str]


async def password_record(conn: AsyncConnection, username: str) -> PasswordRecord:
    """Reads an active reviewer's password hash and roles (no hash: no such active reviewer)."""
    if has_control_characters(username):
        # PostgreSQL refuses NUL in a string, so such input must never reach a query.
        raise AuthenticationFailed("malformed credentials: control characters are not allowed")
    row = (
        await conn.execute(
            select(users.c.password_hash, users.c.roles).where(
                users.c.username == username, users.c.active.is_(True)
            )
        )
    ).first()
    if row is None:
        return PasswordRecord(username, None, frozenset())
    return PasswordRecord(username, row[0], frozenset(row[1]))


async def check_password(
    record: PasswordRecord, password: str, remembered: VerifiedCredentials | None = None
) -> Principal:
    """Returns the reviewer if the password matches the record, or raises AuthenticationFailed.

    Runs outside any transaction: argon2 waits its turn (ARGON2_AT_ONCE) without holding a
    pooled connection, and a pair verified meanwhile by a request it queued behind is not
    verified twice.
    """
    if has_control_characters(password):
        raise AuthenticationFailed("malformed credentials: control characters are not allowed")
    username, stored_hash = record.username, record.password_hash
    if stored_hash is None:
        # Spend the time of a real check, so that user names cannot be probed by timing.
        await _argon2(_hasher.hash, password)
        raise AuthenticationFailed("unknown user or wrong password")
    if remembered is None or not remembered.matches(username, password, stored_hash):
        async with _argon2_gate():
            if remembered is None or not remembered.matches(username, password, stored_hash):
                try:
                    await asyncio.to_thread(_hasher.verify, stored_hash, password)
                except (VerificationError, InvalidHashError) as exc:
                    raise AuthenticationFailed("unknown user or wrong password") from exc
                if remembered is not None:
                    remembered.remember(username, password, stored_hash)
    return Principal(name=username, kind=PrincipalKind.person, roles=record.roles)


async def verify_password(
    conn: AsyncConnection,
    username: str,
    password: str,
    remembered: VerifiedCredentials | None = None,
) -> Principal:
    """Returns the reviewer whose password matches, or raises AuthenticationFailed."""
    if has_control_characters(password):
        raise AuthenticationFailed("malformed credentials: control characters are not allowed")
    return await check_password(await password_record(conn, username), password, remembered)


async def list_users(conn: AsyncConnection) -> list[Principal]:
    """Returns every active reviewer."""
    rows = await conn.execute(
        select(users.c.username, users.c.roles)
        .where(users.c.active.is_(True))
        .order_by(users.c.username)
    )
    return [Principal(name=n, kind=PrincipalKind.person, roles=frozenset(r)) for n, r in rows]
