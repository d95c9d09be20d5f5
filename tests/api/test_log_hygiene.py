"""Logs through a run full of errors: JSON lines with request and case ids, and nothing secret."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from core.logs import configure_logging, redact
from core.store.tables import api_keys
from tests.support.cases import make_inventory_case
from tests.support.erp import erp_server
from tests.support.service import (
    API_KEY,
    PASSWORD,
    READ_KEY,
    Service,
    basic,
    bearer,
    run_store,
    running_service,
    seeded_store,
)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ACTION = "post_inventory_adjustment"


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Routes every logger through the service's JSON configuration into a buffer."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    handler = configure_logging("json", stream=buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        for old in saved[0]:
            root.addHandler(old)
        root.setLevel(saved[1])


def _request(service: Service, rid: str, method: str, path: str, **kw: Any) -> Any:
    headers = {"X-Request-ID": rid, **kw.pop("headers", {})}
    return service.http.request(method, path, headers=headers, **kw)


def _store_error_with_parameters(database_url: str, marker: str) -> None:
    """Makes the store fail on a statement whose parameters hold the marker, and logs it."""

    async def twice(conn: Any) -> None:
        row = {"key_id": marker[:32], "name": marker, "key_hash": marker, "scope": "read"}
        await conn.execute(insert(api_keys).values(**row))
        await conn.execute(insert(api_keys).values(**row))  # a unique violation

    try:
        run_store(database_url, twice)
    except Exception:
        logging.getLogger("tests.store").exception("a statement failed")
    else:
        raise AssertionError("the duplicate insert did not fail")


def _drive_errors(service: Service, body_text: str) -> tuple[str, set[str]]:
    """Runs a case into a refusal and a failing ERP, plus bad input; returns its id and the ids sent."""
    sent: set[str] = set()

    def rid() -> str:
        sent.add(value := f"req-{secrets.token_hex(4)}")
        return value

    case = make_inventory_case()
    case["messages"] = [
        {
            "at": "2026-11-20T09:00:00Z",
            "channel": "email",
            "direction": "inbound",
            "party": "supplier",
            "sender": "ops@supplier.example",
            "subject": "count",
            "body": body_text,
        }
    ]
    created = _request(service, rid(), "POST", "/v1/cases", json=case, headers=bearer())
    assert created.json()["status"] == "pending_approval", created.text
    bad = {**case, "messages": [{**case["messages"][0], "body": body_text + "\x00"}]}
    assert (
        _request(service, rid(), "POST", "/v1/cases", json=bad, headers=bearer()).status_code == 422
    )
    other = {**case, "stalled_step": body_text}
    assert (
        _request(service, rid(), "POST", "/v1/cases", json=other, headers=bearer()).status_code
        == 409
    )
    raw = json.dumps(case).replace('"value": 3200.0', '"value": Infinity')
    refused = _request(service, rid(), "POST", "/v1/cases", content=raw, headers=bearer())
    assert refused.status_code == 422
    nul_user = base64.b64encode(f"al\x00ice:{PASSWORD}".encode()).decode()
    nul = _request(
        service, rid(), "GET", "/v1/approvals", headers={"Authorization": f"Basic {nul_user}"}
    )
    assert nul.status_code == 401
    assert (
        _request(
            service, rid(), "GET", "/v1/approvals", headers=basic("alice", "wrong")
        ).status_code
        == 401
    )
    approval = service.approval_for(case["case_id"], ACTION)
    path = f"/v1/approvals/{approval['approval_id']}/decision"
    not_allowed = _request(
        service, rid(), "POST", path, json={"decision": "approve"}, headers=basic("erin")
    )
    assert not_allowed.status_code == 403  # a PolicyRefusal: erin lacks the role
    approved = _request(
        service,
        rid(),
        "POST",
        path,
        json={"decision": "approve", "reason": body_text},
        headers=basic("alice"),
    )
    assert approved.status_code == 200, approved.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the worker posts to the failing ERP and gives up
        outbox = service.http.get("/v1/outbox", params={"status": "dead"}, headers=bearer(READ_KEY))
        if any(row["case_id"] == case["case_id"] for row in outbox.json()["items"]):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the posting never became a dead letter")
    return case["case_id"], sent


@pytest.mark.parametrize("store", STORES)
def test_logs_of_a_run_with_errors_hold_no_secret_body_or_sql_parameter(
    store: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every line is JSON with a request id; the case's lines carry its id; nothing leaks."""
    body_text = f"BODY-{secrets.token_hex(6)} please recount bin A-12-3"
    sql_marker = f"SQLPARAM-{secrets.token_hex(6)}"
    with (
        erp_server("fail") as (erp, url),
        seeded_store(store, tmp_path, tmp_path_factory.getbasetemp()) as seeded,
        running_service(
            seeded.data_dir,
            database_url=seeded.database_url,
            erp_url=url,
            erp_max_attempts=1,
            outbox_max_attempts=2,
        ) as service,
        captured_logs() as buffer,
    ):
        base = service.base_url
        case_id, sent = _drive_errors(service, body_text)
        _store_error_with_parameters(service.settings.resolved_database_url, sql_marker)
    assert erp.requests, "the ERP was never called"
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]  # each line is JSON
    text = buffer.getvalue()
    basic_value = basic("alice")["Authorization"].split()[1]
    for secret in (
        API_KEY,
        READ_KEY,
        PASSWORD,
        basic_value,
        hashlib.sha256(API_KEY.encode()).hexdigest(),
    ):
        assert secret not in text
    assert body_text.split()[0] not in text  # neither the message body nor the reason
    assert sql_marker not in text
    assert any(line["logger"] == "tests.store" and line["exception"]["frames"] for line in lines)
    # The test's own client logs its requests too; those lines are not the service's.
    service_lines = [
        line
        for line in lines
        if line["logger"] != "tests.store"
        and f"HTTP Request: GET {base}" not in line["message"]
        and f"HTTP Request: POST {base}" not in line["message"]
    ]
    assert service_lines
    assert all(line["request_id"] for line in service_lines)
    mine = [line for line in lines if line["case_id"] == case_id]
    assert {line["request_id"] for line in mine} & sent, "no line of a request names the case"
    assert any("failed on attempt" in line["message"] for line in mine), "the ERP failure is logged"


@pytest.mark.parametrize(
    "leak",
    [
        "Authorization: Bearer trg_abcdefghijkl",
        "Authorization: Basic YWxpY2U6c2VjcmV0LXB3",
        "password=hunter2-hunter2",
        "cookie: triage_session=abcdef123456",
        "key sk-proj-ABCDEFGH12345678",
        "token xoxb-1234-5678-abcdef",
        "postgresql://triage:s3cret-pw@db/triage",
    ],
)
def test_the_redaction_filter_masks_credentials_by_shape(leak: str) -> None:
    """A credential that reached a message anyway is masked before any line is written."""
    with captured_logs() as buffer:
        logging.getLogger("tests.redaction").warning("oops %s", leak)
    secret = leak.split()[-1].split("=")[-1].split(":")[-1].split("@")[0]
    assert secret not in buffer.getvalue()
    assert "[redacted]" in json.loads(buffer.getvalue())["message"]
    assert secret not in redact(leak)
