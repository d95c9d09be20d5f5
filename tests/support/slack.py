"""Factories for Slack tests: settings, a fixed classifier, cases, runtimes and signed payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from agent.classifiers.base import CauseScores, ClassifierInput
from app.wiring import Overrides, Runtime, open_runtime
from core.models import Case
from core.principals import Principal, PrincipalKind
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import identity
from tests.support.cases import make_case
from tools.embedding.fake import FakeEmbedder
from tools.erp.fake import FakeErp
from tools.retrieval.fake import FakeContextIndex

SECRET = "test-signing-secret"
ORCHESTRATOR = Principal(name="orchestrator", kind=PrincipalKind.api_key)
CONFIG = """
default_channel = "C-DEFAULT"
escalation_channel = "C-ESCALATE"
reminder_fraction = 0.8

[channels.sites]
DC-ATL = "C-ATL"

[channels.queues]
invoice_match = "C-FINANCE"

[approver_groups]
ops_supervisor = "<!subteam^S-OPS>"
default = "<!subteam^S-ANY>"

[users]
U-ALICE = "alice"
U-BOB = "bob"
U-ERIN = "erin"
"""
REVIEWERS = {"alice": ["ops_supervisor"], "bob": ["ops_supervisor"], "erin": ["finance_approver"]}


class FixedClassifier:
    """Puts most probability on one cause, so the gate opens approvals for its playbook."""

    name = "fixed"

    def __init__(self, cause: str = "carrier_cutoff_missed", confidence: float = 0.92) -> None:
        self.cause = cause
        self.confidence = confidence

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Returns the fixed distribution."""
        probabilities = {self.cause: self.confidence, "unknown": 1 - self.confidence}
        return CauseScores(probabilities=probabilities, classifier=self.name)


def write_config(directory: Path, text: str = CONFIG) -> Path:
    """Writes a Slack config file and returns its path."""
    path = directory / "slack.toml"
    path.write_text(text)
    return path


def slack_settings(data_dir: Path, api_url: str | None, **over: Any) -> Settings:
    """Returns settings with a bot token, signing secret and config pointing at the fake Slack."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SECRET,
        "slack_api_url": api_url,
        "slack_config_file": write_config(data_dir.parent),
        "public_url": "http://triage.test",
        "outbox_max_attempts": 3,
    }
    return Settings(**{**values, **over})


def make_slack_case(case_id: str = "C-1", **over: Any) -> Case:
    """Returns a carrier-cutoff case at DC-ATL, detected an hour ago and due in nine hours.

    The carrier's own pickup-missed event backs the cause, so the customer notice runs alone and
    the rebooking is the case's one approval.
    """
    now = datetime.now(UTC)
    missed = {
        "at": now - timedelta(hours=1, minutes=10),
        "system": "CARRIER",
        "type": "pickup_missed",
        "detail": "Pickup missed: driver departed at cutoff",
        "code": "T3",
    }
    body: dict[str, Any] = {
        "case_id": case_id,
        "workflow": "pick_pack",
        "stalled_step": "carrier pickup missed",
        "detected_at": now - timedelta(hours=1),
        "sla_due_at": now + timedelta(hours=9),
        "site": "DC-ATL",
        "refs": {"order_id": "SO-1", "customer_id": "CU-1"},
        "amount": {"value": 4200.0, "currency": "USD"},
        "events": [missed],
    }
    return Case.model_validate(make_case(**{**body, **over}))


@asynccontextmanager
async def slack_runtime(settings: Settings, **over: Any) -> AsyncIterator[Runtime]:
    """Opens a runtime with fakes for retrieval and ERP, the fixed classifier and three reviewers."""
    overrides = Overrides(erp=FakeErp(), index=FakeContextIndex(FakeEmbedder()), **over)
    async with open_runtime(settings, overrides) as runtime:
        runtime.deps.classifiers.replace(FixedClassifier())
        async with runtime.db.transaction() as conn:
            for name, roles in REVIEWERS.items():
                await identity.add_user(conn, name, "password-" + name, roles)
        yield runtime


async def submit(runtime: Runtime, case: Case, by: Principal = ORCHESTRATOR) -> list[str]:
    """Submits a case and returns the ids of the approvals it opened."""
    await runtime.service.submit(case, by)
    async with runtime.db.transaction() as conn:
        records = await approval_store.list_approvals(conn, case_id=case.case_id)
    return [r.approval_id for r in records]


def signed(body: str, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    """Returns Slack's signature headers for a body: v0 HMAC-SHA256 of `v0:{ts}:{body}`."""
    stamp = str(int(at if at is not None else time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def block_actions(user: str, action_id: str, approval_id: str, channel: str = "C-ATL") -> str:
    """Returns the form body of a block_actions interaction on an approval button."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T000"},
        "api_app_id": "A000",
        "team": {"id": "T000"},
        "channel": {"id": channel, "name": "triage"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel},
        "trigger_id": "trigger-" + user,
        "response_url": "https://hooks.slack.invalid/actions/T000/1/x",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"approval:{approval_id}",
                "value": approval_id,
                "action_ts": "1700000001.000000",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission(user: str, approval_id: str, reason: str, channel: str = "C-ATL") -> str:
    """Returns the form body of the reject modal's view_submission."""
    payload = {
        "type": "view_submission",
        "user": {"id": user, "username": user.lower(), "team_id": "T000"},
        "team": {"id": "T000"},
        "api_app_id": "A000",
        "trigger_id": "trigger-view",
        "view": {
            "id": "V000",
            "type": "modal",
            "callback_id": "triage_reject_modal",
            "private_metadata": json.dumps({"approval_id": approval_id, "channel": channel}),
            "state": {
                "values": {
                    "reason_block": {"reason_input": {"type": "plain_text_input", "value": reason}}
                }
            },
        },
    }
    return urlencode({"payload": json.dumps(payload)})
