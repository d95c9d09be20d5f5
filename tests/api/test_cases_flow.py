"""The core case flow through HTTP on both stores: triage, approval, posting, routing, intake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cases import make_case, make_cutoff_case, make_inventory_case, make_unknown_case
from tests.support.service import (
    Service,
    basic,
    bearer,
    in_order,
    running_service,
    seeded_store,
    table_rows,
)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Any
) -> Iterator[Service]:
    """A running service on a private copy of the seeded store."""
    root = tmp_path_factory.getbasetemp()
    with (
        seeded_store(request.param, tmp_path, root) as store,
        running_service(store.data_dir, database_url=store.database_url) as svc,
    ):
        yield svc


def test_approving_an_erp_posting_posts_once_and_resolves_the_case(service: Service) -> None:
    """A clear inventory discrepancy waits for approval; one approval gives one sandbox posting."""
    case = make_inventory_case(amount=3200.0)
    response = service.submit(case)
    assert response.status_code == 201, response.text
    triage = response.json()
    assert triage["status"] == "pending_approval"
    assert triage["classification"]["cause"] == "inventory_discrepancy"
    approval = service.approval_for(case["case_id"], "post_inventory_adjustment")
    assert approval["status"] == "pending"
    assert approval["required_approvals"] == 1
    assert approval["params"]["quantity_delta"] == -12
    assert service.postings(case["case_id"]) == []

    decided = service.decide(approval["approval_id"], basic("alice"), reason="count confirmed")
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"

    final = service.wait_for(case["case_id"], "resolved")
    assert "post_inventory_adjustment" in final["executed"]
    postings = service.postings(case["case_id"])
    assert len(postings) == 1
    assert postings[0]["action"] == "post_inventory_adjustment"
    assert postings[0]["approvers"] == ["alice"]
    assert postings[0]["payload"]["params"]["sku"] == "SKU-4410"
    kinds = service.audit_kinds(case["case_id"])
    assert kinds[0] == "case.received"
    assert in_order(
        kinds,
        [
            "case.received",
            "case.classified",
            "policy.decision",
            "approval.requested",
            "case.status",
            "approval.approved",
            "approval.complete",
            "posting.queued",
            "erp.delivered",
            "case.status",
        ],
    ), kinds
    assert kinds.count("erp.delivered") == 1
    statuses = [
        e["detail"]["status"] for e in service.audit(case["case_id"]) if e["kind"] == "case.status"
    ]
    assert statuses[-1] == "resolved"


def test_a_case_waiting_for_approval_already_lists_the_automatic_actions_that_ran(
    service: Service,
) -> None:
    """The stored result shows what ran when the gate decided, not only once the case closes."""
    case = make_inventory_case(amount=3200.0)
    triage = service.submit(case).json()
    assert triage["status"] == "pending_approval"
    automatic = [d["action"] for d in triage["decisions"] if d["outcome"] == "auto"]
    assert automatic, "the inventory case proposes an automatic cycle count"
    started = {
        e["detail"]["action"]
        for e in service.audit(case["case_id"])
        if e["kind"] == "action.executed"
    }
    assert started == set(automatic)
    stored = service.case(case["case_id"])
    assert stored["status"] == "pending_approval"
    assert sorted(stored["executed"]) == sorted(automatic)


def test_an_approved_non_erp_action_runs_through_its_tool_and_posts_nothing(
    service: Service,
) -> None:
    """Approving a carrier rebooking records the TMS action and writes nothing to the ERP."""
    case = make_cutoff_case(amount=4200.0)
    triage = service.submit(case).json()
    assert triage["status"] == "pending_approval"
    assert triage["classification"]["cause"] == "carrier_cutoff_missed"
    approval = service.approval_for(case["case_id"], "rebook_carrier")
    assert approval["posts_to_erp"] is False
    assert approval["params"]["shipment_id"] == "SH-55120"

    assert service.decide(approval["approval_id"], basic("bob")).status_code == 200
    # Below its automatic-execution floor, the customer notification waits for a person too.
    for other in service.approvals(case["case_id"], "pending"):
        assert service.decide(other["approval_id"], basic("bob")).status_code == 200
    final = service.wait_for(case["case_id"], "resolved")
    assert "rebook_carrier" in final["executed"]
    assert service.postings(case["case_id"]) == []
    logged = [row["action"] for row in table_rows(service.settings, "action_log", case["case_id"])]
    assert sorted(logged) == ["notify_customer", "rebook_carrier"]


def test_a_rejection_posts_nothing(service: Service) -> None:
    """Rejecting the ERP posting leaves the sandbox empty and audits who rejected and why."""
    case = make_inventory_case()
    service.submit(case)
    approval = service.approval_for(case["case_id"], "post_inventory_adjustment")

    response = service.decide(
        approval["approval_id"], basic("alice"), "reject", reason="recount pending"
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    final = service.wait_for(case["case_id"], "rejected", "resolved")
    assert "post_inventory_adjustment" not in final["executed"]
    time.sleep(0.5)  # give the outbox worker a few polls to (wrongly) deliver something
    assert service.postings(case["case_id"]) == []
    rows = table_rows(service.settings, "outbox", case["case_id"])
    assert [row["kind"] for row in rows] == ["resume"]
    rejected = [e for e in service.audit(case["case_id"]) if e["kind"] == "approval.rejected"]
    assert len(rejected) == 1
    assert rejected[0]["actor"] == "person:alice"
    assert rejected[0]["detail"]["reason"] == "recount pending"


def test_a_rejection_without_a_reason_is_a_422_naming_reason(service: Service) -> None:
    """A rejection needs a reason; the approval stays pending."""
    case = make_inventory_case()
    service.submit(case)
    approval = service.approval_for(case["case_id"], "post_inventory_adjustment")

    for body in ({}, {"reason": "   "}):
        response = service.decide(approval["approval_id"], basic("alice"), "reject", **body)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "reason"
    assert service.approval_for(case["case_id"], "post_inventory_adjustment")["status"] == "pending"


def test_an_unknown_cause_is_routed_and_nothing_is_executed(service: Service) -> None:
    """A case without evidence is `unknown`: routed to a person, no action and no posting."""
    case = make_unknown_case()
    response = service.submit(case)
    assert response.status_code == 201, response.text
    triage = response.json()
    assert triage["status"] == "routed"
    assert triage["classification"]["cause"] == "unknown"
    assert triage["classification"]["routed_reason"]
    assert triage["executed"] == []
    assert all(d["outcome"] != "auto" for d in triage["decisions"])
    time.sleep(0.5)  # a few dispatcher polls
    assert service.postings(case["case_id"]) == []
    assert table_rows(service.settings, "action_log", case["case_id"]) == []
    assert table_rows(service.settings, "outbox", case["case_id"]) == []
    kinds = service.audit_kinds(case["case_id"])
    assert not {"action.executed", "posting.queued", "erp.delivered"} & set(kinds)
    assert service.case(case["case_id"])["status"] == "routed"


def test_a_duplicate_post_returns_the_same_triage_and_creates_nothing_twice(
    service: Service,
) -> None:
    """The same id and body again is a 200 with the identical triage; nothing is stored twice."""
    case = make_inventory_case()
    first = service.submit(case)
    second = service.submit(case)
    assert (first.status_code, second.status_code) == (201, 200)
    one, two = first.json(), second.json()
    for key in ("classification", "proposals", "decisions", "approval_ids", "status"):
        assert one[key] == two[key], key
    assert len(table_rows(service.settings, "cases", case["case_id"])) == 1
    assert len(service.approvals(case["case_id"])) == 1
    assert service.audit_kinds(case["case_id"]).count("case.received") == 1
    assert service.audit_kinds(case["case_id"]).count("approval.requested") == 1


def test_the_same_id_with_a_different_body_is_a_409(service: Service) -> None:
    """A second body under a known case id conflicts and changes nothing."""
    case = make_inventory_case()
    assert service.submit(case).status_code == 201
    changed = {**case, "stalled_step": "something else entirely"}
    response = service.submit(changed)
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "conflict"
    assert service.audit_kinds(case["case_id"]).count("case.received") == 1


def test_wait_false_returns_202_with_a_location_to_poll(service: Service) -> None:
    """An asynchronous submit answers at once; polling the Location shows the finished triage."""
    case = make_cutoff_case()
    response = service.submit(case, wait=False)
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location.endswith(f"/v1/cases/{case['case_id']}")
    deadline = time.monotonic() + 30
    while True:
        polled = service.http.get(location, headers=bearer())
        assert polled.status_code == 200
        if polled.json()["status"] != "triaging":
            break
        assert time.monotonic() < deadline, "triage never finished"
        time.sleep(0.1)
    assert polled.json()["status"] == "pending_approval"
    assert polled.json()["classification"]["cause"] == "carrier_cutoff_missed"


def _all_pages(service: Service, **filters: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(50):
        params = {**filters, **({"cursor": cursor} if cursor else {})}
        response = service.http.get("/v1/cases", params=params, headers=bearer())
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= filters["limit"]
        ids += [item["case_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ended")


def test_listing_cases_pages_without_duplicates_or_gaps(service: Service) -> None:
    """Filters by site, status and cause, and the cursor walks every match exactly once."""
    site = f"DC-PAGE-{time.monotonic_ns() % 100000}"
    routed = [make_unknown_case(site=site) for _ in range(4)]
    cutoffs = [make_cutoff_case(site=site) for _ in range(3)]
    for case in routed + cutoffs:
        assert service.submit(case).status_code == 201
    service.submit(make_cutoff_case(site="DC-ELSEWHERE"))

    every = _all_pages(service, site=site, limit=2)
    assert len(every) == len(set(every)) == 7
    assert set(every) == {c["case_id"] for c in routed + cutoffs}
    assert sorted(_all_pages(service, site=site, status="routed", limit=3)) == sorted(
        c["case_id"] for c in routed
    )
    assert sorted(_all_pages(service, site=site, cause="carrier_cutoff_missed", limit=1)) == sorted(
        c["case_id"] for c in cutoffs
    )
    newest_first = _all_pages(service, site=site, limit=500)
    assert newest_first == every


def test_a_minimal_case_with_only_the_required_fields_is_accepted(service: Service) -> None:
    """Only case_id, workflow, stalled_step, detected_at and site are required."""
    response = service.submit(make_case())
    assert response.status_code == 201, response.text
