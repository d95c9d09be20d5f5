"""POST /slack/actions: signed interactions reach the review desk under the same policy gate."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from app.wiring import Runtime
from core.approvals import ApprovalRecord
from core.principals import Principal, PrincipalKind
from core.store import approvals as approval_store
from core.store import audit, identity
from tests.support.slack import (
    FixedClassifier,
    block_actions,
    make_slack_case,
    signed,
    slack_settings,
    submit,
    view_submission,
)
from tests.support.slack_server import FakeSlackServer

ALICE = Principal(name="alice", kind=PrincipalKind.person, roles=frozenset({"ops_supervisor"}))
REVIEWERS = {"alice": ["ops_supervisor"], "bob": ["ops_supervisor"], "erin": ["finance_approver"]}


@dataclass
class Harness:
    """A running app with the fake Slack behind it."""

    client: TestClient
    slack: FakeSlackServer
    runtime: Runtime
    cases: int = 0

    def open_approval(self, submitter: Principal | None = None) -> str:
        """Submits a fresh case and returns its one approval id."""
        self.cases += 1
        case = make_slack_case(f"C-{self.cases}")

        async def run() -> list[str]:
            return await submit(self.runtime, case, *([submitter] if submitter else []))

        [approval_id] = self.client.portal.call(run)  # type: ignore[union-attr]
        return approval_id

    def approval(self, approval_id: str) -> ApprovalRecord:
        async def run() -> ApprovalRecord:
            async with self.runtime.db.transaction() as conn:
                return await approval_store.get_approval(conn, approval_id)

        return self.client.portal.call(run)  # type: ignore[union-attr]

    def post(self, body: str, headers: dict[str, str] | None = None) -> object:
        return self.client.post("/slack/actions", content=body, headers=headers or signed(body))

    def ephemerals(self, user: str) -> list[str]:
        return [
            c.body["text"] for c in self.slack.named("chat.postEphemeral") if c.body["user"] == user
        ]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    data_dir = tmp_path_factory.mktemp("slack-actions") / "data"
    with FakeSlackServer() as slack:
        settings = slack_settings(data_dir, slack.base_url, outbox_poll_s=0.1)
        with TestClient(create_app(settings)) as client:
            runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]

            async def seed() -> None:
                runtime.deps.classifiers.replace(FixedClassifier())
                async with runtime.db.transaction() as conn:
                    for name, roles in REVIEWERS.items():
                        await identity.add_user(conn, name, "password-" + name, roles)

            client.portal.call(seed)  # type: ignore[union-attr]
            yield Harness(client, slack, runtime)


def test_a_bad_signature_is_refused_with_401(harness: Harness) -> None:
    approval_id = harness.open_approval()
    body = block_actions("U-BOB", "triage_approve", approval_id)
    response = harness.post(body, signed(body, secret="not-the-secret"))
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert harness.approval(approval_id).status == "pending"


def test_a_stale_timestamp_is_refused_with_401(harness: Harness) -> None:
    approval_id = harness.open_approval()
    body = block_actions("U-BOB", "triage_approve", approval_id)
    response = harness.post(body, signed(body, at=time.time() - 6 * 60))
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert harness.approval(approval_id).status == "pending"


def test_an_unknown_slack_user_gets_an_ephemeral_and_nothing_is_decided(harness: Harness) -> None:
    approval_id = harness.open_approval()
    response = harness.post(block_actions("U-NOBODY", "triage_approve", approval_id))
    assert response.status_code == 200  # type: ignore[attr-defined]
    [message] = harness.ephemerals("U-NOBODY")
    assert "not linked to a reviewer" in message
    assert harness.approval(approval_id).votes == []


def test_segregation_of_duties_is_refused_with_the_reason_in_an_ephemeral(
    harness: Harness,
) -> None:
    approval_id = harness.open_approval(submitter=ALICE)
    harness.post(block_actions("U-ALICE", "triage_approve", approval_id))
    [message] = harness.ephemerals("U-ALICE")
    assert message.startswith("Refused (segregation-of-duties): alice submitted this proposal")
    assert harness.approval(approval_id).status == "pending"

    async def refusals() -> list[str]:
        async with harness.runtime.db.transaction() as conn:
            entries = await audit.entries(conn, kind="approval.refused")
        return [e.detail["rule"] for e in entries if e.detail["approval_id"] == approval_id]

    assert harness.client.portal.call(refusals) == ["segregation-of-duties"]  # type: ignore[union-attr]


def test_a_reviewer_without_the_role_is_refused(harness: Harness) -> None:
    approval_id = harness.open_approval()
    harness.post(block_actions("U-ERIN", "triage_approve", approval_id))
    assert harness.ephemerals("U-ERIN")[-1].startswith("Refused (approver-role)")
    assert harness.approval(approval_id).status == "pending"


def test_approve_records_the_mapped_reviewers_vote(harness: Harness) -> None:
    approval_id = harness.open_approval()
    response = harness.post(block_actions("U-BOB", "triage_approve", approval_id))
    assert (response.status_code, response.content) == (200, b"")  # type: ignore[attr-defined]
    record = harness.approval(approval_id)
    assert record.status == "approved"
    assert [(v.actor, v.decision) for v in record.votes] == [("bob", "approve")]
    assert f"({approval_id}) is recorded" in harness.ephemerals("U-BOB")[-1]


def test_reject_opens_a_modal_asking_for_the_reason(harness: Harness) -> None:
    approval_id = harness.open_approval()
    harness.post(block_actions("U-BOB", "triage_reject", approval_id))
    [opened] = [
        c for c in harness.slack.named("views.open") if c.body["trigger_id"] == "trigger-U-BOB"
    ]
    view = opened.body["view"]
    assert view["callback_id"] == "triage_reject_modal"
    assert json.loads(view["private_metadata"])["approval_id"] == approval_id
    assert view["blocks"][0]["type"] == "input"
    assert harness.approval(approval_id).status == "pending"


def test_an_empty_reason_is_answered_with_a_field_error(harness: Harness) -> None:
    approval_id = harness.open_approval()
    response = harness.post(view_submission("U-BOB", approval_id, "   "))
    assert response.json() == {  # type: ignore[attr-defined]
        "response_action": "errors",
        "errors": {"reason_block": "A rejection needs a reason."},
    }
    assert harness.approval(approval_id).status == "pending"


def test_submitting_the_modal_rejects_with_the_reason(harness: Harness) -> None:
    approval_id = harness.open_approval()
    response = harness.post(view_submission("U-BOB", approval_id, "carrier already rebooked"))
    assert response.status_code == 200  # type: ignore[attr-defined]
    record = harness.approval(approval_id)
    assert record.status == "rejected"
    assert [(v.actor, v.reason) for v in record.votes] == [("bob", "carrier already rebooked")]


def test_the_route_is_not_mounted_without_a_signing_secret(tmp_path: Path) -> None:
    settings = slack_settings(
        tmp_path / "data", "http://127.0.0.1:9/api/", slack_signing_secret=None
    )
    paths = {getattr(r, "path", "") for r in create_app(settings).routes}
    assert "/slack/actions" not in paths
