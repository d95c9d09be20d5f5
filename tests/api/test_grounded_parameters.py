"""Issue 13's findings through HTTP: validated edits, grounded values, per-action amounts, status.

Each test reproduces what a new user ran into and asserts the behaviour that replaced it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.store import identity
from tests.support.cases import T, make_case, make_inventory_case, unique
from tests.support.service import (
    PASSWORD,
    Service,
    basic,
    bearer,
    jsonl,
    run_store,
    running_service,
    seeded_store,
)

BUYERS = {"dan": ["buyer"], "fay": ["buyer"]}
SUPPLIER = "SUP-220"


@pytest.fixture
def service(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Service]:
    """A running service on a private copy of the seeded SQLite store, with two buyers added."""
    root = tmp_path_factory.getbasetemp()
    with seeded_store("sqlite", tmp_path, root) as store:

        async def add_buyers(conn: Any) -> None:
            for name, roles in BUYERS.items():
                await identity.add_user(conn, name, PASSWORD, roles)

        with running_service(store.data_dir, database_url=store.database_url) as svc:
            run_store(svc.settings.resolved_database_url, add_buyers)
            yield svc


def _supplier_case(po: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Returns a clear supplier delay on one PO: no acknowledgement, the supplier says delayed."""
    return make_case(
        case_id=unique("T-SUP"),
        workflow="supplier_confirmation",
        stalled_step=f"awaiting PO acknowledgement for {po}",
        refs={"po_id": po, "supplier_id": SUPPLIER, "skus": ["SKU-7781"]},
        amount={"value": 8200.0, "currency": "USD"},
        events=[
            {
                "at": T.format("09:00"),
                "system": "ERP",
                "type": "po_sent",
                "detail": f"{po} sent to supplier via EDI 850",
                "code": None,
            },
            {
                "at": T.format("15:00"),
                "system": "SUPPLIER",
                "type": "ack_missing",
                "detail": "PO acknowledgement 855 not received after 72h; supplier delayed",
                "code": None,
            },
        ],
        messages=messages,
    )


def _supplier_message(body: str, at: str = "16:10") -> dict[str, Any]:
    return {
        "at": T.format(at),
        "channel": "email",
        "direction": "inbound",
        "party": "supplier",
        "sender": "orders@supplier.example",
        "subject": "Re: order status",
        "body": body,
    }


def _proposal(result: dict[str, Any], action: str) -> dict[str, Any]:
    found = [p for p in result["proposals"] if p["action"] == action]
    assert found, f"{action} not proposed: {[p['action'] for p in result['proposals']]}"
    return found[0]


def _submitted(service: Service, case: dict[str, Any]) -> dict[str, Any]:
    response = service.submit(case)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _unchanged(service: Service, approval: dict[str, Any]) -> None:
    """Asserts that an approval and its case's audit trail are as they were."""
    now = service.approval_for(approval["case_id"], approval["action"])
    assert now["params"] == approval["params"]
    assert now["votes"] == approval["votes"]
    assert now["edited_by"] == approval["edited_by"]
    assert "approval.edited" not in service.audit_kinds(approval["case_id"])


def test_a_bad_po_eta_edit_is_a_422_naming_the_field_and_changes_nothing(service: Service) -> None:
    """`next tuesday-ish` and an unknown key are refused by name; a good date then posts typed."""
    body = "PO-4471 is backordered on our side; we will ship on 2026-12-04."
    case = _supplier_case("PO-4471", [_supplier_message(body)])
    _submitted(service, case)
    approval = service.approval_for(case["case_id"], "update_po_eta")

    for params, field in (
        ({"new_eta": "next tuesday-ish", "frobnicate": "x"}, "params.new_eta"),
        ({"frobnicate": "x"}, "params.frobnicate"),
        ({"new_eta": "2026-11-09"}, "params.new_eta"),  # before the case was detected
        ({"new_eta": "10/11"}, "params.new_eta"),
    ):
        refused = service.decide(approval["approval_id"], basic("dan"), "edit", params=params)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == field, refused.json()
        _unchanged(service, approval)

    edited = service.decide(
        approval["approval_id"], basic("dan"), "edit", params={"new_eta": "2026-12-09"}
    )
    assert edited.status_code == 200, edited.text
    assert service.decide(approval["approval_id"], basic("fay")).status_code == 200
    for other in service.approvals(case["case_id"], "pending"):  # a floor-gated supplier request
        assert service.decide(other["approval_id"], basic("fay")).status_code == 200
    service.wait_for(case["case_id"], "resolved", "executing")
    posting = _posted(service, case["case_id"], "update_po_eta")
    assert posting["payload"]["params"]["new_eta"] == "2026-12-09"
    assert set(posting["payload"]["params"]) == {"po_id", "supplier_id", "new_eta"}


def _posted(service: Service, case_id: str, action: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """Waits for the sandbox ERP to record the action's posting and returns it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [p for p in service.postings(case_id) if p["action"] == action]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{action} on {case_id} was never posted")


def test_quantity_delta_twelve_is_a_422_and_minus_ten_posts_as_a_number(service: Service) -> None:
    """`twelve` is refused by name and changes nothing; `-10` is stored and posted as -10."""
    case = make_inventory_case()
    _submitted(service, case)
    approval = service.approval_for(case["case_id"], "post_inventory_adjustment")

    refused = service.decide(
        approval["approval_id"], basic("alice"), "edit", params={"quantity_delta": "twelve"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "params.quantity_delta"
    _unchanged(service, approval)

    edited = service.decide(
        approval["approval_id"], basic("alice"), "edit", params={"quantity_delta": "-10"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["params"]["quantity_delta"] == -10
    assert service.decide(approval["approval_id"], basic("bob")).status_code == 200
    posting = _posted(service, case["case_id"], "post_inventory_adjustment")
    delta = posting["payload"]["params"]["quantity_delta"]
    assert delta == -10
    assert isinstance(delta, int)


def test_a_delivered_posting_shows_as_posted_with_the_erp_reference(service: Service) -> None:
    """GET /v1/cases/{id} lists the posting with its reference; the case page says posted (ref)."""
    case = make_inventory_case()
    _submitted(service, case)
    approval = service.approval_for(case["case_id"], "post_inventory_adjustment")
    assert service.decide(approval["approval_id"], basic("alice")).status_code == 200
    sandbox = _posted(service, case["case_id"], "post_inventory_adjustment")
    result = service.wait_for(case["case_id"], "resolved")

    assert "post_inventory_adjustment" in result["executed"]
    [posting] = [p for p in result["postings"] if p["action"] == "post_inventory_adjustment"]
    assert posting["reference"], posting
    assert posting["reference"] == str(sandbox["posting_id"]), sandbox
    assert posting["idempotency_key"] == sandbox["idempotency_key"]
    assert posting["approvers"] == ["alice"]
    assert posting["posted_at"]

    page = _ui(service, "carol").get(f"/ui/cases/{case['case_id']}").text
    card = _card(page, "post_inventory_adjustment")
    assert f"posted (ref {posting['reference']})" in card
    assert 'class="badge status-approved"' not in card


def test_another_pos_supplier_message_never_yields_new_eta(service: Service) -> None:
    """A dated supplier message about another PO, in the case or loose, leaves new_eta empty."""
    other = (
        "Resending the 856 for PO-85783; original was sent 2026-11-09. New ship date 2026-12-11."
    )
    case = _supplier_case("PO-5120", [_supplier_message(other)])
    loose = {
        **_supplier_message("PO-99120 confirmed: ships 2026-12-15."),
        "refs": {"po_id": "PO-99120", "supplier_id": SUPPLIER},
    }
    imported = service.http.post(
        "/v1/messages",
        content=jsonl([loose]),
        headers=bearer() | {"Content-Type": "application/x-ndjson"},
    )
    assert imported.status_code == 200, imported.text
    result = _submitted(service, case)

    proposal = _proposal(result, "update_po_eta")
    assert proposal["params"].get("new_eta") is None
    assert "new_eta" not in proposal["provenance"]
    assert proposal["params"]["po_id"] == "PO-5120"
    for message in result["matched_messages"]:
        if message["document_refs"].get("po_id") == "PO-99120":
            assert message["matched_by"] != "refs"
    approval = service.approval_for(case["case_id"], "update_po_eta")
    assert approval["params"].get("new_eta") is None


def _credit_case() -> dict[str, Any]:
    """Returns an 18,400 EUR invoice overbilled by 0.80 on 1,500 units: a 1,200 EUR credit."""
    return make_case(
        case_id=unique("T-CRM"),
        workflow="invoice_match",
        stalled_step="three-way match failed on INV-30981",
        refs={"invoice_id": "INV-30981", "po_id": "PO-7702", "supplier_id": "SUP-31"},
        amount={"value": 18400.0, "currency": "EUR"},
        events=[
            {
                "at": T.format("10:00"),
                "system": "FINANCE",
                "type": "match_failed",
                "detail": "Invoice price 13.07 differs from PO price 12.27; quantity 1500 matches",
                "code": None,
            }
        ],
        attributes={
            "po_price": 12.27,
            "invoice_price": 13.07,
            "qty_received": 1500,
            "qty_invoiced": 1500,
        },
    )


def test_a_1200_eur_credit_memo_needs_one_approver_and_the_queue_shows_its_amount(
    service: Service,
) -> None:
    """Four-eyes counts the memo's own 1,200 EUR, not the 18,400 EUR case; so does the queue."""
    case = _credit_case()
    result = _submitted(service, case)
    memo = _proposal(result, "issue_credit_memo")
    assert memo["params"]["amount"] == pytest.approx(1200.0)
    approval = service.approval_for(case["case_id"], "issue_credit_memo")
    assert approval["required_approvals"] == 1
    hold = service.approval_for(case["case_id"], "hold_invoice")
    assert hold["required_approvals"] == 2  # no amount of its own: the case's 18,400 counts

    queue = _ui(service, "erin").get("/ui/queue").text
    # Amounts are written with their currency, in the reviewer's locale (en_US by default).
    assert _amount_cell(queue, approval["approval_id"]) == "EUR\xa01,200.00"
    assert _amount_cell(queue, hold["approval_id"]) == "EUR\xa018,400.00"


def test_rejecting_the_only_gated_action_ends_rejected_and_runs_nothing_after(
    service: Service,
) -> None:
    """The case ends `rejected`; no automatic action starts after the rejection."""
    body = "PO-6310 is delayed at our plant; we will ship on 2026-12-02."
    case = _supplier_case("PO-6310", [_supplier_message(body)])
    _submitted(service, case)
    pending = service.approvals(case["case_id"], "pending")
    # The supplier request may wait for a person too, under its automatic-execution floor.
    assert "update_po_eta" in [a["action"] for a in pending], pending

    for approval in pending:  # every gated action rejected
        rejected = service.decide(
            approval["approval_id"], basic("dan"), "reject", reason="ETA already agreed by phone"
        )
        assert rejected.status_code == 200, rejected.text
    result = service.wait_for(case["case_id"], "rejected", "resolved")
    assert result["status"] == "rejected"
    trail = service.audit(case["case_id"])
    kinds = [entry["kind"] for entry in trail]
    cut = kinds.index("approval.rejected")
    after = set(kinds[cut:])
    assert not {"action.started", "action.executed", "posting.queued"} & after, kinds[cut:]
    ran_before = [e["detail"]["action"] for e in trail[:cut] if e["kind"] == "action.executed"]
    assert sorted(result["executed"]) == sorted(ran_before)
    assert "update_po_eta" not in result["executed"]
    assert service.postings(case["case_id"]) == []


# ---- the reviewer UI, read over plain HTTP ---------------------------------------------------


def _ui(service: Service, user: str) -> httpx.Client:
    client = httpx.Client(base_url=service.base_url, timeout=60)
    page = client.get("/ui/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/ui/login", data={"username": user, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text
    return client


def _card(page: str, action: str) -> str:
    start = page.index(f"<h3>{action}</h3>")
    end = page.find("</article>", start)
    return page[start:end]


def _amount_cell(page: str, approval_id: str) -> str:
    row = re.search(rf'data-id="{re.escape(approval_id)}".*?</tr>', page, re.DOTALL)
    assert row, f"{approval_id} is not in the queue"
    cell = re.search(r"data-amount>([^<]*)<", row.group(0))
    assert cell
    return cell.group(1).strip()


def test_the_case_page_and_the_audit_show_each_parameters_source(service: Service) -> None:
    """The ETA's message and span sit beside its value; the audit records it, and a person's edit."""
    body = "PO-8830 is backordered; we will ship on 2026-12-04."
    case = _supplier_case("PO-8830", [_supplier_message(body)])
    _submitted(service, case)
    approval = service.approval_for(case["case_id"], "update_po_eta")
    [requested] = [
        e["detail"]
        for e in service.audit(case["case_id"])
        if e["kind"] == "approval.requested" and e["detail"]["action"] == "update_po_eta"
    ]
    assert requested["provenance"]["new_eta"] == {
        "kind": "message",
        "index": 0,
        "span": "2026-12-04",
    }
    assert requested["provenance"]["po_id"] == {"kind": "refs", "keys": ["po_id"]}

    page = _ui(service, "carol").get(f"/ui/cases/{case['case_id']}").text
    row = re.search(r'data-param="new_eta">.*?</tr>', _card(page, "update_po_eta"), re.DOTALL)
    assert row
    assert "2026-12-04" in row.group(0)
    assert "message #0" in row.group(0)
    assert "<q" in row.group(0)

    edited = service.decide(
        approval["approval_id"], basic("dan"), "edit", params={"new_eta": "2026-12-10"}
    )
    assert edited.status_code == 200, edited.text
    [entry] = [e for e in service.audit(case["case_id"]) if e["kind"] == "approval.edited"]
    assert entry["detail"]["provenance"] == {
        "new_eta": {"kind": "person", "by": "dan", "span": "2026-12-10"}
    }
    page = _ui(service, "carol").get(f"/ui/cases/{case['case_id']}").text
    row = re.search(r'data-param="new_eta">.*?</tr>', _card(page, "update_po_eta"), re.DOTALL)
    assert row
    assert "typed by dan" in row.group(0)
