"""Hostile intake through HTTP: a 422 that names the field, never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.cases import make_case, make_cutoff_case
from tests.support.service import (
    Service,
    add_identities,
    bearer,
    empty_store,
    fresh_postgres,
    running_service,
    table_rows,
)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NUL = "\x00"


@pytest.fixture(scope="module", params=STORES)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One running service per store for the module; every test uses fresh case ids."""
    tmp_path = tmp_path_factory.mktemp(f"hardening-{request.param}")
    if request.param == "sqlite":
        with empty_store(tmp_path) as store, running_service(store.data_dir) as svc:
            yield svc
        return
    with fresh_postgres() as url, running_service(tmp_path / "data", database_url=url) as svc:
        add_identities(url)
        yield svc


def post_raw(service: Service, text: str) -> httpx.Response:
    """POSTs a case body given as JSON text, for what json.dumps would not write."""
    headers = bearer() | {"Content-Type": "application/json"}
    return service.http.post("/v1/cases", content=text.encode(), headers=headers)


def refused(response: httpx.Response, field: str) -> dict[str, Any]:
    """Asserts a 422 whose first error names the field, and returns the body."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input", body
    assert body["field"] == field, body
    return body


def _set(case: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target: Any = case
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return case


# ---- NUL bytes in the case body --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("case_id",), f"C-{NUL}1", "case_id"),
        (("stalled_step",), f"stuck{NUL}", "stalled_step"),
        (("site",), f"DC{NUL}ATL", "site"),
        (("source_system",), f"orch{NUL}", "source_system"),
        (("refs", "order_id"), f"SO{NUL}1", "refs.order_id"),
        (("refs", "skus"), ["SKU-1", f"SKU{NUL}"], "refs.skus.1"),
        (("refs", "dock_door"), f"14{NUL}", "refs.dock_door"),
        (("attributes", "erp_status"), f"released{NUL}", "attributes.erp_status"),
        (("attributes", "zones"), ["A", f"B{NUL}"], "attributes.zones"),
        (("events", 0, "detail"), f"packed{NUL}", "events.0.detail"),
        (("messages", 0, "body"), f"hello{NUL}", "messages.0.body"),
        (("messages", 0, "subject"), f"Re:{NUL}", "messages.0.subject"),
    ],
)
def test_a_nul_byte_in_any_body_string_is_a_422_naming_the_field(
    service: Service, path: tuple[Any, ...], value: Any, field: str
) -> None:
    """PostgreSQL text cannot hold NUL, so every string of the case refuses it at intake."""
    refused(service.submit(_set(make_cutoff_case(), path, value)), field)


@pytest.mark.parametrize("where", ["refs", "attributes"])
def test_a_nul_byte_in_an_extra_key_is_a_422_under_its_object(service: Service, where: str) -> None:
    """A key with NUL in refs or attributes is refused under that object."""
    response = service.submit(make_case(**{where: {f"bad{NUL}key": "x"}}))
    assert response.status_code == 422, response.text
    assert response.json()["field"].startswith(f"{where}.bad"), response.text


# ---- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["Infinity", "-Infinity", "NaN", "1e309"])
@pytest.mark.parametrize(
    ("template", "field"),
    [
        ('"amount": {"value": TOKEN, "currency": "USD"}', "amount.value"),
        ('"attributes": {"backlog": TOKEN}', "attributes.backlog"),
        ('"attributes": {"counts": [1, TOKEN]}', "attributes.counts"),
    ],
)
def test_non_finite_numbers_are_a_422_naming_the_field(
    service: Service, token: str, template: str, field: str
) -> None:
    """Infinity, NaN and overflowing literals cannot be stored as JSON, so intake refuses them."""
    text = json.dumps(make_case())[:-1] + ", " + template.replace("TOKEN", token) + "}"
    refused(post_raw(service, text), field)


@pytest.mark.parametrize("value", [2**64, 2**63, -(2**63) - 1])
def test_integers_beyond_signed_64_bits_are_a_422(service: Service, value: int) -> None:
    """attributes {"big": 2**64} is refused at intake instead of failing the triage later."""
    body = refused(service.submit(make_case(attributes={"big": value})), "attributes.big")
    assert "64" in body["message"]


def test_the_signed_64_bit_limits_are_accepted(service: Service) -> None:
    """The largest and smallest 64-bit integers are still legal attribute values."""
    case = make_case(attributes={"max": 2**63 - 1, "min": -(2**63)})
    response = service.submit(case)
    assert response.status_code == 201, response.text
    assert response.json()["status"] != "failed"


# ---- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("detected_at",), "9999-12-31T23:59:59-01:00", "detected_at"),
        (("sla_due_at",), "9999-12-31T23:59:59-01:00", "sla_due_at"),
        (("events", 0, "at"), "0001-01-01T00:00:00+01:00", "events.0.at"),
        (("messages", 0, "at"), "9999-12-31T23:30:00-00:45", "messages.0.at"),
    ],
)
def test_timestamps_that_leave_the_range_in_utc_are_a_422(
    service: Service, path: tuple[Any, ...], value: str, field: str
) -> None:
    """A timestamp whose UTC instant is outside years 1-9999 cannot round-trip through a store."""
    refused(service.submit(_set(make_cutoff_case(), path, value)), field)


def test_the_last_representable_instant_is_accepted(service: Service) -> None:
    """9999-12-31T23:59:59Z is still a legal SLA deadline."""
    response = service.submit(make_case(sla_due_at="9999-12-31T23:59:59Z"))
    assert response.status_code == 201, response.text


# ---- shapes ----------------------------------------------------------------------------------


def test_a_deeply_nested_extra_ref_is_a_422(service: Service) -> None:
    """An extra refs key nested 900 deep is refused: extra refs hold scalars or lists of them."""
    text = json.dumps(make_case(refs={"extra": "DEEP"}))
    body = refused(
        post_raw(service, text.replace('"DEEP"', '{"n": ' * 900 + "1" + "}" * 900)), "refs.extra"
    )
    assert "scalars" in body["message"]


def test_a_nested_attribute_is_one_error_that_says_what_attributes_hold(service: Service) -> None:
    """An object in attributes gives one error at attributes.<key>, without pydantic internals."""
    body = refused(
        service.submit(make_case(attributes={"sync": {"error": "timeout"}})), "attributes.sync"
    )
    assert len(body["errors"]) == 1, body
    assert "lists of scalars" in body["message"]
    assert "nullable" not in json.dumps(body)
    assert "union" not in json.dumps(body)


def test_a_site_longer_than_its_column_is_a_422(service: Service) -> None:
    """A site over 128 characters is refused by name instead of overflowing the column."""
    refused(service.submit(make_case(site="S" * 129)), "site")


# ---- case ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["A/B", "A?B", "A#B", "A%2FB", "A\\B", "A\x01B", "A\nB", "A\x7fB"])
def test_a_case_id_that_breaks_a_url_path_segment_is_a_422(service: Service, bad: str) -> None:
    """Case ids travel in /v1/cases/{id}; characters that break that segment are refused."""
    body = refused(service.submit(make_case(case_id=bad)), "case_id")
    assert "case ids must not contain" in body["message"]


def test_a_case_id_with_spaces_and_punctuation_is_accepted_and_readable(service: Service) -> None:
    """Other free text in an id still works, and its percent-encoded URL finds it."""
    case = make_case(case_id=f"{make_case()['case_id']} ñ:.~+@")
    assert service.submit(case).status_code == 201
    response = service.http.get(f"/v1/cases/{quote(case['case_id'], safe='')}", headers=bearer())
    assert response.status_code == 200, response.text
    assert response.json()["case_id"] == case["case_id"]


# ---- malformed JSON --------------------------------------------------------------------------


def test_malformed_json_names_the_body_and_the_line_and_column(service: Service) -> None:
    """A syntax error is reported at `body` with its line and column, not a bare character offset."""
    body = refused(post_raw(service, '{"case_id": "X-1",\n  "workflow": ,\n}'), "body")
    assert "line 2, column 15" in body["message"], body
    assert [e["field"] for e in body["errors"]] == ["body"]
    assert "line 2, column 15" in body["errors"][0]["message"]


# ---- NUL in URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("GET", "/v1/cases?site=%00", "query.site"),
        ("GET", "/v1/cases?cause=DC%00", "query.cause"),
        ("GET", "/v1/cases?status=%00", "query.status"),
        ("GET", "/v1/cases/%00abc", "path.case_id"),
        ("GET", "/v1/cases/abc%00/audit", "path.case_id"),
        ("GET", "/v1/approvals/%00", "path.approval_id"),
        ("POST", "/v1/approvals/AP-%00/decision", "path.approval_id"),
        ("GET", "/v1/approvals?case_id=%00", "query.case_id"),
        ("GET", "/v1/outbox?case_id=%00", "query.case_id"),
        ("GET", "/v1/postings?case_id=%00", "query.case_id"),
        ("GET", "/ui/cases/%00x", "path.case_id"),
        ("GET", "/v1/cases?%00=1", "query"),
    ],
)
def test_a_nul_in_a_path_or_query_parameter_is_a_422_naming_it(
    service: Service, method: str, url: str, field: str
) -> None:
    """NUL never reaches a PostgreSQL query: any route refuses it with a 422 naming the parameter."""
    response = service.http.request(method, url, headers=bearer(), json={"decision": "approve"})
    refused(response, field)


# ---- concurrent intake -----------------------------------------------------------------------


async def _post_together(urls: list[str], case: dict[str, Any], count: int) -> list[int]:
    clients = [httpx.AsyncClient(base_url=url, timeout=120.0) for url in urls]
    try:
        posts = [
            clients[i % len(clients)].post("/v1/cases", json=case, headers=bearer())
            for i in range(count)
        ]
        return [r.status_code for r in await asyncio.gather(*posts)]
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.postgres
def test_concurrent_posts_of_one_case_to_two_servers_create_it_exactly_once(
    tmp_path: Path,
) -> None:
    """20 simultaneous POSTs of one id and body across two servers: one 201, the rest 200, no 5xx."""
    case = make_cutoff_case()
    with (
        fresh_postgres() as url,
        running_service(tmp_path / "one", database_url=url) as one,
        running_service(tmp_path / "two", database_url=url) as two,
    ):
        add_identities(url)
        statuses = Counter(asyncio.run(_post_together([one.base_url, two.base_url], case, 20)))
        assert statuses == {201: 1, 200: 19}, statuses
        assert len(table_rows(one.settings, "cases", case["case_id"])) == 1
        assert one.audit_kinds(case["case_id"]).count("case.received") == 1
        changed = {**case, "stalled_step": "something else"}
        clash = Counter(asyncio.run(_post_together([one.base_url, two.base_url], changed, 6)))
        assert clash == {409: 6}, clash
