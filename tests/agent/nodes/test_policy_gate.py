"""The policy_gate node: decisions logged, approvals opened once, and the case's status moved."""

from __future__ import annotations

from typing import Any

from agent.deps import ClassifierSlot
from agent.nodes.policy_gate import make_policy_gate
from core.results import CaseStatus
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.db import Database
from tests.support.cases import T
from tests.support.nodes import ScriptedClassifier, make_deps, stored_case, through_gate


async def test_an_erp_posting_waits_for_approval_and_a_safe_action_runs_automatically(
    db: Database,
) -> None:
    deps = make_deps(db)
    case = await stored_case(db)
    state = await through_gate(deps, case)
    outcomes = {d["action"]: d["outcome"] for d in state["decisions"]}
    assert outcomes == {"create_cycle_count": "auto", "post_inventory_adjustment": "needs_approval"}
    assert state["status"] == "pending_approval"
    async with db.transaction() as conn:
        (approval,) = await approval_store.list_approvals(conn, case_id=case.case_id)
        stored = await case_store.get_case(conn, case.case_id)
        kinds = [e.kind for e in await audit.entries(conn, case_id=case.case_id)]
    assert [approval.approval_id] == state["approval_ids"]
    assert approval.action == "post_inventory_adjustment"
    assert approval.proposed_by == "api_key:test"
    assert stored.status is CaseStatus.pending_approval
    assert kinds.count("policy.decision") == 2
    assert kinds.count("approval.requested") == 1


async def test_a_rerun_after_a_crash_opens_no_approval_twice(db: Database) -> None:
    deps = make_deps(db)
    case = await stored_case(db)
    state = await through_gate(deps, case)
    again = await make_policy_gate(deps)(state)
    assert again["approval_ids"] == state["approval_ids"]
    async with db.transaction() as conn:
        approvals = await approval_store.list_approvals(conn, case_id=case.case_id)
        requested = await audit.entries(conn, case_id=case.case_id, kind="approval.requested")
    assert len(approvals) == 1
    assert len(requested) == 1


async def test_an_unknown_cause_routes_the_case_to_a_person(db: Database) -> None:
    deps = make_deps(db, classifiers=ClassifierSlot(ScriptedClassifier({"unknown": 1.0})))
    case = await stored_case(db)
    state = await through_gate(deps, case)
    assert state["approval_ids"]
    assert state["status"] == "routed"


async def test_with_nothing_to_approve_the_case_goes_straight_to_executing(db: Database) -> None:
    deps = make_deps(db)
    case = await stored_case(db)
    state = await through_gate(deps, case)
    state["proposals"] = [p for p in state["proposals"] if not p["posts_to_erp"]]
    other = await stored_case(db)
    update = await make_policy_gate(deps)({**state, "case": other.model_dump(mode="json")})
    assert update["approval_ids"] == []
    assert update["status"] == "executing"


async def test_a_confident_cause_the_case_does_not_back_runs_nothing_alone(db: Database) -> None:
    """A sure credit hold on a case holding only inventory evidence waits for a person."""
    scripted = ScriptedClassifier({"credit_hold": 0.97, "unknown": 0.03})
    deps = make_deps(db, classifiers=ClassifierSlot(scripted))
    state = await through_gate(deps, await stored_case(db))
    assert state["decisions"]
    assert all(d["outcome"] != "auto" for d in state["decisions"])
    assert any("no-own-evidence" in d["rules_fired"] for d in state["decisions"])


def _count_variance_case(where: str) -> dict[str, Any]:
    """A case whose one piece of inventory evidence sits in an event or in a message."""
    said = "Cycle count variance SKU-4410 at A-12-3: counted 4, system 16"
    if where == "event":
        events = [{"at": T.format("10:05"), "system": "WMS", "type": "count", "detail": said}]
        return {
            "stalled_step": "review pending",
            "events": events,
            "messages": [],
            "attributes": {},
        }
    message = {
        "at": T.format("10:05"),
        "channel": "chat",
        "direction": "inbound",
        "party": "internal",
        "sender": "floor lead",
        "subject": None,
        "body": said,
    }
    return {"stalled_step": "review pending", "events": [], "messages": [message], "attributes": {}}


async def test_evidence_only_in_a_message_runs_nothing_alone(db: Database) -> None:
    """The same count variance grounds an automatic cycle count from an event, not from a chat."""
    scripted = ScriptedClassifier({"inventory_discrepancy": 0.97, "unknown": 0.03})
    deps = make_deps(db, classifiers=ClassifierSlot(scripted))
    outcomes = {}
    for where in ("event", "message"):
        state = await through_gate(deps, await stored_case(db, **_count_variance_case(where)))
        assert state["classification"]["own_evidence"] == [f"cue:{where}"]
        outcomes[where] = {
            d["action"]: (d["outcome"], d["rules_fired"]) for d in state["decisions"]
        }
    assert outcomes["event"]["create_cycle_count"] == ("auto", [])
    assert outcomes["message"]["create_cycle_count"] == (
        "needs_approval",
        ["messages-only-evidence"],
    )


async def test_an_unacknowledged_po_alone_asks_nothing_of_the_supplier_alone(db: Database) -> None:
    """The missing acknowledgement is the stall itself; the supplier's own notice is a cause."""
    scripted = ScriptedClassifier({"supplier_delay": 0.97, "unknown": 0.03})
    deps = make_deps(db, classifiers=ClassifierSlot(scripted))
    notice = {
        "at": T.format("10:05"),
        "system": "SUPPLIER",
        "type": "notice",
        "detail": "Production delayed two weeks, new ship date 12/04",
    }
    outcomes = {}
    for name, events in (("symptom", []), ("notice", [notice])):
        case = await stored_case(
            db,
            workflow="supplier_confirmation",
            stalled_step="review pending",
            refs={"po_id": "PO-88120", "supplier_id": "SUP-7"},
            events=events,
            messages=[],
            attributes={"po_ack_received": False},
        )
        state = await through_gate(deps, case)
        outcomes[name] = (
            state["classification"]["own_evidence"],
            {d["action"]: (d["outcome"], d["rules_fired"]) for d in state["decisions"]},
        )
    assert outcomes["symptom"][0] == ["fact:po_ack_missing"]
    assert "cue:event" in outcomes["notice"][0]
    assert outcomes["symptom"][1]["request_supplier_confirmation"] == (
        "needs_approval",
        ["symptom-only-evidence"],
    )
    assert outcomes["notice"][1]["request_supplier_confirmation"] == ("auto", [])
