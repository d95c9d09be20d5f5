"""Reviewer passwords: argon2id at OWASP's minimum, and hashes stored with other parameters."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from core.errors import AuthenticationFailed
from core.store import identity
from core.store.db import Database
from core.store.tables import users
from tests.support.service import PASSWORD


async def _stored_hash(alice_db: Database) -> str:
    async with alice_db.transaction() as conn:
        row = await conn.execute(select(users.c.password_hash).where(users.c.username == "alice"))
        return str(row.scalar_one())


async def test_a_new_password_is_stored_as_argon2id_with_19_mib_2_passes_1_lane(
    alice_db: Database,
) -> None:
    """Each check then holds 19 MiB, not the library default's 64."""
    stored = await _stored_hash(alice_db)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    async with alice_db.transaction() as conn:
        assert (await identity.verify_password(conn, "alice", PASSWORD)).name == "alice"


async def test_a_hash_stored_with_other_parameters_still_verifies(alice_db: Database) -> None:
    """A password hashed with the library's default (64 MiB, 3 passes, 4 lanes) keeps working."""
    older = PasswordHasher().hash(PASSWORD)
    assert "$m=65536,t=3,p=4$" in older
    async with alice_db.transaction() as conn:
        await conn.execute(
            update(users).where(users.c.username == "alice").values(password_hash=older)
        )
    async with alice_db.transaction() as conn:
        assert (await identity.verify_password(conn, "alice", PASSWORD)).name == "alice"
        with pytest.raises(AuthenticationFailed):
            await identity.verify_password(conn, "alice", PASSWORD + "!")
