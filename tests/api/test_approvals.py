"""Who may decide on an approval, through HTTP: segregation of duties, roles, people, four eyes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cases import make_inventory_case
from tests.support.service import ADMIN_KEY, Service, basic, bearer, running_service, seeded_store

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ACTION = "post_inventory_adjustment"


@pytest.fixture
def service(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Service]:
    """A running service on a private copy of the seeded SQLite store."""
    root = tmp_path_factory.getbasetemp()
    with (
        seeded_store("sqlite", tmp_path, root) as store,
        running_service(store.data_dir, database_url=store.database_url) as svc,
    ):
        yield svc


@pytest.fixture(params=STORES)
def any_store_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[Service]:
    """A running service on a private copy of the seeded store, SQLite or PostgreSQL."""
    root = tmp_path_factory.getbasetemp()
    with (
        seeded_store(request.param, tmp_path, root) as store,
        running_service(store.data_dir, database_url=store.database_url) as svc,
    ):
        yield svc


def _pending(service: Service, who: dict[str, str] | None = None, **over: Any) -> dict[str, Any]:
    case = make_inventory_case(**over)
    response = service.submit(case, as_=who)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending_approval", response.json()["classification"]
    return service.approval_for(case["case_id"], ACTION)


def _refusals(service: Service, case_id: str) -> list[dict[str, Any]]:
    return [e for e in service.audit(case_id) if e["kind"] == "approval.refused"]


def _assert_refused(response: Any, rule: str) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == "policy_refusal"
    assert body["rule"] == rule
    assert body["message"]
    return body


def test_the_proposer_cannot_approve_their_own_case(service: Service) -> None:
    """A person who submitted the case by HTTP Basic gets a 403 segregation-of-duties."""
    approval = _pending(service, who=basic("alice"))
    assert approval["proposed_by"] == "person:alice"

    body = _assert_refused(
        service.decide(approval["approval_id"], basic("alice")), "segregation-of-duties"
    )
    assert "alice" in body["message"]
    refused = _refusals(service, approval["case_id"])
    assert len(refused) == 1
    assert refused[0]["actor"] == "person:alice"
    assert refused[0]["detail"]["rule"] == "segregation-of-duties"
    assert refused[0]["detail"]["reason"] == body["message"]
    assert service.postings(approval["case_id"]) == []

    assert service.decide(approval["approval_id"], basic("bob")).status_code == 200
    service.wait_for(approval["case_id"], "resolved")
    assert len(service.postings(approval["case_id"])) == 1


def test_the_editor_cannot_approve_the_edited_proposal(service: Service) -> None:
    """An edit re-runs the gate; the editor is then refused and another person posts the edit."""
    approval = _pending(service)
    edited = service.decide(
        approval["approval_id"],
        basic("bob"),
        "edit",
        reason="recount found 5",
        params={"quantity_delta": -11},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["params"]["quantity_delta"] == -11
    assert edited.json()["edited_by"] == ["bob"]
    assert edited.json()["status"] == "pending"

    body = _assert_refused(
        service.decide(approval["approval_id"], basic("bob")), "segregation-of-duties"
    )
    assert "edited" in body["message"]
    kinds = service.audit_kinds(approval["case_id"])
    assert kinds.index("approval.edited") < kinds.index("approval.refused")

    assert service.decide(approval["approval_id"], basic("alice")).status_code == 200
    service.wait_for(approval["case_id"], "resolved")
    postings = service.postings(approval["case_id"])
    assert len(postings) == 1
    assert postings[0]["payload"]["params"]["quantity_delta"] == -11


def test_an_edit_without_params_is_a_422(service: Service) -> None:
    """An edit must carry the new parameters."""
    approval = _pending(service)
    response = service.decide(approval["approval_id"], basic("bob"), "edit", reason="x")
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "params"


def test_an_api_key_can_never_approve(service: Service) -> None:
    """Even an admin key gets the gate's 403 person-only, audited; other keys stop at their scope."""
    approval = _pending(service)
    _assert_refused(service.decide(approval["approval_id"], bearer(ADMIN_KEY)), "person-only")
    _assert_refused(service.decide(approval["approval_id"], bearer()), "key-scope")
    refused = _refusals(service, approval["case_id"])
    assert [(r["actor"], r["detail"]["rule"]) for r in refused] == [
        ("api_key:test-admin", "person-only")
    ]
    assert service.approval_for(approval["case_id"], ACTION)["status"] == "pending"


def test_a_person_without_the_approver_role_is_refused(service: Service) -> None:
    """erin (finance only) cannot approve an inventory adjustment: 403 approver-role."""
    approval = _pending(service)
    body = _assert_refused(service.decide(approval["approval_id"], basic("erin")), "approver-role")
    assert "inventory_controller" in body["message"]
    refused = _refusals(service, approval["case_id"])
    assert [(r["actor"], r["detail"]["rule"]) for r in refused] == [
        ("person:erin", "approver-role")
    ]
    assert service.postings(approval["case_id"]) == []


def test_a_decided_approval_cannot_be_decided_again(service: Service) -> None:
    """Voting on an approval that is no longer pending is a 409."""
    approval = _pending(service)
    assert service.decide(approval["approval_id"], basic("alice")).status_code == 200
    service.wait_for(approval["case_id"], "resolved")
    response = service.decide(approval["approval_id"], basic("bob"))
    assert response.status_code == 409, response.text
    assert len(service.postings(approval["case_id"])) == 1


def test_the_pending_queue_lists_open_approvals(service: Service) -> None:
    """GET /v1/approvals?status=pending shows the open approval and drops it once decided."""
    approval = _pending(service)
    pending = service.http.get(
        "/v1/approvals", params={"status": "pending"}, headers=basic("carol")
    )
    assert pending.status_code == 200
    assert approval["approval_id"] in {a["approval_id"] for a in pending.json()["items"]}
    service.decide(approval["approval_id"], basic("carol"))
    after = service.http.get("/v1/approvals", params={"status": "pending"}, headers=basic("carol"))
    assert approval["approval_id"] not in {a["approval_id"] for a in after.json()["items"]}


def test_above_the_threshold_two_different_people_must_approve(any_store_service: Service) -> None:
    """Over 10,000 one approval keeps the case pending, the same person twice is refused."""
    service = any_store_service
    approval = _pending(service, amount=12_000.0)
    assert approval["required_approvals"] == 2
    case_id = approval["case_id"]

    first = service.decide(approval["approval_id"], basic("alice"))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending"
    assert service.case(case_id)["status"] == "pending_approval"
    assert service.postings(case_id) == []

    again = service.decide(approval["approval_id"], basic("alice"))
    assert again.status_code == 403, again.text
    assert again.json()["rule"] == "four-eyes"
    assert service.postings(case_id) == []

    second = service.decide(approval["approval_id"], basic("bob"))
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "approved"
    service.wait_for(case_id, "resolved")
    postings = service.postings(case_id)
    assert len(postings) == 1
    assert sorted(postings[0]["approvers"]) == ["alice", "bob"]
    assert service.audit_kinds(case_id).count("approval.approved") == 2
