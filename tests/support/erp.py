"""A local ERP over HTTP that logs every request and answers as its current mode says (or fails)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["accept", "refuse", "fail", "hang", "slow"]
SLOW_S = 2.0


@dataclass
class ErpLog:
    """What the ERP received: every request's Idempotency-Key and body, in arrival order."""

    mode: Mode = "accept"
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def record(self, path: str, key: str | None, body: bytes) -> tuple[Mode, int]:
        """Logs one request and returns the mode it is answered in and its number."""
        with self.lock:
            self.requests.append(
                {"path": path, "key": key, "body": json.loads(body), "mode": self.mode}
            )
            return self.mode, len(self.requests)

    def keys(self, mode: Mode | None = None) -> Counter[str]:
        """Counts requests per idempotency key (only those answered in one mode, when given)."""
        with self.lock:
            return Counter(
                str(r["key"]) for r in self.requests if mode is None or r["mode"] == mode
            )

    def wait_for(self, count: int, timeout_s: float = 30.0) -> None:
        """Waits until at least `count` requests arrived."""
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the ERP got {len(self.requests)} requests, wanted {count}")
            time.sleep(0.05)


def _answer(mode: Mode, number: int, key: str | None) -> tuple[int, dict[str, Any]]:
    """Returns the status and body a request numbered `number` gets in `mode`."""
    if mode == "refuse":
        return 400, {"error": "unknown SKU"}
    if mode == "fail":  # an outage: every posting gets a 500
        return 500, {"error": "ledger unavailable"}
    return 200, {"id": f"ERP-{number}", "idempotency_key": key}


def _handler(erp: ErpLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key")
            mode, number = erp.record(self.path, key, body)
            if mode == "hang":
                erp.released.wait()  # accepted and read, never answered while the test runs
                return
            if mode == "slow":
                time.sleep(SLOW_S)
            status, answer = _answer(mode, number, key)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return None

    return Handler


@contextmanager
def erp_server(mode: Mode = "accept") -> Iterator[tuple[ErpLog, str]]:
    """Serves an ErpLog on a free local port; honours no idempotency key, so repeats show."""
    erp = ErpLog(mode=mode)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(erp))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield erp, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        erp.released.set()
        server.shutdown()
        server.server_close()
