"""Delivers the orchestrator's callbacks: one signed message per `webhook` outbox row.

`core.store.events` queues the rows with the events; the outbox claims them and calls
`CallbackDelivery`, whose failures the outbox retries with backoff and finally dead-letters.
The message id is the event id, so every retry of an event carries the same `webhook-id`.
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import InvalidInput, NotFound, PermanentIntegrationError
from core.sealed_secrets import SecretBox, SecretKeyError
from core.store import events, identity
from core.store.db import Database, utcnow
from core.store.events import CaseEvent
from core.store.outbox import OutboxRow
from tools.webhooks.base import WebhookMessage, WebhookReply, WebhookSender, require_accepted


def message_of(event: CaseEvent, url: str) -> WebhookMessage:
    """Returns the callback of an event: the Standard Webhooks body {type, timestamp, data}."""
    body = {
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": {"event_id": event.event_id, **event.payload},
    }
    encoded = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return WebhookMessage(msg_id=str(event.event_id), url=url, body=encoded)


class CallbackDelivery:
    """The outbox handler of `webhook` rows: reads the event and the key's secret, then sends."""

    def __init__(self, db: Database, sender: WebhookSender, box: SecretBox) -> None:
        self.db = db
        self.sender = sender
        self.box = box

    async def __call__(self, row: OutboxRow) -> dict[str, object]:
        """Sends the row's event once; raises so the outbox retries or dead-letters it."""
        payload: dict[str, Any] = row.payload
        async with self.db.transaction() as conn:
            event = await events.get(conn, int(payload["event_id"]))
            target = await identity.callback_of(conn, event.submitted_by)
        if target is None or not target.sealed_secret:
            raise PermanentIntegrationError(
                f"callback {event.event_id}: key {payload['key_name']!r} is revoked or unsigned"
            )
        try:
            secret = target.secret(self.box)
        except SecretKeyError as exc:
            # Never an unsigned delivery: the row dead-letters with the reason, for an operator.
            raise PermanentIntegrationError(f"callback {event.event_id}: {exc.message}") from exc
        reply = await self.sender.send(message_of(event, payload["url"]), secret)
        require_accepted(reply, str(event.event_id))
        return {"webhook_id": str(event.event_id), "url": payload["url"], "status": reply.status}


async def send_sample(
    db: Database,
    sender: WebhookSender,
    box: SecretBox,
    key_name: str | None = None,
    url: str | None = None,
) -> tuple[WebhookMessage, WebhookReply]:
    """Sends a signed sample event to a key's callback URL (or `url`) and returns the reply.

    Without a key name, the one key that has a callback is used.
    """
    async with db.transaction() as conn:
        if key_name is None:
            named = await identity.keys_with_callbacks(conn)
            if len(named) != 1:
                raise InvalidInput(
                    f"{len(named)} keys have callbacks; name one with --key-name", field="key_name"
                )
            key_name = named[0]
        target = await identity.callback_of(conn, f"api_key:{key_name}")
    if target is None:
        raise NotFound(f"no live API key named {key_name!r}")
    if not target.sealed_secret or not (url or target.url):
        raise NotFound(f"API key {key_name!r} has no callback configured")
    sample = CaseEvent(
        event_id=0,
        case_id="SAMPLE-CASE",
        type="case.pending_approval",
        submitted_by=f"api_key:{key_name}",
        payload={"case_id": "SAMPLE-CASE", "status": "pending_approval", "sample": True},
        created_at=utcnow(),
    )
    message = message_of(sample, url or target.url or "")
    # A sample's id must never collide with a real event's: real ids are positive integers.
    message = WebhookMessage(
        msg_id=f"sample-{int(utcnow().timestamp())}", url=message.url, body=message.body
    )
    return message, await sender.send(message, target.secret(box))
