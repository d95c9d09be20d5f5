"""Schemathesis fuzzes every operation as an admin key and as a reviewer, on both stores: no 5xx.

Positive and negative inputs (NUL bytes included) go to every documented operation.
TRIAGE_FUZZ_EXAMPLES sets the examples per operation, caller and store (default 10).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from core.settings import Settings
from core.store.db import Database
from tests.support.service import (
    ADMIN_KEY,
    Service,
    add_identities,
    basic,
    bearer,
    empty_store,
    fresh_postgres,
    running_service,
)

EXAMPLES = int(os.environ.get("TRIAGE_FUZZ_EXAMPLES", "10"))
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
CALLERS = {"admin key": bearer(ADMIN_KEY), "reviewer": basic("alice")}
SENT: Counter[tuple[str, str]] = Counter()
SERVER_ERRORS: Counter[tuple[str, str]] = Counter()


def _schema() -> dict[str, object]:
    """Returns the real app's OpenAPI document."""
    with tempfile.TemporaryDirectory() as scratch:
        return create_app(Settings(data_dir=Path(scratch))).openapi()


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_context: object, value: object) -> bytes:
    """Sends a generated JSON Lines body as it is (a string), or any other value as JSON."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


schema = schemathesis.openapi.from_dict(_schema())


def _migrate(url: str) -> None:
    async def main() -> None:
        db = Database(url)
        try:
            await asyncio.to_thread(db.migrate)
        finally:
            await db.dispose()

    asyncio.run(main())


@pytest.fixture(scope="module", params=STORES)
def store_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Service]]:
    """A running service on an empty store (the test keys and reviewers only) of each kind."""
    root = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        with empty_store(root) as store, running_service(store.data_dir) as service:
            yield request.param, service
    else:
        with fresh_postgres() as url:
            _migrate(url)
            add_identities(url)
            with running_service(root / "data", database_url=url) as service:
                yield request.param, service
    sent = {caller: n for (store, caller), n in SENT.items() if store == request.param}
    errors = sum(n for (store, _caller), n in SERVER_ERRORS.items() if store == request.param)
    print(f"\nfuzzing on {request.param}: {sent} generated requests, {errors} 5xx")


@pytest.fixture(params=list(CALLERS))
def caller(request: pytest.FixtureRequest) -> str:
    """Who sends the generated requests."""
    return str(request.param)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error_to_any_caller(
    case: schemathesis.Case, store_service: tuple[str, Service], caller: str
) -> None:
    """Generated bodies, paths and queries get 2xx or a typed 4xx from admin and reviewer alike."""
    store, service = store_service
    response = case.call(base_url=service.base_url, headers=CALLERS[caller])
    SENT[store, caller] += 1
    SERVER_ERRORS[store, caller] += response.status_code >= 500
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:300]}"


@pytest.mark.parametrize("outbox_id", [0, 2**31, 2**63])
def test_an_outbox_id_outside_the_column_is_a_422(
    store_service: tuple[str, Service], outbox_id: int
) -> None:
    """Found by fuzzing: 2**31 overflowed PostgreSQL's integer column and answered 500."""
    _store, service = store_service
    response = service.http.post(f"/v1/outbox/{outbox_id}/replay", headers=bearer(ADMIN_KEY))
    assert response.status_code == 422, response.text
    assert "outbox_id" in response.text
