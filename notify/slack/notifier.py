"""Slack notifications through the outbox, and the dispatcher handler that delivers them once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from core.approvals import ApprovalRecord
from core.errors import ConfigurationError, RetryableIntegrationError
from core.models import Case, canonical_digest
from core.settings import Settings
from core.store import cases as case_store
from core.store import outbox as outbox_store
from core.store import slack as slack_store
from core.store.db import Database
from core.store.outbox import OutboxRow, OutboxStatus
from notify.slack.blocks import approval_message, case_url, decided_message, status_reply
from notify.slack.config import SlackConfig, load_slack_config
from tools.slack.base import SlackApi

APPROVAL, UPDATE, REPLY = "slack.approval", "slack.update", "slack.reply"


def slack_key(*parts: str) -> str:
    """Returns a deterministic outbox key for a Slack message from what it is about."""
    return "slack-" + canonical_digest(list(parts))[:40]


async def enqueue_post(
    conn: AsyncConnection,
    *,
    case_id: str,
    action: str,
    key: str,
    channel: str,
    text: str,
    blocks: list[dict[str, Any]],
    thread_key: str | None = None,
) -> bool:
    """Queues one chat.postMessage (a thread reply when thread_key names a posted message)."""
    payload = {"op": "post", "channel": channel, "text": text, "blocks": blocks}
    return await outbox_store.enqueue(
        conn,
        kind="slack",
        case_id=case_id,
        action=action,
        idempotency_key=key,
        payload={**payload, "thread_key": thread_key},
    )


class SlackNotifier:
    """Queues approval requests, message updates and status replies as outbox rows."""

    def __init__(
        self, config: SlackConfig, public_url: str, *, buttons: bool, threads: bool
    ) -> None:
        self.config = config
        self.public_url = public_url
        self.buttons = buttons
        self.threads = threads

    async def approvals_opened(
        self, conn: AsyncConnection, case: Case, approvals: list[ApprovalRecord]
    ) -> None:
        """Queues one Block Kit message per case listing its newly opened approvals."""
        stored = await case_store.get_case(conn, case.case_id)
        classification = stored.result.classification if stored.result else None
        text, blocks = approval_message(
            case, classification, approvals, self.public_url, interactive=self.buttons
        )
        ids = sorted(a.approval_id for a in approvals)
        await enqueue_post(
            conn,
            case_id=case.case_id,
            action=APPROVAL,
            key=slack_key("approval", case.case_id, *ids),
            channel=self.config.channel_for(case) or "",
            text=text,
            blocks=blocks,
        )

    async def case_changed(self, conn: AsyncConnection, case_id: str, status: str) -> None:
        """Queues an update of each approval message of the case and a thread reply."""
        link = case_url(self.public_url, case_id)
        for row in await outbox_store.rows(conn, case_id=case_id):
            if row.kind != "slack" or row.action != APPROVAL:
                continue
            channel = str(row.payload.get("channel", ""))
            if self.threads:
                text, blocks = decided_message(row.payload.get("blocks", []), status, link)
                await outbox_store.enqueue(
                    conn,
                    kind="slack",
                    case_id=case_id,
                    action=UPDATE,
                    idempotency_key=slack_key("update", row.idempotency_key, status),
                    payload={
                        "op": "update",
                        "target_key": row.idempotency_key,
                        "text": text,
                        "blocks": blocks,
                    },
                )
            text, blocks = status_reply(case_id, status)
            await enqueue_post(
                conn,
                case_id=case_id,
                action=REPLY,
                key=slack_key("reply", row.idempotency_key, status),
                channel=channel,
                text=text,
                blocks=blocks,
                thread_key=row.idempotency_key if self.threads else None,
            )


class SlackDelivery:
    """Delivers "slack" outbox rows; a key whose message was posted is never posted again."""

    def __init__(self, api: SlackApi, db: Database) -> None:
        self.api = api
        self.db = db

    async def __call__(self, row: OutboxRow) -> dict[str, object]:
        """Posts or updates the row's message and returns audit detail."""
        if row.payload.get("op") == "update":
            return await self._update(row)
        return await self._post(row)

    async def _posted(
        self, conn: AsyncConnection, row: OutboxRow, key: str
    ) -> slack_store.PostedMessage | None:
        """Returns the message posted for key; retries later while that post is still queued."""
        posted = await slack_store.find(conn, key)
        if posted is not None:
            return posted
        queued = [
            r
            for r in await outbox_store.rows(conn, case_id=row.case_id)
            if r.idempotency_key == key
        ]
        if queued and queued[0].status is OutboxStatus.pending:
            raise RetryableIntegrationError(
                f"Slack message {key} is not posted yet", retry_after=1.0
            )
        return None

    async def _post(self, row: OutboxRow) -> dict[str, object]:
        thread_key = row.payload.get("thread_key")
        async with self.db.transaction() as conn:
            done = await slack_store.find(conn, row.idempotency_key)
            parent = await self._posted(conn, row, thread_key) if thread_key else None
        if done is not None:
            return {
                "adapter": self.api.name,
                "channel": done.channel,
                "ts": done.ts,
                "duplicate": True,
            }
        channel = str(row.payload.get("channel", ""))
        thread_ts = parent.ts if parent and parent.ts else None
        ts = await self.api.post_message(
            channel,
            str(row.payload.get("text", "")),
            row.payload.get("blocks", []),
            thread_ts=thread_ts,
        )
        message = slack_store.PostedMessage(
            row.idempotency_key, row.case_id, channel, ts, thread_ts
        )
        async with self.db.transaction() as conn:
            await slack_store.remember(conn, message)
        return {
            "adapter": self.api.name,
            "channel": channel,
            "ts": ts,
            "thread_ts": thread_ts,
            "duplicate": False,
        }

    async def _update(self, row: OutboxRow) -> dict[str, object]:
        target = str(row.payload.get("target_key", ""))
        async with self.db.transaction() as conn:
            original = await self._posted(conn, row, target)
        if original is None or not original.ts:
            return {"adapter": self.api.name, "skipped": "the original message was never posted"}
        await self.api.update_message(
            original.channel,
            original.ts,
            str(row.payload.get("text", "")),
            row.payload.get("blocks", []),
        )
        return {"adapter": self.api.name, "channel": original.channel, "ts": original.ts}


@dataclass
class SlackWiring:
    """The Slack parts built once from Settings: adapter, configuration and notifier."""

    api: SlackApi
    config: SlackConfig
    notifier: SlackNotifier
    signing_secret: str | None
    public_url: str

    @property
    def interactive(self) -> bool:
        """Tells whether buttons and POST /slack/actions are on (bot token and signing secret)."""
        return self.signing_secret is not None and self.api.interactive


def build_slack_api(settings: Settings) -> SlackApi | None:
    """Returns the Web API adapter (bot token), the webhook adapter, or None."""
    # Imported only when configured: slack_sdk and aiohttp cost start-up time most runs never use.
    if settings.slack_bot_token is not None:
        from tools.slack.web import WebSlack

        return WebSlack(
            settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            webhook_url=settings.slack_webhook_url,
        )
    if settings.slack_webhook_url:
        from tools.slack.webhook import WebhookSlack

        return WebhookSlack(settings.slack_webhook_url)
    return None


def build_slack(settings: Settings, api: SlackApi | None = None) -> SlackWiring | None:
    """Returns the Slack wiring, or None when neither a bot token nor a webhook is configured."""
    api = api or build_slack_api(settings)
    if api is None:
        return None
    config = load_slack_config(settings.slack_config_file)
    if api.interactive and not config.default_channel:
        raise ConfigurationError("the Slack config needs a default_channel when a bot token is set")
    secret = settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret and api.interactive else None
    notifier = SlackNotifier(
        config,
        settings.public_url,
        buttons=signing_secret is not None,
        threads=api.interactive,
    )
    return SlackWiring(api, config, notifier, signing_secret, settings.public_url)
