"""Authentication through HTTP: everything but /healthz needs a Bearer key or HTTP Basic."""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from core.settings import Settings
from tests.support.service import PASSWORD, Service, basic, bearer, empty_store, running_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One running service for the module on an unseeded store."""
    with (
        empty_store(tmp_path_factory.mktemp("auth")) as store,
        running_service(store.data_dir) as svc,
    ):
        yield svc


def _api_routes() -> list[tuple[str, str]]:
    """Returns (method, concrete path) for every documented /v1 operation of the real app."""
    with tempfile.TemporaryDirectory() as scratch:
        schema = create_app(Settings(data_dir=Path(scratch))).openapi()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "X-1", path))
        for path, operations in sorted(schema["paths"].items())
        if path.startswith("/v1")
        for method in sorted(operations)
    ]


API_ROUTES = _api_routes()


def test_healthz_needs_no_authentication(service: Service) -> None:
    """The health check answers without credentials."""
    response = service.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_route_table_has_the_expected_api(service: Service) -> None:
    """The routes checked below include the cases, approvals and context APIs."""
    paths = {path for _, path in API_ROUTES}
    assert {"/v1/cases", "/v1/approvals", "/v1/history", "/v1/messages"} <= paths


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_every_api_route_refuses_anonymous_callers_with_401(
    service: Service, method: str, path: str
) -> None:
    """No credentials gives 401 with a WWW-Authenticate challenge, before any validation."""
    response = service.http.request(method, path, json={})
    assert response.status_code == 401, response.text
    assert "www-authenticate" in response.headers
    assert response.json()["error"] == "unauthenticated"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer trg_not_a_real_key",
        "Bearer",
        "Basic " + base64.b64encode(f"alice:{PASSWORD}-wrong".encode()).decode(),
        "Basic " + base64.b64encode(f"nobody:{PASSWORD}".encode()).decode(),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-at-all").decode(),
        "Token something",
    ],
)
def test_bad_credentials_are_a_401(service: Service, authorization: str) -> None:
    """Wrong, unknown or malformed credentials never authenticate."""
    response = service.http.get("/v1/cases", headers={"Authorization": authorization})
    assert response.status_code == 401, response.text
    assert "www-authenticate" in response.headers


def test_a_valid_key_and_a_valid_person_are_let_in(service: Service) -> None:
    """The test key (Bearer) and a reviewer (Basic) both read the case list."""
    for headers in (bearer(), basic("alice")):
        response = service.http.get("/v1/cases", headers=headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_api_docs_need_authentication(service: Service, path: str) -> None:
    """The OpenAPI schema and Swagger UI answer 401 to anonymous callers and 200 to a reviewer."""
    assert service.http.get(path).status_code == 401
    response = service.http.get(path, headers=basic("alice", PASSWORD))
    assert response.status_code == 200


def test_swagger_ui_is_served_from_vendored_assets(service: Service) -> None:
    """The docs page loads its script and styles from this service, never from a CDN."""
    page = service.http.get("/docs", headers=basic("alice", PASSWORD)).text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert service.http.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
