"""A local OpenAI-compatible HTTP server for tests: scripted chat and embedding answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    """One scripted answer: status, JSON or raw body, headers and an optional delay."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None


@dataclass
class SeenRequest:
    """One request the stub received."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def response_format(self) -> str | None:
        """Returns the requested response_format type, if any."""
        fmt = self.body.get("response_format") or {}
        return fmt.get("type")


def completion(
    content: dict[str, Any] | str,
    *,
    model: str = "stub-model",
    prompt_tokens: int = 420,
    completion_tokens: int = 60,
    delay_s: float = 0.0,
) -> Step:
    """Returns a chat completion whose message content is the given JSON object or raw text."""
    text = content if isinstance(content, str) else json.dumps(content)
    body = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return Step(body=body, delay_s=delay_s)


def error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> Step:
    """Returns an OpenAI-style error answer."""
    body = {"error": {"message": message, "type": "invalid_request_error", **extra}}
    return Step(status=status, body=body, headers=headers or {})


def rate_limited(retry_after: str | None = "1", retry_after_ms: str | None = None) -> Step:
    """Returns a 429 with Retry-After (seconds) and/or retry-after-ms headers."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return error(429, "Rate limit reached for requests", headers)


def server_error(status: int = 500) -> Step:
    """Returns a 5xx."""
    return error(status, "The server had an error while processing your request.")


def structured_refusal() -> Step:
    """Returns the 400 a server without structured-output support gives for json_schema."""
    return error(
        400,
        "Invalid parameter: 'response_format' of type 'json_schema' is not supported by this server",
        param="response_format",
    )


def embeddings(vectors: list[list[float]], model: str = "stub-embed") -> Step:
    """Returns an embeddings answer."""
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    usage = {"prompt_tokens": 5 * len(vectors), "total_tokens": 5 * len(vectors)}
    return Step(body={"object": "list", "data": data, "model": model, "usage": usage})


Responder = Callable[[SeenRequest], Step]


class OpenAiStub(ThreadingHTTPServer):
    """Serves /v1/chat/completions and /v1/embeddings from a script, recording every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[SeenRequest] = []
        self.script: list[Step] = []
        self.default: Step | Responder = server_error(503)
        self.refuse_structured_outputs = False
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """Returns the /v1 base URL clients use."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def enqueue(self, *steps: Step) -> None:
        """Appends answers, used one per request in order; then the default answers."""
        with self._lock:
            self.script.extend(steps)

    def chat_requests(self) -> list[SeenRequest]:
        """Returns the chat completion requests seen so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def answer(self, request: SeenRequest) -> Step:
        """Records a request and returns the step that answers it."""
        with self._lock:
            self.requests.append(request)
            if self.refuse_structured_outputs and request.response_format == "json_schema":
                return structured_refusal()
            if self.script:
                return self.script.pop(0)
        return self.default(request) if callable(self.default) else self.default


class _Handler(BaseHTTPRequestHandler):
    server: OpenAiStub
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.loads(raw or b"{}")
        request = SeenRequest(self.path, body, {k.lower(): v for k, v in self.headers.items()})
        if not request.path.endswith(("/chat/completions", "/embeddings")):
            step = error(404, f"no route {request.path}")
        else:
            step = self.server.answer(request)
        if step.delay_s:
            # Wakes early when the test stops the server, so no thread outlives the test long.
            self.server.stopping.wait(step.delay_s)
        payload = step.raw if step.raw is not None else json.dumps(step.body).encode()
        try:
            self.send_response(step.status)
            for name, value in step.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on a slow answer, which is what the timeout tests want

    def log_message(self, format: str, *args: Any) -> None:
        """Keeps test output quiet."""


@contextmanager
def running_stub() -> Iterator[OpenAiStub]:
    """Starts a stub on a free port in a thread and stops it afterwards."""
    stub = OpenAiStub()
    thread = threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield stub
    finally:
        stub.stopping.set()
        stub.shutdown()
        stub.server_close()
        thread.join(timeout=5)
