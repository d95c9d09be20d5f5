"""The HTTP callback sender: Standard Webhooks signatures, one attempt, typed failures."""

from __future__ import annotations

import json

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from core import callback_targets
from core.errors import PermanentIntegrationError, RetryableIntegrationError
from core.store.identity import new_callback_secret
from tests.support.callbacks import receiving
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


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8080/hooks", "127.0.0.1, a loopback address"),
        ("http://localhost/hooks", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
        ("http://10.0.0.7/hooks", "10.0.0.7, a private address"),
        ("http://[::ffff:192.168.0.1]/hooks", "a private address"),
    ],
)
async def test_a_private_target_is_refused_for_good_before_anything_is_sent(
    url: str, problem: str
) -> None:
    """Without the opt-in the address check fails permanently and the transport sees nothing."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    message = WebhookMessage(msg_id="7", url=url, body=b"{}")
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(PermanentIntegrationError) as refused:
            await HttpWebhooks(client=client).send(message, new_callback_secret())
        assert problem in refused.value.message
        assert "TRIAGE_CALLBACK_ALLOW_PRIVATE=true" in refused.value.message
        assert seen == []
        # A public address passes the check and is sent.
        public = WebhookMessage(msg_id="8", url="http://93.184.216.34/hooks", body=b"{}")
        assert (await HttpWebhooks(client=client).send(public, new_callback_secret())).status == 204
        assert [str(r.url) for r in seen] == ["http://93.184.216.34/hooks"]


async def test_an_unresolvable_host_is_retried() -> None:
    """A DNS failure may pass, so it is retryable rather than a dead letter at once."""
    message = WebhookMessage(msg_id="9", url="http://no-such-host.invalid/hooks", body=b"{}")
    with pytest.raises(RetryableIntegrationError, match="cannot resolve"):
        await HttpWebhooks().send(message, new_callback_secret())


async def test_the_send_connects_to_the_checked_address_with_the_url_s_host_and_tls_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host resolving to public and private addresses is refused; a public one is pinned."""
    answers = {"hooks.example": ["93.184.216.34"], "rebind.example": ["93.184.216.34", "10.0.0.1"]}

    async def resolve(url: str) -> list[str]:
        return answers[httpx.URL(url).host]

    monkeypatch.setattr(callback_targets, "resolve", resolve)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        sender = HttpWebhooks(client=client)
        rebind = WebhookMessage(msg_id="1", url="https://rebind.example/hooks", body=b"{}")
        with pytest.raises(PermanentIntegrationError, match=r"10\.0\.0\.1, a private address"):
            await sender.send(rebind, new_callback_secret())
        good = WebhookMessage(msg_id="2", url="https://hooks.example:8443/h?x=1", body=b"{}")
        assert (await sender.send(good, new_callback_secret())).status == 204
    (request,) = seen
    # No second lookup can swap the address: the connection goes to the one that was checked.
    assert str(request.url) == "https://93.184.216.34:8443/h?x=1"
    assert request.headers["host"] == "hooks.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.example"


async def test_a_pinned_send_reaches_a_real_receiver_that_verifies_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over a real socket, the pinned request carries a signature the receiver verifies."""
    secret = new_callback_secret()

    async def resolve(url: str) -> list[str]:
        return ["127.0.0.1"]

    # The receiver listens on loopback; here loopback stands in for a public address.
    monkeypatch.setattr(callback_targets, "resolve", resolve)
    monkeypatch.setattr(callback_targets, "address_problem", lambda address: None)
    with receiving(secret) as receiver:
        port = httpx.URL(receiver.url).port
        message = WebhookMessage(
            msg_id="5",
            url=f"http://receiver.example:{port}/hooks",
            body=b'{"data":{"case_id":"C"}}',
        )
        reply = await HttpWebhooks(timeout_s=5).send(message, secret)
    assert reply.status == 204
    assert receiver.forged == []
    assert [c["webhook_id"] for c in receiver.accepted] == ["5"]
