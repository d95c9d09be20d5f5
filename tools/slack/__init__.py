"""Slack integration: the SlackApi protocol, the Web API and webhook adapters, and a fake."""

from typing import TYPE_CHECKING, Any

from tools.slack.base import Blocks, SlackApi, without_buttons
from tools.slack.fake import FakeSlack, SlackCall

if TYPE_CHECKING:
    from tools.slack.web import WebSlack
    from tools.slack.webhook import WebhookSlack

__all__ = [
    "Blocks",
    "FakeSlack",
    "SlackApi",
    "SlackCall",
    "WebSlack",
    "WebhookSlack",
    "without_buttons",
]


def __getattr__(name: str) -> Any:
    # slack_sdk and aiohttp take a while to import; only a configured Slack needs them.
    if name == "WebSlack":
        from tools.slack.web import WebSlack

        return WebSlack
    if name == "WebhookSlack":
        from tools.slack.webhook import WebhookSlack

        return WebhookSlack
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
