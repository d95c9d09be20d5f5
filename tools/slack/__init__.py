"""Slack integration: the SlackApi protocol, the Web API and webhook adapters, and a fake."""

from tools.slack.base import Blocks, SlackApi, without_buttons
from tools.slack.fake import FakeSlack, SlackCall
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
