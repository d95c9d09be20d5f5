"""The session cookie is Secure when a trusted proxy says the request came over TLS."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.app import create_app
from core.settings import Settings


async def _cookie(tmp_path: Path, peer: str, headers: dict[str, str], **settings: str) -> str:
    app = create_app(Settings(data_dir=tmp_path, session_secret="proxy-test", **settings))
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://triage.test") as client:
        response = await client.get("/ui/login", headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["set-cookie"]


HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "secure"),
    [
        ("127.0.0.1", HTTPS, None, True),
        ("127.0.0.1", {}, None, False),
        ("127.0.0.1", {"X-Forwarded-Proto": "http"}, None, False),
        ("198.51.100.7", HTTPS, None, False),
        ("10.1.2.3", HTTPS, "10.0.0.0/8, 127.0.0.1", True),
        ("127.0.0.1", HTTPS, "", False),
    ],
)
async def test_forwarded_https_is_believed_only_from_trusted_proxies(
    tmp_path: Path, peer: str, headers: dict[str, str], trusted: str | None, secure: bool
) -> None:
    """X-Forwarded-Proto: https marks the cookie Secure only when a configured proxy sent it."""
    over = {} if trusted is None else {"trusted_proxies": trusted}
    cookie = await _cookie(tmp_path, peer, headers, **over)
    assert ("; Secure" in cookie) is secure, cookie
    assert "HttpOnly" in cookie


async def test_trusted_proxies_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRIAGE_TRUSTED_PROXIES names the proxies; 127.0.0.1 is trusted by default."""
    assert Settings().trusted_proxies == "127.0.0.1"
    monkeypatch.setenv("TRIAGE_TRUSTED_PROXIES", "192.0.2.1")
    cookie = await _cookie(tmp_path, "192.0.2.1", HTTPS)
    assert "; Secure" in cookie
