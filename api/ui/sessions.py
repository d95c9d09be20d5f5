"""Signed session cookies for the reviewer UI, read into `request.state` by a middleware."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.key_files import read_or_create_key
from core.settings import Settings

COOKIE = "triage_session"
# The UI owns the session. The cookie also reaches the rest of the site, but outside the UI it
# only authenticates safe reads (the API docs, GET /v1/...): a cross-site page can make a
# browser send it, and the JSON API has no CSRF defence of its own.
COOKIE_PATH = "/"
UI_PATH = "/ui"
READ_ONLY_PATHS = ("/docs", "/openapi.json", "/v1/")
SAFE_METHODS = frozenset({"GET", "HEAD"})


def _itsdangerous(secret: bytes) -> tuple[Any, type[Exception]] | None:
    """Returns itsdangerous' serializer and its signature error when the package is installed."""
    try:
        from itsdangerous import BadSignature, URLSafeSerializer
    except ImportError:  # optional: the stdlib HMAC below is the same construction without it
        return None
    return URLSafeSerializer(secret, salt="triage-ui"), BadSignature


@dataclass
class Session:
    """The data one browser carries: who is logged in, the CSRF token, a flash message."""

    user: str | None = None
    session_id: str | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    expires_at: float = 0.0
    flash: dict[str, str] | None = None
    expired: bool = False
    changed: bool = False
    cleared: bool = False

    def login(self, user: str, max_age_s: int, session_id: str) -> None:
        """Starts an authenticated session with a fresh CSRF token (no fixation across logins)."""
        self.user = user
        self.session_id = session_id
        self.csrf = secrets.token_urlsafe(32)
        self.expires_at = time.time() + max_age_s
        self.changed = True

    def logout(self) -> None:
        """Ends the session; the cookie is deleted on the response."""
        self.user = None
        self.session_id = None
        self.cleared = True
        self.changed = True

    def set_flash(self, kind: str, text: str, **extra: str) -> None:
        """Keeps one message to show on the next page (post-redirect-get)."""
        self.flash = {"kind": kind, "text": text, **extra}
        self.changed = True

    def pop_flash(self) -> dict[str, str] | None:
        """Returns the pending message once."""
        flash, self.flash = self.flash, None
        if flash is not None:
            self.changed = True
        return flash

    def payload(self) -> dict[str, Any]:
        """Returns what is signed into the cookie."""
        return {
            "u": self.user,
            "s": self.session_id,
            "c": self.csrf,
            "e": self.expires_at,
            "f": self.flash,
        }


def load_secret(settings: Settings) -> bytes:
    """Returns the signing key: the configured secret, or one persisted (mode 0600) in the data dir."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    return read_or_create_key(
        settings.data_dir / "session.key", lambda: secrets.token_urlsafe(48).encode()
    )


class SessionCodec:
    """Signs and verifies session payloads (itsdangerous when installed, else HMAC-SHA256)."""

    def __init__(self, secret: bytes, max_age_s: int) -> None:
        self.secret = secret
        self.max_age_s = max_age_s
        signer = _itsdangerous(secret)
        self._serializer: Any = signer[0] if signer else None
        self._bad_signature: type[Exception] = signer[1] if signer else ValueError

    def encode(self, session: Session) -> str:
        """Returns the signed cookie value of a session."""
        if self._serializer is not None:
            return str(self._serializer.dumps(session.payload()))
        body = base64.urlsafe_b64encode(json.dumps(session.payload()).encode()).decode()
        return f"{body}.{self._sign(body)}"

    def _sign(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()

    def _verified(self, raw: str) -> dict[str, Any] | None:
        if self._serializer is not None:
            try:
                data = self._serializer.loads(raw)
            except self._bad_signature:
                return None
            return data if isinstance(data, dict) else None
        body, _, signature = raw.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body.encode()))
        except (binascii.Error, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def decode(self, raw: str | None) -> Session:
        """Returns the session in a cookie; a missing, forged or expired one gives a new session."""
        data = self._verified(raw) if raw else None
        if data is None:
            return Session(changed=True)
        session = Session(
            user=data.get("u"),
            session_id=data.get("s"),
            csrf=str(data.get("c") or secrets.token_urlsafe(32)),
            expires_at=float(data.get("e") or 0),
            flash=data.get("f"),
        )
        if session.user and session.expires_at < time.time():
            return Session(expired=True, changed=True)
        return session

    def set_cookie_header(self, session: Session, *, secure: bool) -> str:
        """Returns the Set-Cookie header that stores (or deletes) the session."""
        flags = f"Path={COOKIE_PATH}; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        if session.cleared:
            return f"{COOKIE}=; Max-Age=0; {flags}"
        return f"{COOKIE}={self.encode(session)}; Max-Age={self.max_age_s}; {flags}"


def _reads_outside_the_ui(scope: Scope, path: str) -> bool:
    """Tells whether a request is a safe read of the docs or the API, which a session may make."""
    return scope.get("method") in SAFE_METHODS and path.startswith(READ_ONLY_PATHS)


class SessionMiddleware:
    """Reads the session cookie of UI requests into `request.state` and writes it back when changed."""

    def __init__(self, app: ASGIApp, codec: SessionCodec, *, force_secure: bool = False) -> None:
        self.app = app
        self.codec = codec
        self.force_secure = force_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Attaches the session to UI requests and passes every other request through."""
        path = scope["path"] if scope["type"] == "http" else ""
        if _reads_outside_the_ui(scope, path):
            session = self.codec.decode(HTTPConnection(scope).cookies.get(COOKIE))
            if session.user and session.session_id:
                scope.setdefault("state", {})["session_id"] = session.session_id
            await self.app(scope, receive, send)
            return
        if not path.startswith(UI_PATH) or path.startswith(f"{UI_PATH}/static/"):
            await self.app(scope, receive, send)
            return
        session = self.codec.decode(HTTPConnection(scope).cookies.get(COOKIE))
        state = scope.setdefault("state", {})
        state["session"] = session
        if session.user and session.session_id:
            # Only the server-side record, checked by the routes, says whether it is still live.
            state["session_user"] = session.user
            state["session_id"] = session.session_id
        secure = self.force_secure or scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", self.codec.set_cookie_header(session, secure=secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)
