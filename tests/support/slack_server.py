"""A fake Slack Web API and incoming webhook on localhost that records calls and fails on cue."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

WEBHOOK_PATH = "/hooks/T000/B000/fake"


@dataclass
class Recorded:
    """One request that the fake answered successfully."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Failure:
    """A scripted answer: an HTTP status, an optional Retry-After and a Slack error code."""

    status: int
    error: str
    retry_after: int | None = None


class FakeSlackServer:
    """Serves chat.postMessage, chat.update, chat.postEphemeral, views.open and a webhook."""

    def __init__(self) -> None:
        self.calls: list[Recorded] = []
        self.attempts: list[str] = []
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Lock()
        self._ts = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """Returns the Web API base URL for WebClient(base_url=...)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def webhook_url(self) -> str:
        """Returns the incoming-webhook URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{WEBHOOK_PATH}"

    def __enter__(self) -> FakeSlackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail(
        self, method: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Makes the next `times` calls of a method (or "webhook") answer with this status."""
        error = "ratelimited" if status == 429 else "internal_error"
        with self._lock:
            self._failures.setdefault(method, []).extend(
                Failure(status, error, retry_after) for _ in range(times)
            )

    def refuse(self, method: str, error: str, *, times: int = 1) -> None:
        """Makes the next calls answer HTTP 200 with ok=false and a Slack error code."""
        with self._lock:
            self._failures.setdefault(method, []).extend(Failure(200, error) for _ in range(times))

    def named(self, method: str) -> list[Recorded]:
        """Returns the successful calls of one method."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _answer(
        self, method: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.attempts.append(method)
            queued = self._failures.get(method) or []
            if queued:
                failure = queued.pop(0)
                extra = (
                    {"Retry-After": str(failure.retry_after)}
                    if failure.retry_after is not None
                    else {}
                )
                return failure.status, extra, {"ok": False, "error": failure.error}
            self.calls.append(Recorded(method, body, headers))
            self._ts += 1
            ts = f"1700000000.{self._ts:06d}"
        replies: dict[str, Any] = {
            "chat.postMessage": {"ok": True, "channel": body.get("channel"), "ts": ts},
            "chat.update": {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")},
            "chat.postEphemeral": {"ok": True, "message_ts": ts},
            "views.open": {"ok": True, "view": {"id": "V000"}},
        }
        return 200, {}, replies.get(method, {"ok": False, "error": "unknown_method"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                webhook = self.path == WEBHOOK_PATH
                method = "webhook" if webhook else self.path.removeprefix("/api/")
                status, extra, data = fake._answer(method, body, dict(self.headers))
                if webhook:
                    text, kind = ("ok" if status == 200 else data["error"]), "text/plain"
                else:
                    text, kind = json.dumps(data), "application/json"
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler
