"""Verified Basic passwords are remembered briefly, never for a wrong password or a changed user."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from core.credentials import VerifiedCredentials
from core.errors import AuthenticationFailed, InvalidInput
from core.store import identity
from core.store.db import Database
from core.store.tables import users
from tests.support.service import PASSWORD


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts argon2 verifications: one entry per call of PasswordHasher.verify."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: Any, password: Any) -> bool:
        calls.append("verify")
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


async def _verify(alice_db: Database, password: str, memory: VerifiedCredentials) -> frozenset[str]:
    async with alice_db.transaction() as conn:
        return (await identity.verify_password(conn, "alice", password, memory)).roles


async def test_a_remembered_password_skips_argon2(
    alice_db: Database, verifications: list[str]
) -> None:
    """Five checks of the same right password run argon2 once."""
    memory = VerifiedCredentials(60)
    for _ in range(5):
        assert await _verify(alice_db, PASSWORD, memory) == {"buyer"}
    assert len(verifications) == 1


async def test_a_wrong_password_is_never_served_from_memory(
    alice_db: Database, verifications: list[str]
) -> None:
    """After the right password was remembered, wrong ones still fail, each after a full check."""
    memory = VerifiedCredentials(60)
    await _verify(alice_db, PASSWORD, memory)
    for wrong in (PASSWORD + "x", PASSWORD[:-1], "", PASSWORD.upper()):
        with pytest.raises(AuthenticationFailed):
            await _verify(alice_db, wrong, memory)
    assert len(verifications) == 5


async def test_a_new_password_or_a_disabled_user_ends_the_memory(alice_db: Database) -> None:
    """Changing the password refuses the old one at once; disabling the user refuses the new one."""
    memory = VerifiedCredentials(60)
    await _verify(alice_db, PASSWORD, memory)
    async with alice_db.transaction() as conn:
        await identity.add_user(conn, "alice", "another-password", ["buyer"])
    with pytest.raises(AuthenticationFailed):
        await _verify(alice_db, PASSWORD, memory)
    await _verify(alice_db, "another-password", memory)
    async with alice_db.transaction() as conn:
        await conn.execute(update(users).where(users.c.username == "alice").values(active=False))
    with pytest.raises(AuthenticationFailed):
        await _verify(alice_db, "another-password", memory)


async def test_roles_are_read_from_the_store_on_every_check(
    alice_db: Database, verifications: list[str]
) -> None:
    """A role change shows on the next request, even when the password is remembered."""
    memory = VerifiedCredentials(60)
    await _verify(alice_db, PASSWORD, memory)
    async with alice_db.transaction() as conn:
        await conn.execute(
            update(users).where(users.c.username == "alice").values(roles=["finance_approver"])
        )
    assert await _verify(alice_db, PASSWORD, memory) == {"finance_approver"}
    assert len(verifications) == 1


async def test_the_memory_expires_after_its_ttl(
    alice_db: Database, verifications: list[str]
) -> None:
    """Past the TTL the password is verified again; a TTL of 0 remembers nothing."""
    clock = Clock()
    memory = VerifiedCredentials(60, clock=clock)
    await _verify(alice_db, PASSWORD, memory)
    clock.now += 59
    await _verify(alice_db, PASSWORD, memory)
    clock.now += 2
    await _verify(alice_db, PASSWORD, memory)
    assert len(verifications) == 2
    off = VerifiedCredentials(0)
    await _verify(alice_db, PASSWORD, off)
    await _verify(alice_db, PASSWORD, off)
    assert len(verifications) == 4


def test_the_memory_holds_neither_password_nor_username() -> None:
    """Entries are keyed by an HMAC, so the memory's contents never show the credentials."""
    memory = VerifiedCredentials(60)
    memory.remember("alice", PASSWORD, "$argon2id$stored")
    assert memory.matches("alice", PASSWORD, "$argon2id$stored")
    assert not memory.matches("alice", PASSWORD, "$argon2id$other")
    assert not memory.matches("alic", "e" + PASSWORD, "$argon2id$stored")
    dump = repr(vars(memory)).encode()
    assert PASSWORD.encode() not in dump
    assert b"alice" not in dump


def test_the_memory_keeps_at_most_max_entries() -> None:
    """The oldest pair is forgotten first when the memory is full."""
    memory = VerifiedCredentials(60, max_entries=2)
    for name in ("a", "b", "c"):
        memory.remember(name, PASSWORD, "h")
    assert not memory.matches("a", PASSWORD, "h")
    assert memory.matches("b", PASSWORD, "h")
    assert memory.matches("c", PASSWORD, "h")


@pytest.mark.parametrize("username", ["al\x00ice", "al:ice", "tab\tbed"])
async def test_user_names_with_control_characters_or_colons_are_refused(
    alice_db: Database, username: str
) -> None:
    """Such a name could never log in over HTTP Basic, so it cannot be created."""
    async with alice_db.transaction() as conn:
        with pytest.raises(InvalidInput):
            await identity.add_user(conn, username, PASSWORD, ["buyer"])


@pytest.fixture
def at_once(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Tracks how many argon2 calls run at the same moment, and how many verify calls ran."""
    seen = {"now": 0, "most": 0, "verify": 0}
    lock = threading.Lock()
    real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

    def tracked(real: Any) -> Any:
        def call(self: PasswordHasher, *args: Any) -> Any:
            with lock:
                seen["now"] += 1
                seen["most"] = max(seen["most"], seen["now"])
                seen["verify"] += real is real_verify
            try:
                time.sleep(0.02)  # long enough for the others to pile up
                return real(self, *args)
            finally:
                with lock:
                    seen["now"] -= 1

        return call

    monkeypatch.setattr(PasswordHasher, "verify", tracked(real_verify))
    monkeypatch.setattr(PasswordHasher, "hash", tracked(real_hash))
    return seen


async def test_argon2_runs_at_most_a_few_at_once_and_once_per_remembered_pair(
    alice_db: Database, at_once: dict[str, int]
) -> None:
    """Eight racing requests of one reviewer pay at most one verification per argon2 slot, never
    more than ARGON2_AT_ONCE at a time (each takes 64 MiB while it runs)."""
    memory = VerifiedCredentials(ttl_s=60)
    async with alice_db.transaction() as conn:
        record = await identity.password_record(conn, "alice")
    roles = await asyncio.gather(
        *(identity.check_password(record, PASSWORD, memory) for _ in range(8))
    )
    assert {r.roles for r in roles} == {frozenset({"buyer"})}
    assert 1 <= at_once["verify"] <= identity.ARGON2_AT_ONCE  # the rest found the pair verified
    assert at_once["most"] <= identity.ARGON2_AT_ONCE


async def test_a_flood_of_wrong_passwords_queues_for_argon2(
    alice_db: Database, at_once: dict[str, int]
) -> None:
    """Wrong passwords and unknown users each pay a full argon2 call, but never more at once."""
    memory = VerifiedCredentials(ttl_s=60)
    async with alice_db.transaction() as conn:
        known = await identity.password_record(conn, "alice")
        unknown = await identity.password_record(conn, "mallory")
    attempts = [identity.check_password(known, f"guess-{i}", memory) for i in range(6)]
    attempts += [identity.check_password(unknown, f"guess-{i}", memory) for i in range(4)]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    assert all(isinstance(o, AuthenticationFailed) for o in outcomes)
    assert at_once["verify"] == 6
    assert 1 < at_once["most"] <= identity.ARGON2_AT_ONCE
