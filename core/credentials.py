"""A short-lived memory of passwords that argon2 already verified, keyed by a per-process HMAC."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_ENTRIES = 4096

# Per (username, password) pair the memory holds only an HMAC of the pair, under a random key
# that never leaves the process, and the stored argon2 hash the password matched; never the
# password. A hit counts only while the caller's fresh read of the user's row is active and
# carries that same hash: a new password (new salt, new hash), a disabled or deleted user, or
# the TTL running out all send the next request back to argon2, even when another process
# (the CLI) made the change. Roles are never remembered; they come from that fresh read.
# Failures are never remembered either, so a wrong password always pays a full verification.


@dataclass(frozen=True)
class _Verified:
    password_hash: str
    expires_at: float


class VerifiedCredentials:
    """Remembers for `ttl_s` seconds which (username, password) pairs matched which stored hash."""

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, _Verified] = OrderedDict()

    def _fingerprint(self, username: str, password: str) -> bytes:
        # Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
        user = username.encode()
        message = len(user).to_bytes(4, "big") + user + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def matches(self, username: str, password: str, stored_hash: str) -> bool:
        """Tells whether this pair was verified against `stored_hash` within the TTL."""
        if self.ttl_s <= 0:
            return False
        fingerprint = self._fingerprint(username, password)
        entry = self._entries.get(fingerprint)
        if entry is None:
            return False
        if entry.expires_at <= self._clock():
            del self._entries[fingerprint]
            return False
        return hmac.compare_digest(entry.password_hash, stored_hash)

    def remember(self, username: str, password: str, stored_hash: str) -> None:
        """Records that argon2 verified this pair against `stored_hash` just now."""
        if self.ttl_s <= 0:
            return
        fingerprint = self._fingerprint(username, password)
        self._entries.pop(fingerprint, None)
        self._entries[fingerprint] = _Verified(stored_hash, self._clock() + self.ttl_s)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forgets every verified pair."""
        self._entries.clear()
