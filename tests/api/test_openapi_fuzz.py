"""Schemathesis drives every documented operation with generated input: none may answer 5xx."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from core.settings import Settings
from tests.support.service import Service, basic, empty_store, running_service


def _schema() -> dict[str, object]:
    """Returns the real app's OpenAPI document."""
    with tempfile.TemporaryDirectory() as scratch:
        return create_app(Settings(data_dir=Path(scratch))).openapi()


schema = schemathesis.openapi.from_dict(_schema())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One running service on an empty store, with the test reviewers and API key."""
    with (
        empty_store(tmp_path_factory.mktemp("fuzz")) as store,
        running_service(store.data_dir) as svc,
    ):
        yield svc


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_answers_a_server_error(case: schemathesis.Case, service: Service) -> None:
    """Generated bodies, paths and queries get 2xx or a typed 4xx, never a 5xx."""
    response = case.call(base_url=service.base_url, headers=basic("alice"))
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:300]}"
