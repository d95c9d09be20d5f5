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


def test_a_key_list_seals_under_the_first_and_opens_under_any() -> None:
    """Rotation: with "new,old" old values still open; a reseal moves them to the new key alone."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_old = SecretBox(old, "TRIAGE_SECRET_KEY").seal("whsec_b2xk")
    both = SecretBox(f"{new}, {old}", "TRIAGE_SECRET_KEY")
    assert both.key_count == 2
    assert both.open(sealed_old, "the secret") == "whsec_b2xk"
    assert not both.sealed_under_first(sealed_old)
    resealed = both.reseal(sealed_old, "the secret")
    assert both.sealed_under_first(resealed)
    assert SecretBox(new, "TRIAGE_SECRET_KEY").open(resealed, "the secret") == "whsec_b2xk"
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        SecretBox(old, "TRIAGE_SECRET_KEY").open(both.seal("whsec_eA"), "the secret")


@pytest.mark.parametrize("listed", ["{new},", ",{new}", "{new},hunter2"])
def test_a_key_list_with_an_empty_or_malformed_member_is_refused(listed: str) -> None:
    """A stray comma or a bad member is a start-up error, never a silently shorter list."""
    new = Fernet.generate_key().decode()
    with pytest.raises(SecretKeyError, match="comma-separated list"):
        SecretBox(listed.format(new=new), "TRIAGE_SECRET_KEY")


def test_reseal_refuses_a_value_no_listed_key_opens() -> None:
    """A value sealed under a key missing from the list is named, not rewritten."""
    stray = SecretBox(Fernet.generate_key(), "elsewhere").seal("whsec_eA")
    box = SecretBox(Fernet.generate_key(), "TRIAGE_SECRET_KEY")
    with pytest.raises(SecretKeyError, match="the secret cannot be decrypted"):
        box.reseal(stray, "the secret")
