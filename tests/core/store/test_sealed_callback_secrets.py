"""Callback secrets at rest: sealed when stored, sealed by migration 0007, opened only by their key."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from core.errors import ConfigurationError
from core.sealed_secrets import SEALED_PREFIX, SecretBox, SecretKeyError
from core.store import identity
from core.store.db import MIGRATIONS_DIR, Database, utcnow
from core.store.tables import api_keys

BOX = SecretBox(Fernet.generate_key(), "TRIAGE_SECRET_KEY")
URL = "https://wms.example/hooks"


async def _raw_secret(db: Database, name: str) -> str | None:
    async with db.transaction() as conn:
        query = select(api_keys.c.callback_secret).where(api_keys.c.name == name)
        return (await conn.execute(query)).scalar_one()


async def test_a_stored_secret_holds_no_plaintext_and_opens_with_its_key(database_url: str) -> None:
    """The raw column is a Fernet token; the server's key opens it, another key is a clear error."""
    db = Database(database_url)
    db.migrate(BOX)
    secret = identity.new_callback_secret()
    try:
        async with db.transaction() as conn:
            config = identity.CallbackConfig(URL, secret)
            await identity.create_key(conn, "wms", callback=config, box=BOX)
        raw = await _raw_secret(db, "wms")
        assert raw is not None
        assert raw.startswith(SEALED_PREFIX)
        assert secret not in raw
        assert secret.removeprefix("whsec_") not in raw
        async with db.transaction() as conn:
            target = await identity.callback_of(conn, "api_key:wms")
        assert target is not None
        assert target.secret(BOX) == secret
        assert target.prefixes == ("https://wms.example",)
        wrong = SecretBox(Fernet.generate_key(), "TRIAGE_SECRET_KEY")
        with pytest.raises(SecretKeyError) as refused:
            target.secret(wrong)
        assert "API key 'wms'" in refused.value.message
        assert "TRIAGE_SECRET_KEY" in refused.value.message
    finally:
        await db.dispose()


def _plain_row(name: str, secret: str) -> dict[str, Any]:
    """Returns a key row as revision 0006 stored it: the secret in plain text."""
    return {
        "key_id": name[:32],
        "name": name,
        "key_hash": identity.hash_key(name),
        "created_at": utcnow(),
        "scope": "orchestrator",
        "callback_url": URL,
        "callback_secret": secret,
    }


def _migration_0007() -> Any:
    path = MIGRATIONS_DIR / "versions" / "0007_sealed_callback_secrets.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_migration_0007_seals_plaintext_secrets_once(database_url: str) -> None:
    """A plaintext row written at 0006 is sealed by the upgrade; sealing again changes nothing."""
    db = Database(database_url)
    db.migrate(revision="0006")
    secret = identity.new_callback_secret()
    try:
        async with db.transaction() as conn:
            # Only the columns 0006 has: callback_allowed does not exist yet.
            await conn.execute(insert(api_keys).values(_plain_row("legacy", secret)))
        with pytest.raises(ConfigurationError, match="'legacy' hold plaintext callback secrets"):
            db.migrate()  # without the server's key the upgrade stops rather than guess
        db.migrate(BOX)
        sealed = await _raw_secret(db, "legacy")
        assert sealed is not None
        assert sealed.startswith(SEALED_PREFIX)
        assert secret not in sealed
        async with db.transaction() as conn:
            target = await identity.callback_of(conn, "api_key:legacy")
            # Run a second time, the sealing finds nothing in plain text and changes nothing.
            resealed = await conn.run_sync(_migration_0007().seal_plaintext_secrets, BOX)
        assert resealed == 0
        assert await _raw_secret(db, "legacy") == sealed
        assert target is not None
        assert target.secret(BOX) == secret
    finally:
        await db.dispose()


async def test_reseal_moves_every_secret_to_the_first_key_once(database_url: str) -> None:
    """After "new,old" and a reseal, the new key alone opens every secret; a second run finds none."""
    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    db = Database(database_url)
    db.migrate(SecretBox(old, "TRIAGE_SECRET_KEY"))
    try:
        secrets = {name: identity.new_callback_secret() for name in ("wms", "tms")}
        async with db.transaction() as conn:
            for name, secret in secrets.items():
                config = identity.CallbackConfig(URL, secret)
                box = SecretBox(old, "TRIAGE_SECRET_KEY")
                await identity.create_key(conn, name, callback=config, box=box)
            await identity.create_key(
                conn,
                "erp",
                callback=identity.CallbackConfig(URL, identity.new_callback_secret()),
                box=SecretBox(new, "TRIAGE_SECRET_KEY"),
            )
            await identity.create_key(conn, "no-callback", box=BOX)
        rotating = SecretBox(f"{new},{old}", "TRIAGE_SECRET_KEY")
        async with db.transaction() as conn:
            assert await identity.reseal_callback_secrets(conn, rotating) == (2, 1)
        async with db.transaction() as conn:
            assert await identity.reseal_callback_secrets(conn, rotating) == (0, 3)
        only_new = SecretBox(new, "TRIAGE_SECRET_KEY")
        for name, secret in secrets.items():
            async with db.transaction() as conn:
                target = await identity.callback_of(conn, f"api_key:{name}")
            assert target is not None
            assert target.secret(only_new) == secret
    finally:
        await db.dispose()
