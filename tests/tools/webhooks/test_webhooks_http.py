"""The HTTP callback sender: Standard Webhooks signatures, one attempt, typed failures."""

from __future__ import annotations

import json

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from core.errors import PermanentIntegrationError, RetryableIntegrationError
from core.store.identity import new_callback_secret
from tools.webhooks import HttpWebhooks, WebhookMessage, WebhookReply, require_accepted

MESSAGE = WebhookMessage(msg_id="42", url="http://receiver.test/hooks", body=b'{"type":"x"}')


async def test_the_sender_signs_what_the_library_verifies_once_per_call() -> None:
    """The receiver's Webhook.verify accepts the headers; a wrong secret is refused."""
    secret = new_callback_secret()
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, text="busy")

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        reply = await HttpWebhooks(client=client, allow_private=True).send(MESSAGE, secret)
    assert reply == WebhookReply(status=503, body="busy")
    (request,) = seen  # no retry here: the outbox retries
    headers = dict(request.headers)
    assert headers["webhook-id"] == "42"
    assert Webhook(secret).verify(request.content, headers) == json.loads(MESSAGE.body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_callback_secret()).verify(request.content, headers)


async def test_a_connection_failure_is_retryable() -> None:
    """Nothing listening is a retryable failure, which the outbox backs off from."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(RetryableIntegrationError):
            await HttpWebhooks(client=client, allow_private=True).send(
                MESSAGE, new_callback_secret()
            )


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, None),
        (204, None),
        (429, RetryableIntegrationError),
        (503, RetryableIntegrationError),
        (410, PermanentIntegrationError),
        (400, PermanentIntegrationError),
    ],
)
def test_replies_are_accepted_retried_or_refused_by_status(
    status: int, outcome: type[Exception] | None
) -> None:
    """2xx is delivered, 5xx and 429 are retried, other 4xx dead-letter at once."""
    reply = WebhookReply(status=status, body="")
    if outcome is None:
        assert require_accepted(reply, "1") is reply
    else:
        with pytest.raises(outcome):
            require_accepted(reply, "1")
