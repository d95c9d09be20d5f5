"""Behaviour of the Slack Web API and webhook adapters against a fake Slack on localhost."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from core.errors import PermanentIntegrationError, RetryableIntegrationError
from tests.support.slack_server import FakeSlackServer
from tools.slack import WebhookSlack, WebSlack

BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}},
    {"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "AP-1"}]},
]


@pytest.fixture
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer() as server:
        yield server


def web(server: FakeSlackServer, **over: object) -> WebSlack:
    return WebSlack("xoxb-test", base_url=server.base_url, **over)  # type: ignore[arg-type]


async def test_post_message_sends_token_blocks_and_thread_and_returns_ts(
    slack: FakeSlackServer,
) -> None:
    ts = await web(slack).post_message("C1", "hi", BLOCKS, thread_ts="1.2")
    [call] = slack.named("chat.postMessage")
    assert ts == "1700000000.000001"
    assert call.body["channel"] == "C1"
    assert call.body["blocks"] == BLOCKS
    assert call.body["thread_ts"] == "1.2"
    assert call.headers["Authorization"] == "Bearer xoxb-test"


async def test_a_429_is_retried_by_the_sdk_handler_without_a_duplicate(
    slack: FakeSlackServer,
) -> None:
    slack.fail("chat.postMessage", 429, retry_after=0)
    await web(slack).post_message("C1", "hi", BLOCKS)
    assert slack.attempts == ["chat.postMessage", "chat.postMessage"]
    assert len(slack.named("chat.postMessage")) == 1


async def test_a_429_beyond_the_sdk_retries_is_retryable_with_retry_after(
    slack: FakeSlackServer,
) -> None:
    slack.fail("chat.postMessage", 429, times=2, retry_after=0)
    with pytest.raises(RetryableIntegrationError) as caught:
        await web(slack, max_retries=1).post_message("C1", "hi", BLOCKS)
    assert caught.value.retry_after == 0
    assert slack.named("chat.postMessage") == []


async def test_a_500_is_retryable(slack: FakeSlackServer) -> None:
    slack.fail("chat.update", 500)
    with pytest.raises(RetryableIntegrationError):
        await web(slack).update_message("C1", "1.1", "hi", BLOCKS)


async def test_a_refused_call_is_permanent(slack: FakeSlackServer) -> None:
    slack.refuse("chat.postMessage", "channel_not_found")
    with pytest.raises(PermanentIntegrationError, match="channel_not_found"):
        await web(slack).post_message("C-missing", "hi", BLOCKS)


async def test_an_unreachable_slack_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = WebSlack("xoxb-test", base_url=f"http://127.0.0.1:{port}/api/", max_retries=0)
    with pytest.raises(RetryableIntegrationError, match="unreachable"):
        await client.post_message("C1", "hi", BLOCKS)


async def test_ephemeral_and_modal_calls_reach_slack(slack: FakeSlackServer) -> None:
    client = web(slack)
    await client.post_ephemeral("C1", "U1", "only you")
    await client.open_view("trigger-1", {"type": "modal"})
    assert slack.named("chat.postEphemeral")[0].body == {
        "channel": "C1",
        "user": "U1",
        "text": "only you",
    }
    assert slack.named("views.open")[0].body["trigger_id"] == "trigger-1"


async def test_webhook_mode_posts_without_buttons(slack: FakeSlackServer) -> None:
    ts = await WebhookSlack(slack.webhook_url).post_message("ignored", "hi", BLOCKS)
    [call] = slack.named("webhook")
    assert ts == ""
    assert [b["type"] for b in call.body["blocks"]] == ["section"]


async def test_webhook_mode_retries_a_429_and_cannot_update_or_open_modals(
    slack: FakeSlackServer,
) -> None:
    slack.fail("webhook", 429, retry_after=0)
    hook = WebhookSlack(slack.webhook_url)
    await hook.post_webhook("hi", BLOCKS)
    assert len(slack.named("webhook")) == 1
    with pytest.raises(PermanentIntegrationError):
        await hook.update_message("C1", "1.1", "hi", BLOCKS)
    with pytest.raises(PermanentIntegrationError):
        await hook.open_view("t", {})


async def test_a_failing_webhook_is_retryable(slack: FakeSlackServer) -> None:
    slack.fail("webhook", 500)
    with pytest.raises(RetryableIntegrationError):
        await WebhookSlack(slack.webhook_url).post_webhook("hi", BLOCKS)
