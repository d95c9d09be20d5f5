"""The server key that seals secrets at rest: configured, or a generated key file for SQLite."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.sealed_secrets import KEY_FILE, SEALED_PREFIX, SecretBox, SecretKeyError, load_secret_box
from core.settings import Settings


def test_a_sealed_secret_opens_only_under_its_own_key() -> None:
    """The stored form holds no plaintext; another key is a clear error naming the key's source."""
    box = SecretBox(Fernet.generate_key(), "TRIAGE_SECRET_KEY")
    sealed = box.seal("whsec_c2VjcmV0")
    assert sealed.startswith(SEALED_PREFIX)
    assert "whsec_" not in sealed
    assert box.seal("whsec_c2VjcmV0") != sealed  # a fresh IV each time
    assert box.open(sealed, "the secret") == "whsec_c2VjcmV0"
    other = SecretBox(Fernet.generate_key(), "TRIAGE_SECRET_KEY")
    with pytest.raises(SecretKeyError, match="cannot be decrypted with TRIAGE_SECRET_KEY"):
        other.open(sealed, "the secret")
    with pytest.raises(SecretKeyError, match="stored in plain text"):
        box.open("whsec_c2VjcmV0", "the secret")


def test_a_malformed_key_says_how_to_make_one() -> None:
    """A key that is not 32 url-safe base64 bytes is refused with the command that makes one."""
    with pytest.raises(SecretKeyError, match=r"Fernet\.generate_key"):
        SecretBox("hunter2", "TRIAGE_SECRET_KEY")


def test_embedded_sqlite_generates_one_private_key_file_and_keeps_it(tmp_path: Path) -> None:
    """Zero configuration: the first start writes data/secret.key (0600), later starts reuse it."""
    settings = Settings(data_dir=tmp_path / "data", database_url=None, secret_key=None)
    first = load_secret_box(settings)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in first.source
    sealed = first.seal("whsec_x")
    assert load_secret_box(settings).open(sealed, "the secret") == "whsec_x"


def test_postgresql_without_a_configured_key_is_a_start_up_error(tmp_path: Path) -> None:
    """Processes sharing PostgreSQL need one configured key; a per-host file would differ."""
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+psycopg://postgres@127.0.0.1:5432/x",
        secret_key=None,
    )
    with pytest.raises(SecretKeyError, match="TRIAGE_SECRET_KEY is required with PostgreSQL"):
        load_secret_box(settings)
    assert not (tmp_path / KEY_FILE).exists()
    key = Fernet.generate_key().decode()
    configured = Settings(data_dir=tmp_path, database_url=settings.database_url, secret_key=key)
    assert load_secret_box(configured).source == "TRIAGE_SECRET_KEY"
