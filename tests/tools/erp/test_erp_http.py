"""The HTTP ERP adapter against a real local server: retries, idempotency keys and refusals."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from core.errors import PermanentIntegrationError, RetryableIntegrationError
from tests.support.postings import make_posting
from tools.erp import HttpErp


@dataclass
class Reply:
    """One scripted answer of the fake ERP server."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Call:
    """One request the fake ERP server received."""

    path: str
    idempotency_key: str | None
    body: Any


class ScriptedServer(ThreadingHTTPServer):
    """Answers POSTs with the scripted replies in order, repeating the last one."""

    def __init__(self, replies: list[Reply]) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.replies = list(replies)
        self.calls: list[Call] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def next_reply(self, call: Call) -> Reply:
        with self.lock:
            self.calls.append(call)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        call = Call(self.path, self.headers.get("Idempotency-Key"), json.loads(raw or b"null"))
        reply = self.server.next_reply(call)
        time.sleep(reply.delay_s)
        payload = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on a slow answer, which is what the timeout test wants

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def erp_server() -> Iterator[Any]:
    servers: list[ScriptedServer] = []

    def start(*replies: Reply) -> ScriptedServer:
        server = ScriptedServer(list(replies))
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def make_erp(base_url: str, **over: Any) -> HttpErp:
    """Returns an HttpErp with near-zero waits so retries do not slow the tests."""
    options: dict[str, Any] = {
        "timeout_s": 2.0,
        "max_attempts": 4,
        "wait_initial_s": 0.0,
        "wait_max_s": 0.01,
    }
    options.update(over)
    return HttpErp(base_url, **options)


async def test_two_503s_then_success_yield_one_receipt_after_three_attempts(
    erp_server: Any,
) -> None:
    server = erp_server(Reply(503), Reply(503), Reply(201, {"id": "DOC-1"}))
    posting = make_posting("CASE-1:post_inventory_adjustment")

    receipt = await make_erp(server.base_url).post(posting)

    assert receipt.reference == "DOC-1"
    assert receipt.attempts == 3
    assert receipt.attempt_errors == ["HTTP 503", "HTTP 503"]
    assert receipt.duplicate is False
    assert len(server.calls) == 3
    assert {call.idempotency_key for call in server.calls} == {posting.idempotency_key}
    assert all(call.body == posting.payload() for call in server.calls)
    assert {call.path for call in server.calls} == {"/postings"}


async def test_reference_falls_back_to_the_body_reference_field(erp_server: Any) -> None:
    server = erp_server(Reply(200, {"reference": "JE-77"}))

    receipt = await make_erp(server.base_url + "/").post(make_posting("k1"))

    assert (receipt.reference, receipt.attempts, receipt.attempt_errors) == ("JE-77", 1, [])
    assert server.calls[0].path == "/postings"


async def test_429_with_retry_after_is_retried_after_the_hinted_wait(erp_server: Any) -> None:
    server = erp_server(
        Reply(429, {"error": "slow down"}, {"Retry-After": "1"}), Reply(201, {"id": "D"})
    )
    started = time.monotonic()

    receipt = await make_erp(server.base_url, wait_max_s=0.3).post(make_posting("k1"))

    # The backoff alone would wait ~0s; the hint (capped at wait_max_s) makes it wait 0.3s.
    assert time.monotonic() - started >= 0.25
    assert receipt.attempts == 2
    assert receipt.attempt_errors == ["HTTP 429"]
    assert len(server.calls) == 2


async def test_400_is_not_retried_and_raises_a_permanent_error(erp_server: Any) -> None:
    server = erp_server(Reply(400, {"error": "unknown sku SKU-42"}))

    with pytest.raises(PermanentIntegrationError) as caught:
        await make_erp(server.base_url).post(make_posting("k1"))

    assert len(server.calls) == 1
    assert caught.value.detail["status"] == 400
    assert "unknown sku SKU-42" in caught.value.detail["body"]
    assert "400" in caught.value.message


async def test_slow_answers_time_out_and_exhaust_into_a_retryable_error(erp_server: Any) -> None:
    server = erp_server(Reply(201, {"id": "late"}, delay_s=0.5))

    with pytest.raises(RetryableIntegrationError) as caught:
        await make_erp(server.base_url, timeout_s=0.1, max_attempts=3).post(make_posting("k1"))

    assert len(server.calls) == 3
    assert caught.value.detail["attempts"] == 3
    assert caught.value.detail["attempt_errors"] == ["timeout", "timeout", "timeout"]


async def test_persistent_5xx_exhausts_attempts_into_a_retryable_error(erp_server: Any) -> None:
    server = erp_server(Reply(502, {"error": "bad gateway"}))

    with pytest.raises(RetryableIntegrationError) as caught:
        await make_erp(server.base_url, max_attempts=2).post(make_posting("k1"))

    assert len(server.calls) == 2
    assert caught.value.detail["attempt_errors"] == ["HTTP 502", "HTTP 502"]


async def test_connection_refused_is_retried_then_raises_a_retryable_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more, so every attempt is refused.

    with pytest.raises(RetryableIntegrationError) as caught:
        await make_erp(f"http://127.0.0.1:{port}", max_attempts=2).post(make_posting("k1"))

    assert caught.value.detail["attempt_errors"] == ["connection error: ConnectError"] * 2


async def test_409_naming_our_key_is_treated_as_already_posted(erp_server: Any) -> None:
    server = erp_server(Reply(409, {"idempotency_key": "k1", "id": "DOC-9"}))

    async with httpx.AsyncClient() as client:
        receipt = await make_erp(server.base_url, client=client).post(make_posting("k1"))

    assert receipt.duplicate is True
    assert receipt.reference == "DOC-9"
    assert len(server.calls) == 1


async def test_409_echoing_our_key_in_the_header_is_treated_as_already_posted(
    erp_server: Any,
) -> None:
    server = erp_server(Reply(409, None, {"Idempotency-Key": "k1"}))

    receipt = await make_erp(server.base_url).post(make_posting("k1"))

    assert (receipt.duplicate, receipt.reference) == (True, "k1")


async def test_409_about_something_else_is_a_permanent_refusal(erp_server: Any) -> None:
    server = erp_server(Reply(409, {"error": "period closed"}))

    with pytest.raises(PermanentIntegrationError):
        await make_erp(server.base_url).post(make_posting("k1"))
    assert len(server.calls) == 1


async def test_look_alike_posting_is_refused_before_any_request(erp_server: Any) -> None:
    server = erp_server(Reply(201, {"id": "never"}))
    forged = {**make_posting("k1").payload(), "idempotency_key": "k1"}

    with pytest.raises(TypeError):
        await make_erp(server.base_url).post(forged)  # type: ignore[arg-type]
    assert server.calls == []
