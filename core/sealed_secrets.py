"""Secrets at rest: Fernet-sealed under the server's key (TRIAGE_SECRET_KEY or a data-dir key file).

TRIAGE_SECRET_KEY may list several keys, comma-separated, newest first: values are sealed under
the first and opened under any, so a key is rotated by putting the new one in front, running
`triage keys reseal`, and then dropping the old one.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import ConfigurationError
from core.key_files import read_or_create_key
from core.settings import Settings

# Sealed values carry this prefix, so that a plaintext one (written before sealing existed) is
# told apart without trying to decrypt it, and sealing never runs twice over one value.
SEALED_PREFIX = "fernet:"
KEY_FILE = "secret.key"
_HOW = 'generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class SecretKeyError(ConfigurationError):
    """Raised when the server's secret key is missing or malformed, or cannot open a sealed value."""


def is_sealed(stored: str) -> bool:
    """Tells whether a stored value is sealed rather than plain text."""
    return stored.startswith(SEALED_PREFIX)


class SecretBox:
    """Seals under the first of its Fernet keys and opens under any; `source` names the keys."""

    def __init__(self, key: str | bytes, source: str) -> None:
        raw = key.decode() if isinstance(key, bytes) else key
        parts = [part.strip() for part in raw.split(",")]
        try:
            if not all(parts):
                raise ValueError("an empty key in the list")
            fernets = [Fernet(part) for part in parts]
            self._fernet = MultiFernet(fernets)
            self._first = fernets[0]
        except ValueError as exc:
            raise SecretKeyError(
                f"{source} is not a Fernet key, or a comma-separated list of them, newest "
                f"first (each 32 url-safe base64 bytes); {_HOW}"
            ) from exc
        self.source = source
        self.key_count = len(parts)

    def seal(self, plain: str) -> str:
        """Returns the stored form of a secret: the prefix and a Fernet token."""
        return SEALED_PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def open(self, stored: str, what: str) -> str:
        """Returns the secret a sealed value holds; `what` names it in the error."""
        if not is_sealed(stored):
            raise SecretKeyError(f"{what} is stored in plain text; run the database migrations")
        try:
            return self._fernet.decrypt(stored.removeprefix(SEALED_PREFIX)).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                f"{what} cannot be decrypted with {self.source}: it was sealed under another key"
            ) from exc

    def reseal(self, stored: str, what: str) -> str:
        """Returns a sealed value sealed afresh under the first key (opened under any)."""
        self.open(stored, what)  # the same clear errors as opening it
        return SEALED_PREFIX + self._fernet.rotate(stored.removeprefix(SEALED_PREFIX)).decode()

    def sealed_under_first(self, stored: str) -> bool:
        """Tells whether a sealed value opens under the first key alone (needs no reseal)."""
        try:
            self._first.decrypt(stored.removeprefix(SEALED_PREFIX))
        except InvalidToken:
            return False
        return True


def load_secret_box(settings: Settings) -> SecretBox:
    """Returns the server's box: TRIAGE_SECRET_KEY, or for embedded SQLite a generated key file."""
    if settings.secret_key is not None:
        return SecretBox(settings.secret_key.get_secret_value(), "TRIAGE_SECRET_KEY")
    if settings.is_postgres:
        # Several processes share a PostgreSQL store, so one configured key must serve them all.
        raise SecretKeyError(f"TRIAGE_SECRET_KEY is required with PostgreSQL; {_HOW}")
    path = settings.data_dir / KEY_FILE
    return SecretBox(key_file(path), f"the key file {path}")


def key_file(path: Path) -> bytes:
    """Returns the Fernet key kept in a file, creating the file (mode 0600) on first use."""
    return read_or_create_key(path, Fernet.generate_key)
