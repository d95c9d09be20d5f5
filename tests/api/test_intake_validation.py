"""Intake validation through HTTP: 422s that name the field, tolerated extras, the 1 MiB limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.models import System, Workflow
from tests.support.cases import make_case, make_cutoff_case
from tests.support.service import Service, bearer, empty_store, running_service, table_rows

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One running service for the module on an unseeded store; every test uses fresh case ids."""
    tmp_path = tmp_path_factory.mktemp("intake")
    with empty_store(tmp_path) as store, running_service(store.data_dir) as svc:
        yield svc


def _error_for(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body = response.json()
    by_field = {e["field"]: e for e in body["errors"]}
    assert field in by_field, body
    return by_field[field]


def test_a_bad_workflow_names_the_field_and_the_allowed_values(service: Service) -> None:
    """workflow=teleportation is a 422 naming `workflow` with all twelve workflows."""
    response = service.submit(make_case(workflow="teleportation"))
    error = _error_for(response, "workflow")
    assert response.json()["field"] == "workflow"
    assert sorted(error["allowed"]) == sorted(w.value for w in Workflow)
    assert "teleportation" not in error["allowed"]


def test_a_bad_event_system_names_its_path_and_the_allowed_values(service: Service) -> None:
    """An unknown event system is reported at `events.0.system` with the allowed systems."""
    case = make_cutoff_case()
    case["events"][0]["system"] = "SAP"
    error = _error_for(service.submit(case), "events.0.system")
    assert sorted(error["allowed"]) == sorted(s.value for s in System)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("messages", 0, "channel"), "fax", "messages.0.channel"),
        (("messages", 0, "party"), "alien", "messages.0.party"),
        (("amount", "currency"), "dollars", "amount.currency"),
        (("amount", "value"), -5, "amount.value"),
        (("detected_at",), "yesterday", "detected_at"),
    ],
)
def test_other_invalid_values_name_their_field(
    service: Service, path: tuple[Any, ...], value: Any, field: str
) -> None:
    """Each invalid nested value is reported at its dotted path."""
    case = make_cutoff_case()
    target: Any = case
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    _error_for(service.submit(case), field)


@pytest.mark.parametrize("missing", ["case_id", "workflow", "stalled_step", "detected_at", "site"])
def test_a_missing_required_field_is_named(service: Service, missing: str) -> None:
    """Dropping any required field gives a 422 that names it."""
    case = make_case()
    del case[missing]
    _error_for(service.submit(case), missing)


def test_a_naive_timestamp_is_refused(service: Service) -> None:
    """detected_at must be an RFC 3339 timestamp with a zone."""
    _error_for(service.submit(make_case(detected_at="2026-11-20T17:05:00")), "detected_at")


def test_unknown_extra_keys_in_refs_and_attributes_are_kept(service: Service) -> None:
    """Extras inside refs and attributes are accepted and stored with the case body."""
    case = make_cutoff_case()
    case["refs"]["dock_door"] = "14"
    case["refs"]["bill_of_lading"] = "BOL-77"
    case["attributes"]["custom_flag"] = True
    case["attributes"]["zones"] = ["A", "B"]
    response = service.submit(case)
    assert response.status_code == 201, response.text
    (row,) = table_rows(service.settings, "cases", case["case_id"])
    assert row["body"]["refs"]["dock_door"] == "14"
    assert row["body"]["refs"]["bill_of_lading"] == "BOL-77"
    assert row["body"]["attributes"]["custom_flag"] is True
    assert row["body"]["attributes"]["zones"] == ["A", "B"]
    changed = {**case, "refs": {**case["refs"], "dock_door": "15"}}
    assert service.submit(changed).status_code == 409


def _oversized_case() -> dict[str, Any]:
    case = make_case()
    case["attributes"] = {f"note_{i}": "x" * 1000 for i in range(1100)}
    return case


def test_a_body_over_one_mib_with_content_length_is_a_413(service: Service) -> None:
    """The declared length alone is enough to refuse the body."""
    response = service.submit(_oversized_case())
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large"


def test_a_chunked_body_over_one_mib_is_a_413(service: Service) -> None:
    """Without Content-Length the streamed bytes are counted and the body is refused."""
    payload = httpx.Response(200, json=_oversized_case()).content
    assert len(payload) > MIB

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    response = service.http.post(
        "/v1/cases",
        content=chunks(),
        headers=bearer() | {"Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large"


def test_a_body_just_under_the_limit_is_not_refused_for_size(service: Service) -> None:
    """A large but legal body is triaged normally."""
    case = make_case()
    case["attributes"] = {f"note_{i}": "x" * 1000 for i in range(900)}
    response = service.submit(case)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"cursor": "not-a-cursor"}, "cursor"), ({"limit": 0}, "limit"), ({"status": "x"}, "status")],
)
def test_bad_list_parameters_name_the_field(
    service: Service, params: dict[str, Any], field: str
) -> None:
    """GET /v1/cases refuses a forged cursor, a zero limit and an unknown status by name."""
    response = service.http.get("/v1/cases", params=params, headers=bearer())
    assert response.status_code == 422, response.text
    assert response.json()["field"] in (field, f"query.{field}")
