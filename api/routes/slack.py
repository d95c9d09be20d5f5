"""POST /slack/actions: signed Slack interactions (buttons and the reject modal) to the desk."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier

from api.auth import runtime_of
from app.wiring import Runtime
from core.approvals import VoteDecision
from core.errors import AuthenticationFailed, InvalidInput, NotFound, TriageError
from core.principals import Principal
from core.store import identity
from notify.slack.blocks import (
    APPROVE,
    REASON_BLOCK,
    REJECT,
    REJECT_MODAL,
    reject_modal,
    submitted_reason,
)
from notify.slack.notifier import SlackWiring

log = logging.getLogger(__name__)
router = APIRouter(tags=["slack"])


def verify_signature(secret: str, body: bytes, headers: Any) -> None:
    """Raises AuthenticationFailed unless the body is signed by Slack within the last 5 minutes."""
    try:
        valid = SignatureVerifier(secret).is_valid_request(body, dict(headers))
    except ValueError:  # a timestamp that is not a number
        valid = False
    if not valid:
        raise AuthenticationFailed("bad or stale Slack signature")


def parse_payload(body: bytes) -> dict[str, Any]:
    """Returns the JSON of the form-encoded `payload` field Slack sends."""
    try:
        payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
    except (KeyError, IndexError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("expected a form field `payload` with JSON", field="payload") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("the payload must be a JSON object", field="payload")
    return payload


class SlackInteraction:
    """Carries out one interaction after it was acknowledged; answers through ephemerals."""

    def __init__(self, runtime: Runtime, slack: SlackWiring, user: str, channel: str | None):
        self.runtime = runtime
        self.slack = slack
        self.user = user
        self.channel = channel or slack.config.default_channel or ""

    async def tell(self, text: str) -> None:
        """Shows the user an ephemeral message; a failure is logged, never raised."""
        try:
            await self.slack.api.post_ephemeral(self.channel, self.user, text)
        except TriageError as exc:
            log.warning("cannot send an ephemeral message to %s: %s", self.user, exc.message)

    async def reviewer(self) -> Principal | None:
        """Returns the reviewer mapped to the Slack user, telling them when there is none."""
        username = self.slack.config.reviewer_for(self.user)
        principal = None
        if username:
            async with self.runtime.db.transaction() as conn:
                principal = await identity.person(conn, username)
        if principal is None:
            await self.tell("Your Slack account is not linked to a reviewer; nothing was decided.")
        return principal

    async def decide(self, approval_id: str, decision: VoteDecision, reason: str | None) -> None:
        """Records the decision through the review desk, answering a refusal with its reason."""
        voter = await self.reviewer()
        if voter is None:
            return
        try:
            record = await self.runtime.desk.decide(approval_id, voter, decision, reason)
        except TriageError as exc:
            rule = getattr(exc, "rule", None)
            prefix = f"Refused ({rule})" if rule else "Not recorded"
            await self.tell(f"{prefix}: {exc.message}")
            return
        await self.tell(
            f"Your {decision} of {record.action} ({approval_id}) is recorded; "
            f"the approval is now {record.status.value}."
        )

    async def open_reject(self, approval_id: str, trigger_id: str) -> None:
        """Opens the modal asking for the reason of a rejection, for a known reviewer."""
        if await self.reviewer() is None:
            return
        try:
            await self.slack.api.open_view(trigger_id, reject_modal(approval_id, self.channel))
        except TriageError as exc:
            await self.tell(f"Cannot open the rejection form: {exc.message}")


def _slack_of(runtime: Runtime) -> SlackWiring:
    if runtime.slack is None or runtime.slack.signing_secret is None:
        raise NotFound("Slack interactivity is not configured")
    return runtime.slack


def _on_block_actions(
    runtime: Runtime, slack: SlackWiring, payload: dict[str, Any], background: BackgroundTasks
) -> Response:
    """Schedules an approval, or the reject modal, for each button pressed."""
    user = str(payload.get("user", {}).get("id", ""))
    interaction = SlackInteraction(runtime, slack, user, payload.get("channel", {}).get("id"))
    for action in payload.get("actions", []):
        approval_id = str(action.get("value", ""))
        if action.get("action_id") == APPROVE:
            background.add_task(interaction.decide, approval_id, "approve", None)
        elif action.get("action_id") == REJECT:
            trigger = str(payload.get("trigger_id", ""))
            background.add_task(interaction.open_reject, approval_id, trigger)
    return Response(status_code=200)


def _on_view_submission(
    runtime: Runtime, slack: SlackWiring, payload: dict[str, Any], background: BackgroundTasks
) -> Response:
    """Schedules the rejection typed into the modal, or returns a field error for no reason."""
    view = payload.get("view", {})
    if view.get("callback_id") != REJECT_MODAL:
        return Response(status_code=200)
    reason = submitted_reason(view)
    if not reason:
        errors = {REASON_BLOCK: "A rejection needs a reason."}
        return JSONResponse({"response_action": "errors", "errors": errors})
    meta = json.loads(view.get("private_metadata") or "{}")
    user = str(payload.get("user", {}).get("id", ""))
    interaction = SlackInteraction(runtime, slack, user, meta.get("channel"))
    background.add_task(interaction.decide, str(meta.get("approval_id", "")), "reject", reason)
    return Response(status_code=200)


@router.post("/slack/actions", response_model=None)
async def slack_actions(request: Request, background: BackgroundTasks) -> Response:
    """Verifies and acknowledges a Slack interaction at once; the decision runs afterwards."""
    runtime = runtime_of(request)
    slack = _slack_of(runtime)
    body = await request.body()
    verify_signature(slack.signing_secret or "", body, request.headers)
    payload = parse_payload(body)
    if payload.get("type") == "block_actions":
        return _on_block_actions(runtime, slack, payload, background)
    if payload.get("type") == "view_submission":
        return _on_view_submission(runtime, slack, payload, background)
    return Response(status_code=200)
