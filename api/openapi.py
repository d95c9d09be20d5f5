"""The OpenAPI document: security schemes, error responses and examples from the contract."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

EXAMPLES_DIR = Path(__file__).parent / "examples"
PUBLIC = {"/healthz", "/readyz"}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "invalid_input, not_found, conflict, ..."},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "The offending field, e.g. `amount.value`."},
        "rule": {"type": "string", "description": "The policy rule that refused the call."},
        "allowed": {"type": "array", "items": {"type": "string"}},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
ERRORS = {
    "401": "Missing or wrong credentials (Bearer key, HTTP Basic, or the UI session for reads).",
    "403": "The key's scope or the policy gate refuses the caller; `rule` names the rule.",
    "404": "The case, approval or outbox row does not exist.",
    "409": "The same case id with another body, or a decision on an approval already decided.",
    "413": "The body is larger than 1 MiB.",
    "422": "The input failed validation; `field` names the offending field.",
}


def _example(name: str) -> Any:
    return json.loads((EXAMPLES_DIR / name).read_text())


@cache
def _body_examples() -> dict[tuple[str, str], dict[str, Any]]:
    """Returns named request examples per operation, taken from the contract's examples."""
    cases = {p.stem: {"value": _example(p.name)} for p in sorted(EXAMPLES_DIR.glob("case-*.json"))}
    decisions = {
        "approve": {"value": {"decision": "approve", "reason": "count confirmed"}},
        "reject": {"value": {"decision": "reject", "reason": "recount pending"}},
        "edit": {
            "value": {"decision": "edit", "reason": "recount", "params": {"quantity_delta": -10}}
        },
    }
    return {
        ("/v1/cases", "post"): cases,
        ("/v1/approvals/{approval_id}/decision", "post"): decisions,
        ("/v1/history", "post"): {"history-line": {"value": [_example("history-line.json")]}},
        ("/v1/messages", "post"): {"message-line": {"value": [_example("message-line.json")]}},
    }


def _add_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    wanted = {"401", "403", "422"}
    if "{" in path:
        wanted.add("404")
    if method in {"post", "put", "patch"}:
        wanted |= {"409", "413"} if path in {"/v1/cases"} else {"413"}
    if path.endswith("/decision"):
        wanted.add("409")
    for code in sorted(wanted):
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        responses[code] = {"description": ERRORS[code], "content": content}


def _add_examples(path: str, method: str, operation: dict[str, Any]) -> None:
    examples = _body_examples().get((path, method))
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if examples and body is not None:
        body["examples"] = examples


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Returns the app's OpenAPI document, built once: schemes, errors and examples added."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = {
        "bearerKey": {"type": "http", "scheme": "bearer", "description": "An API key."},
        "basicPerson": {"type": "http", "scheme": "basic", "description": "A reviewer."},
    }
    schema["security"] = [{"bearerKey": []}, {"basicPerson": []}]
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if path in PUBLIC:
                operation["security"] = []
                continue
            _add_errors(path, method, operation)
            _add_examples(path, method, operation)
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    """Makes app.openapi() return the documented schema."""
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
