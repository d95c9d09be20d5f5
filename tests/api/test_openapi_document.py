"""The OpenAPI document explains the API: security schemes, error responses, contract examples."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from core.models import Case, LooseMessage, ResolvedCase
from core.settings import Settings


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app's OpenAPI document (no lifespan is needed to build it)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi"), classifier="local")
    return create_app(settings).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, item in document["paths"].items() for m, op in item.items()]


def test_the_document_declares_bearer_keys_and_basic_reviewers(document: dict[str, Any]) -> None:
    """Swagger shows Authorize: a Bearer API key or HTTP Basic for a person."""
    schemes = document["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"bearer", "basic"}
    assert document["security"] == [{name: []} for name in schemes]
    assert document["paths"]["/healthz"]["get"]["security"] == []


def test_every_protected_operation_documents_its_errors_with_the_error_model(
    document: dict[str, Any],
) -> None:
    """401, 403 and 422 everywhere; 404 with an id in the path; 409 and 413 where they happen."""
    for path, method, operation in _operations(document):
        if path in {"/healthz", "/readyz"}:
            continue
        codes = set(operation["responses"])
        assert {"401", "403", "422"} <= codes, (method, path)
        assert ("404" in codes) == ("{" in path), (method, path)
        ref = operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/Error"
    assert {"409", "413"} <= set(document["paths"]["/v1/cases"]["post"]["responses"])
    decision = document["paths"]["/v1/approvals/{approval_id}/decision"]["post"]
    assert "409" in decision["responses"]


def test_the_body_examples_are_the_contracts_and_load_through_the_real_models(
    document: dict[str, Any],
) -> None:
    """Each example validates as the model the route takes, so the docs cannot drift."""
    paths = document["paths"]

    def examples(path: str) -> dict[str, Any]:
        return paths[path]["post"]["requestBody"]["content"]["application/json"]["examples"]

    cases = examples("/v1/cases")
    assert len(cases) == 3
    for example in cases.values():
        Case.model_validate(example["value"])
    for example in examples("/v1/history").values():
        [ResolvedCase.model_validate(line) for line in example["value"]]
    for example in examples("/v1/messages").values():
        [LooseMessage.model_validate(line) for line in example["value"]]
    decisions = examples("/v1/approvals/{approval_id}/decision")
    assert set(decisions) == {"approve", "reject", "edit"}
