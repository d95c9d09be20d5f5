"""Orchestrator callbacks: the WebhookSender protocol, the signed HTTP sender, and a fake."""

from tools.webhooks.base import WebhookMessage, WebhookReply, WebhookSender, require_accepted
from tools.webhooks.fake import FakeWebhooks
from tools.webhooks.http import HttpWebhooks

__all__ = [
    "FakeWebhooks",
    "HttpWebhooks",
    "WebhookMessage",
    "WebhookReply",
    "WebhookSender",
    "require_accepted",
]
