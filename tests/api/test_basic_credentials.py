"""HTTP Basic over the API: a verified password is remembered; malformed credentials are 401s."""

from __future__ import annotations

import asyncio
import base64
import re
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher

from tests.support.service import (
    PASSWORD,
    Service,
    _migrate,
    add_identities,
    basic,
    empty_store,
    fresh_postgres,
    running_service,
)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=STORES)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One running service per store kind, holding only the test key and reviewers."""
    root = tmp_path_factory.mktemp(f"basic-{request.param}")
    if request.param == "sqlite":
        with empty_store(root) as store, running_service(store.data_dir) as svc:
            yield svc
        return
    with fresh_postgres() as url:
        asyncio.run(_migrate(url))
        add_identities(url)
        with running_service(root / "data", database_url=url) as svc:
            yield svc


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts argon2 verifications made by the server thread."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: Any, password: Any) -> bool:
        calls.append("verify")
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def _raw_basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"al\x00ice:" + PASSWORD.encode(), "control characters"),
        (b"alice:" + PASSWORD.encode() + b"\x00", "control characters"),
        (b"alice\x1b:pw", "control characters"),
        (b"\xff\xfe:pw", "not base64 of UTF-8"),
        (b"alice", "expected username:password"),
        (b":" + PASSWORD.encode(), "expected username:password"),
    ],
)
def test_malformed_basic_credentials_are_a_clear_401(
    service: Service, raw: bytes, reason: str
) -> None:
    """A NUL or other control character, bad UTF-8 or a missing colon is a 401 naming the fault."""
    response = service.http.get("/v1/approvals", headers=_raw_basic(raw))
    assert response.status_code == 401, response.text
    assert reason in response.json()["message"]
    assert "www-authenticate" in response.headers


def test_a_ui_login_with_a_nul_in_the_name_is_refused_not_a_500(service: Service) -> None:
    """The login form answers a NUL in the user name with its usual 401 page."""
    login_page = service.http.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text)
    assert token
    response = service.http.post(
        "/ui/login",
        data={"username": "al\x00ice", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 401, response.text
    assert "wrong password" in response.text


def test_repeated_basic_requests_run_argon2_once(
    service: Service, verifications: list[str]
) -> None:
    """Five requests with the same right password cost one argon2 check; a wrong one still fails."""
    for _ in range(5):
        assert service.http.get("/v1/approvals", headers=basic("carol")).status_code == 200
    assert len(verifications) == 1
    wrong = service.http.get("/v1/approvals", headers=basic("carol", PASSWORD + "!"))
    assert wrong.status_code == 401
    assert len(verifications) == 2


def test_basic_latency_after_the_first_call(service: Service) -> None:
    """Prints the p50 of GET /v1/approvals with Basic once the password is remembered."""
    headers = basic("erin")
    first = time.perf_counter()
    assert service.http.get("/v1/approvals", headers=headers).status_code == 200
    first_ms = (time.perf_counter() - first) * 1000
    samples = []
    for _ in range(50):
        start = time.perf_counter()
        service.http.get("/v1/approvals", headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
    p50 = statistics.median(samples)
    print(f"\nGET /v1/approvals with Basic: first {first_ms:.1f} ms, then p50 {p50:.1f} ms")
