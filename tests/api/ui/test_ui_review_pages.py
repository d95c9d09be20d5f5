"""The reviewer's case page and queue over plain HTTP: who sees which button and why, the ERP
confirmation, four-eyes progress, and values written in the reviewer's locale and time zone."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.ui import (
    approvals_of,
    basic,
    bearer,
    csrf_of,
    make_short_pick_case,
    seeded_settings,
    serve,
    submit,
    ui_login,
)

ADJUST, REALLOCATE = "post_inventory_adjustment", "reallocate_order"
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = seeded_settings(tmp_path_factory.mktemp("ui-review"))
    with serve(settings) as url:
        yield url


def _approval(base_url: str, case_id: str, action: str) -> dict[str, Any]:
    return next(a for a in approvals_of(base_url, case_id) if a["action"] == action)


def _card(page: str, action: str) -> str:
    cards = re.findall(r'<article class="action-card.*?</article>', page, re.S)
    return next(c for c in cards if f"<h3>{action}</h3>" in c)


def _row(page: str, approval_id: str) -> str:
    match = re.search(rf'<tr data-nav-row data-id="{approval_id}".*?</tr>', page, re.S)
    assert match, f"no queue row for {approval_id}"
    return match.group(0)


def _why_not(fragment: str) -> str | None:
    match = re.search(r"data-why-not>([^<]*)<", fragment)
    return html.unescape(match.group(1)).strip() if match else None


def _flash(page: str) -> str:
    match = re.search(r'<div class="flash[^>]*>(.*?)</div>', page, re.S)
    if not match:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def _confirm_form(client: httpx.Client, approval_id: str) -> tuple[str, dict[str, str]]:
    """Opens an approval's confirmation page; returns it and the form its button submits."""
    page = client.get(f"/ui/approvals/{approval_id}/confirm").text
    digest = re.search(r'name="confirm" value="([^"]+)"', page)
    assert digest, "the confirmation page offers no confirm button"
    form = {"decision": "approve", "confirm": digest.group(1), "csrf_token": csrf_of(page)}
    return page, form


def _approve_confirmed(client: httpx.Client, approval_id: str) -> str:
    _, form = _confirm_form(client, approval_id)
    return client.post(f"/ui/approvals/{approval_id}", data=form, follow_redirects=True).text


def test_a_reviewer_without_the_role_sees_no_buttons_but_the_reason(base_url: str) -> None:
    """Bob holds neither role: no Approve, Reject or Edit on the case page or queue, and why."""
    submit(base_url, make_short_pick_case("UI-R-ROLE", site="DC-ROLE"), bearer())
    bob = ui_login(base_url, "bob")
    page = bob.get("/ui/cases/UI-R-ROLE").text
    for action, role in ((ADJUST, "inventory_controller"), (REALLOCATE, "ops_supervisor")):
        card = _card(page, action)
        assert _why_not(card) == f"Needs the {role} role."
        assert "data-key-approve" not in card
        assert 'value="reject"' not in card
        assert 'value="edit"' not in card
    queue = bob.get("/ui/queue", params={"site": "DC-ROLE"}).text
    row = _row(queue, _approval(base_url, "UI-R-ROLE", ADJUST)["approval_id"])
    assert _why_not(row) == "Needs the inventory_controller role."
    assert "data-key-approve" not in row
    assert "data-key-reject" not in row


def test_the_proposer_sees_why_not_and_may_still_reject(base_url: str) -> None:
    """Alice submitted the case: segregation of duties bars approving, not rejecting."""
    submit(base_url, make_short_pick_case("UI-R-SOD", site="DC-SOD"), basic("alice"))
    alice = ui_login(base_url, "alice")
    card = _card(alice.get("/ui/cases/UI-R-SOD").text, ADJUST)
    assert _why_not(card) == (
        "You proposed or edited this action, so you cannot approve it (segregation of duties)."
    )
    assert "data-key-approve" not in card
    assert 'value="reject"' in card
    approval_id = _approval(base_url, "UI-R-SOD", ADJUST)["approval_id"]
    confirm = alice.get(f"/ui/approvals/{approval_id}/confirm").text
    assert 'name="confirm"' not in confirm  # the confirmation page offers no way round it
    assert "segregation of duties" in (_why_not(confirm) or "")


def test_an_erp_approval_without_the_confirmation_does_not_approve(base_url: str) -> None:
    """A bare approve POST for a posting leads to the confirmation page and records no vote."""
    submit(base_url, make_short_pick_case("UI-R-CONF", site="DC-CONF"), bearer())
    approval_id = _approval(base_url, "UI-R-CONF", ADJUST)["approval_id"]
    dave = ui_login(base_url, "dave")
    token = csrf_of(dave.get("/ui/cases/UI-R-CONF").text)
    url = f"/ui/approvals/{approval_id}"
    for extra in ({}, {"confirm": ""}, {"confirm": "0" * 24}):
        response = dave.post(url, data={"decision": "approve", "csrf_token": token, **extra})
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"{url}/confirm?return_to=")
        record = _approval(base_url, "UI-R-CONF", ADJUST)
        assert (record["status"], record["votes"]) == ("pending", [])
    page, form = _confirm_form(dave, approval_id)
    question = re.search(r"data-confirm-question>([^<]+)<", page)
    assert question
    assert html.unescape(question.group(1)) == (
        f"Post {ADJUST} to ERP for DC-CONF, SKU-2231, USD{NBSP}1,800.00?"
    )
    done = dave.post(url, data=form, follow_redirects=True).text
    assert _flash(done) == f"Approved {ADJUST} on UI-R-CONF."
    assert _approval(base_url, "UI-R-CONF", ADJUST)["status"] == "approved"


def test_a_confirmation_of_parameters_edited_since_is_not_taken(base_url: str) -> None:
    """Alice confirms, Carol edits, Alice's confirmation arrives: no vote, she is asked again."""
    submit(base_url, make_short_pick_case("UI-R-STALE", site="DC-STALE"), bearer())
    approval_id = _approval(base_url, "UI-R-STALE", REALLOCATE)["approval_id"]
    alice, carol = ui_login(base_url, "alice"), ui_login(base_url, "carol")
    _, form = _confirm_form(alice, approval_id)
    token = csrf_of(carol.get("/ui/cases/UI-R-STALE").text)
    edit = {"decision": "edit", "param.skus": "SKU-2231, SKU-9", "csrf_token": token}
    carol.post(f"/ui/approvals/{approval_id}", data=edit)
    assert _approval(base_url, "UI-R-STALE", REALLOCATE)["params"]["skus"] == ["SKU-2231", "SKU-9"]
    page = alice.post(f"/ui/approvals/{approval_id}", data=form, follow_redirects=True).text
    assert "The parameters changed since; check them again." in _flash(page)
    assert "data-confirm-question" in page
    record = _approval(base_url, "UI-R-STALE", REALLOCATE)
    assert [v["decision"] for v in record["votes"]] == ["edit"]


def test_one_of_two_approvals_is_progress_not_approved(base_url: str) -> None:
    """Above the threshold the first approval says 1 of 2 and waits, on the case and the queue."""
    big = make_short_pick_case(
        "UI-R-4EYES", site="DC-4EYES", amount={"value": 25000.0, "currency": "USD"}
    )
    submit(base_url, big, bearer())
    approval_id = _approval(base_url, "UI-R-4EYES", ADJUST)["approval_id"]
    alice = ui_login(base_url, "alice")
    page = _approve_confirmed(alice, approval_id)
    progress = "1 of 2 approvals; waiting for a second approver"
    assert _flash(page) == f"Your approval of {ADJUST} on UI-R-4EYES is recorded: {progress}."
    assert "Approved" not in _flash(page)
    card = _card(page, ADJUST)
    assert f"<strong>{progress}</strong>" in card
    assert "data-key-approve" not in card
    assert _why_not(card) == "You already approved this; a second, different person must approve."
    assert _approval(base_url, "UI-R-4EYES", ADJUST)["status"] == "pending"
    mine = _row(alice.get("/ui/queue", params={"site": "DC-4EYES"}).text, approval_id)
    assert progress in mine
    assert "data-key-approve" not in mine
    theirs = _row(
        ui_login(base_url, "dave").get("/ui/queue", params={"site": "DC-4EYES"}).text, approval_id
    )
    assert progress in theirs
    assert f'action="/ui/approvals/{approval_id}/confirm"' in theirs


def test_a_refused_decision_comes_back_without_the_button_and_with_the_reason(
    base_url: str,
) -> None:
    """A stale page's second approval and a wrong role's approval are refused and explained."""
    big = make_short_pick_case(
        "UI-R-REFUSE", site="DC-REFUSE", amount={"value": 25000.0, "currency": "USD"}
    )
    submit(base_url, big, bearer())
    approval_id = _approval(base_url, "UI-R-REFUSE", ADJUST)["approval_id"]
    url = f"/ui/approvals/{approval_id}"
    alice = ui_login(base_url, "alice")
    _, stale = _confirm_form(alice, approval_id)
    alice.post(url, data=stale)
    page = alice.post(url, data=stale, follow_redirects=True).text  # the same form, twice
    assert _flash(page).startswith("Refused by policy four-eyes")
    card = _card(page, ADJUST)
    assert "data-key-approve" not in card
    assert _why_not(card) == "You already approved this; a second, different person must approve."
    bob = ui_login(base_url, "bob")
    token = csrf_of(bob.get("/ui/cases/UI-R-REFUSE").text)
    page = bob.post(
        url,
        data={"decision": "approve", "csrf_token": token, "confirm": stale["confirm"]},
        follow_redirects=True,
    ).text
    assert _flash(page).startswith("Refused by policy approver-role")
    assert _why_not(_card(page, ADJUST)) == "Needs the inventory_controller role."
    assert len(_approval(base_url, "UI-R-REFUSE", ADJUST)["votes"]) == 1


def _amount_shown(page: str) -> str:
    match = re.search(r"data-case-amount>([^<]*)<", page)
    assert match
    return html.unescape(match.group(1))


def test_amounts_follow_the_currency_and_the_reviewers_locale(base_url: str) -> None:
    """The same case reads JPY 1,234,567 in en-US and 1.234.567 JPY in de-DE; EUR keeps cents."""
    for case_id, amount in (("UI-R-JPY", (1234567, "JPY")), ("UI-R-EUR", (1800.5, "EUR"))):
        case = make_short_pick_case(
            case_id, site="DC-FMT", amount={"value": amount[0], "currency": amount[1]}
        )
        submit(base_url, case, bearer())
    american = ui_login(base_url, "carol", **{"accept-language": "en-US,en;q=0.9"})
    german = ui_login(base_url, "carol", **{"accept-language": "de-DE,de;q=0.9,en;q=0.5"})
    assert _amount_shown(american.get("/ui/cases/UI-R-JPY").text) == f"JPY{NBSP}1,234,567"
    assert _amount_shown(german.get("/ui/cases/UI-R-JPY").text) == f"1.234.567{NBSP}JPY"
    assert _amount_shown(american.get("/ui/cases/UI-R-EUR").text) == f"EUR{NBSP}1,800.50"
    assert _amount_shown(german.get("/ui/cases/UI-R-EUR").text) == f"1.800,50{NBSP}EUR"
    queue = html.unescape(german.get("/ui/queue", params={"site": "DC-FMT"}).text)
    assert f"1.234.567{NBSP}JPY" in queue
    assert f"1.800,50{NBSP}EUR" in queue


def test_times_follow_the_tz_cookie_with_utc_on_hover(base_url: str) -> None:
    """With triage_tz=Asia/Tokyo the detection time reads in JST; its title keeps the UTC time."""
    case = make_short_pick_case("UI-R-TZ", site="DC-TZ", detected_at="2026-11-20T17:05:00Z")
    submit(base_url, case, bearer())
    client = ui_login(base_url, "carol")
    expected = (
        '<time datetime="2026-11-20T17:05:00Z" title="2026-11-20 17:05 UTC">'
        "Nov 21, 2026, 2:05\u202fAM JST</time>"
    )
    client.cookies.set("triage_tz", "Asia/Tokyo")
    assert expected in client.get("/ui/cases/UI-R-TZ").text
    client.cookies.set("triage_tz", "Not/AZone")
    page = client.get("/ui/cases/UI-R-TZ").text
    assert "Nov 20, 2026, 5:05\u202fPM UTC</time>" in page
    assert '<html lang="en" data-tz="UTC">' in page


def _populated_case(case_id: str) -> dict[str, Any]:
    case = make_short_pick_case(
        case_id, site="DC-FULL", amount={"value": 12450.0, "currency": "EUR"}
    )
    case["refs"] = {
        "order_id": f"SO-{case_id}", "shipment_id": "SH-55120", "po_id": "PO-7781",
        "invoice_id": "INV-3301", "customer_id": "C-1001", "supplier_id": "SUP-204",
        "carrier": "UPS", "skus": ["SKU-2231", "SKU-2232"], "bin": "A-12-03",
    }  # fmt: skip
    case["events"][0]["code"] = "P1"
    case["messages"].append({
        "at": case["messages"][0]["at"], "channel": "chat", "direction": "inbound",
        "party": "internal", "sender": None, "subject": None, "body": "Counted again: 4.",
    })  # fmt: skip
    case["attributes"] = {
        "erp_on_hand": 1200, "wms_on_hand": 4, "invoice_unit_price": 10.123456789,
        "po_unit_price": 9.5, "quantities_received": [12, 8.333333333], "credit_status": None,
        "last_sync_error": "timeout", "on_hold": False, "open_lines": ["L1", None],
    }  # fmt: skip
    return case


def test_a_fully_populated_case_page_shows_no_raw_values(base_url: str) -> None:
    """After an edit, an approval and a correction, no null, None, JSON or long float shows.

    The case carries long floats (attributes, the classifier's confidence in the audit), nulls
    (attributes, message sender and subject, the unit cost) and lists (refs, attributes, params).
    """
    submit(base_url, _populated_case("UI-R-FULL"), bearer())
    adjust = _approval(base_url, "UI-R-FULL", ADJUST)["approval_id"]
    dave = ui_login(base_url, "dave")
    token = csrf_of(dave.get("/ui/cases/UI-R-FULL").text)
    edit = {"decision": "edit", "param.unit_cost": "12.5", "param.quantity_delta": "-7"}
    dave.post(f"/ui/approvals/{adjust}", data={**edit, "reason": "recount", "csrf_token": token})
    _approve_confirmed(
        ui_login(base_url, "alice"), _approval(base_url, "UI-R-FULL", REALLOCATE)["approval_id"]
    )
    correction = {"cause": "inventory_discrepancy", "comment": "confirmed", "csrf_token": token}
    dave.post("/ui/cases/UI-R-FULL/correction", data=correction)
    page = dave.get("/ui/cases/UI-R-FULL").text
    body = re.sub(r"<script.*?</script>|<head>.*?</head>", "", page, flags=re.S)
    shown = re.sub(r"<[^>]+>", " ", body)
    # Titles show on hover; input values are the exact text a reviewer edits, so they are left out.
    shown += " ".join(re.findall(r'title="([^"]*)"', body))
    shown = html.unescape(shown)
    for artefact in (
        r"\bnull\b",
        r"\bNone\b",
        r"[\[\]{}]",
        r'"\w+"\s*:',
        r"\d\.\d{3,}",
        r"\bNaN\b",
    ):
        assert not re.search(artefact, shown), (
            artefact,
            re.search(f".{{60}}{artefact}.{{60}}", shown, re.S),
        )
    assert re.search(r'data-param="unit_cost"><th>unit_cost</th><td>12.5</td>', page)
    assert "10.12" in shown
    assert "8.33" in shown
    assert "approval.approved" in page
    assert "case.corrected" in page


def test_the_case_attributes_show_as_a_labelled_table(base_url: str) -> None:
    """Prices, quantities and on-hand figures show with labels, numbers in the reviewer's locale."""
    submit(base_url, _populated_case("UI-R-ATTR"), bearer())
    rows = {
        html.unescape(label): html.unescape(value)
        for label, value in re.findall(
            r'<tr data-attribute="[^"]+"><th title="[^"]+">([^<]+)</th><td[^>]*>([^<]*)</td>',
            ui_login(base_url, "dave", **{"accept-language": "de-DE"})
            .get("/ui/cases/UI-R-ATTR")
            .text,
        )
    }
    assert rows == {
        "ERP on hand": "1.200",
        "WMS on hand": "4",
        "Invoice unit price": "10,12",
        "PO unit price": "9,5",
        "Quantities received": "12, 8,33",
        "Credit status": "–",
        "Last sync error": "timeout",
        "On hold": "no",
        "Open lines": "L1, –",
    }
