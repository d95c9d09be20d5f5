"""Gives every request an id, from X-Request-ID when it is sane, for the logs and the response.

The middleware also logs a request's unhandled error itself, inside the request's context, and
answers it with a 500: the server's own report would come without the request id, after it.
"""

from __future__ import annotations

import json
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import bound_request

log = logging.getLogger(__name__)
HEADER = b"x-request-id"
# A caller's id lands in every log line of the request: only short, plain tokens are taken.
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class RequestIds:
    """ASGI middleware that binds a request id for the request's logs and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER, b"")
        chosen = given.decode() if _SANE.fullmatch(given) else None
        started = False
        with bound_request(chosen) as value:

            async def send_with_id(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                    message = {**message, "headers": [*headers, (HEADER, value.encode())]}
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # The method and path only: the query and the body may carry what callers sent.
                log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
                if started:
                    raise
                await _internal_error(send_with_id, value)


async def _internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(
        {"error": "internal_error", "message": "internal error", "request_id": request_id}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
