"""The `http` ERP adapter against a local ERP that fails twice, then accepts: one posting."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.results import ProposedAction
from tests.support.cases import make_inventory_case
from tests.support.service import basic, running_service, seeded_store

ACTION = "post_inventory_adjustment"


@dataclass
class FakeErp:
    """A local ERP endpoint: answers 503 to the first `failures` requests, then books once per key."""

    failures: int
    requests: list[dict[str, Any]] = field(default_factory=list)
    booked: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        """Records the request and returns the status and JSON body to answer with."""
        key = headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append({"path": path, "key": key, "body": json.loads(body)})
            if len(self.requests) <= self.failures:
                return 503, {"error": "ERP busy"}
            if key not in self.booked:
                self.booked[key] = {"id": f"ERP-{len(self.booked) + 1}", "body": json.loads(body)}
            return 201, {"id": self.booked[key]["id"], "idempotency_key": key}


@pytest.fixture
def fake_erp() -> Iterator[tuple[FakeErp, str]]:
    """Serves a FakeErp on a free local port."""
    erp = FakeErp(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = erp.handle(self.path, self.headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield erp, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_two_failures_then_success_give_one_posting_with_the_retries_audited(
    fake_erp: tuple[FakeErp, str], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """Three requests share one Idempotency-Key; the ERP books once; the audit shows both 503s."""
    erp, url = fake_erp
    case = make_inventory_case()
    with (
        seeded_store("sqlite", tmp_path, tmp_path_factory.getbasetemp()) as store,
        running_service(store.data_dir, erp_url=url) as service,
    ):
        assert service.settings.erp_adapter == "http"
        assert service.submit(case).json()["status"] == "pending_approval"
        approval = service.approval_for(case["case_id"], ACTION)
        assert service.decide(approval["approval_id"], basic("alice")).status_code == 200
        final = service.wait_for(case["case_id"], "resolved", timeout_s=60)
        assert ACTION in final["executed"]
        audit = service.audit(case["case_id"])

    expected_key = ProposedAction(action=ACTION, posts_to_erp=True).key(case["case_id"])
    assert len(erp.requests) == 3
    assert {r["key"] for r in erp.requests} == {expected_key}
    assert {r["path"] for r in erp.requests} == {"/postings"}
    assert len(erp.booked) == 1
    posted = erp.booked[expected_key]["body"]
    assert posted["case_id"] == case["case_id"]
    assert posted["action"] == ACTION
    assert posted["approved_by"] == ["alice"]
    assert posted["params"]["quantity_delta"] == -12

    delivered = [e for e in audit if e["kind"] == "erp.delivered"]
    assert len(delivered) == 1
    detail = delivered[0]["detail"]
    assert detail["adapter"] == "http"
    assert detail["attempts"] == 3
    assert detail["attempt_errors"] == ["HTTP 503", "HTTP 503"]
    assert detail["reference"] == "ERP-1"
    assert detail["idempotency_key"] == expected_key
