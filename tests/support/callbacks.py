"""A callback receiver on localhost that verifies every Standard Webhooks signature it gets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    """What the receiver saw: accepted callbacks, refused attempts and bad signatures."""

    secret: str
    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    forged: list[str] = field(default_factory=list)
    # The next this-many deliveries are answered 503, as a receiver having a bad moment.
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, headers: dict[str, str], body: bytes) -> int:
        """Verifies one delivery and returns the status to answer with."""
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            self.forged.append(str(exc))
            return 401
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                self.refused.append(headers["webhook-id"])
                return 503
            self.accepted.append({"webhook_id": headers["webhook-id"], **payload})
        return 204

    def types_of(self, case_id: str) -> list[str]:
        """Returns the event types accepted for one case, in arrival order."""
        return [c["type"] for c in self.accepted if c["data"]["case_id"] == case_id]

    def wait_for(self, case_id: str, event_type: str, timeout_s: float = 30.0) -> None:
        """Waits until a callback of this type for the case has been accepted."""
        deadline = time.monotonic() + timeout_s
        while event_type not in self.types_of(case_id):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event_type} for {case_id}: {self.types_of(case_id)}")
            time.sleep(0.05)


@contextmanager
def receiving(secret: str) -> Iterator[Receiver]:
    """Serves a verifying receiver on a free localhost port until the block ends."""
    receiver = Receiver(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.take({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def body_of(accepted: dict[str, Any]) -> str:
    """Returns a callback as compact JSON, for assertion messages."""
    return json.dumps(accepted, sort_keys=True)
