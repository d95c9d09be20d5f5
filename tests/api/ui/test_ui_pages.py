"""The reviewer UI over HTTP: login, CSRF, escaping, queue order and filters, dashboard, corrections."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from api.ui.queue import priority, sla_text
from api.ui.rendering import safe_return
from api.ui.sessions import Session, SessionCodec, SessionMiddleware
from tests.support.ui import (
    PASSWORD,
    XSS,
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


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = seeded_settings(tmp_path_factory.mktemp("ui-pages"))
    with serve(settings) as url:
        yield url


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_pages_redirect_to_login_without_a_session(base_url: str) -> None:
    """Every page asks for a login first and remembers where the reviewer was going."""
    for path in ("/ui/queue", "/ui/dashboard", "/ui/cases/ANY"):
        response = httpx.get(base_url + path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/login?next=")


def test_a_wrong_password_is_refused_with_a_message(base_url: str) -> None:
    """A wrong password gives the login page again with a plain message and no session user."""
    client = httpx.Client(base_url=base_url)
    token = csrf_of(client.get("/ui/login").text)
    response = client.post(
        "/ui/login", data={"username": "alice", "password": "nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Unknown user or wrong password." in response.text
    assert client.get("/ui/queue").status_code == 303


def test_the_session_cookie_is_httponly_samesite_and_scoped_to_the_ui(base_url: str) -> None:
    """The session cookie cannot be read by scripts, is not sent cross-site, and only reads /v1."""
    client = httpx.Client(base_url=base_url)
    token = csrf_of(client.get("/ui/login").text)
    response = client.post(
        "/ui/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/;" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure
    assert "Max-Age=" in cookie
    # A logged-in reviewer may read the docs and the API, but never change anything by cookie.
    assert client.get("/docs").status_code == 200
    assert client.get("/v1/approvals").status_code == 200
    refused = client.post("/v1/approvals/AP-x/decision", json={"decision": "approve"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Basic realm="triage"')


def test_a_post_without_the_csrf_token_is_refused(base_url: str) -> None:
    """A decision posted without the session's token is a 403 page and changes nothing."""
    submit(base_url, make_short_pick_case("UI-CSRF-1", site="DC-CSRF"), bearer())
    approval = next(a for a in approvals_of(base_url, "UI-CSRF-1") if a["posts_to_erp"])
    client = ui_login(base_url, "alice")
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf_token": "forged"}):
        response = client.post(f"/ui/approvals/{approval['approval_id']}", data=data)
        assert response.status_code == 403
        assert "security token" in response.text
    assert approvals_of(base_url, "UI-CSRF-1")[0]["status"] == "pending"
    assert all(a["status"] == "pending" for a in approvals_of(base_url, "UI-CSRF-1"))


def test_supplier_html_and_script_are_escaped_on_the_case_page(base_url: str) -> None:
    """Markup in a supplier message is rendered as text, and the page forbids inline scripts."""
    case = make_short_pick_case("UI-XSS-1", site="DC-XSS")
    case["messages"][0]["body"] = f"Stock note {XSS}"
    case["messages"][0]["subject"] = "<b>bold</b> subject"
    submit(base_url, case, bearer())
    page = ui_login(base_url).get("/ui/cases/UI-XSS-1")
    assert page.status_code == 200
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=" in page.text
    assert "<script>window.__xss" not in page.text
    assert "<b>bold</b>" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def _row_cases(html: str) -> list[str]:
    body = html.split('id="queue-rows"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'class="case-link">([^<]+)</a>', body)


def test_the_queue_puts_the_most_urgent_first_and_filters(base_url: str) -> None:
    """Breached SLAs come first, then the least time left; filters narrow the rows and counts."""
    now = datetime.now(UTC)
    for case_id, due in (("UI-Q-LATER", 20), ("UI-Q-SOON", 0.5), ("UI-Q-BREACHED", -1)):
        submit(
            base_url,
            make_short_pick_case(
                case_id, site="DC-SORT", sla_due_at=_iso(now + timedelta(hours=due))
            ),
            bearer(),
        )
    submit(
        base_url,
        make_short_pick_case("UI-Q-OTHER", site="DC-OTHER", workflow="receiving"),
        bearer(),
    )
    client = ui_login(base_url)
    page = client.get("/ui/queue", params={"site": "DC-SORT"}).text
    rows = _row_cases(page)
    assert rows[0] == "UI-Q-BREACHED"
    assert rows.index("UI-Q-SOON") < rows.index("UI-Q-LATER")
    assert set(rows) == {"UI-Q-BREACHED", "UI-Q-SOON", "UI-Q-LATER"}
    assert "breached" in page
    receiving = client.get("/ui/queue", params={"workflow": "receiving"}).text
    assert set(_row_cases(receiving)) == {"UI-Q-OTHER"}
    by_role = _row_cases(
        client.get("/ui/queue", params={"site": "DC-SORT", "role": "inventory_controller"}).text
    )
    assert len(by_role) == 3  # one post_inventory_adjustment per case
    breached = client.get("/ui/queue", params={"queue": "breached"}).text
    assert set(_row_cases(breached)) == {"UI-Q-BREACHED"}
    assert re.search(r'data-queue="breached">SLA breached <span class="count">\d+', breached)


def test_priority_ranks_time_money_and_doubt() -> None:
    """Less SLA time, more money and lower confidence each raise the priority."""
    hour = timedelta(hours=1)
    assert priority(-hour, 100, 0.9) > priority(hour, 100, 0.9) > priority(20 * hour, 100, 0.9)
    assert priority(hour, 50_000, 0.9) > priority(hour, 50, 0.9)
    assert priority(hour, 100, 0.4) > priority(hour, 100, 0.9)
    assert sla_text(timedelta(hours=2, minutes=14, seconds=30)) == "2h 14m left"
    assert sla_text(-timedelta(minutes=35)) == "breached 35m ago"
    assert sla_text(None) == "no SLA"


def test_a_rejection_without_a_reason_is_refused_with_a_message(base_url: str) -> None:
    """Rejecting with an empty reason leaves the approval pending and says a reason is needed."""
    submit(base_url, make_short_pick_case("UI-REJ-1", site="DC-REJ"), bearer())
    approval = next(a for a in approvals_of(base_url, "UI-REJ-1") if a["posts_to_erp"])
    client = ui_login(base_url)
    token = csrf_of(client.get("/ui/cases/UI-REJ-1").text)
    response = client.post(
        f"/ui/approvals/{approval['approval_id']}",
        data={"decision": "reject", "reason": "   ", "csrf_token": token},
        follow_redirects=True,
    )
    assert "A rejection needs a reason" in response.text
    record = next(
        a for a in approvals_of(base_url, "UI-REJ-1") if a["approval_id"] == approval["approval_id"]
    )
    assert record["status"] == "pending"


def test_the_dashboard_draws_svg_charts(base_url: str) -> None:
    """The dashboard renders its charts as inline SVG with the headline figures."""
    submit(base_url, make_short_pick_case("UI-DASH-1", site="DC-DASH"), bearer())
    page = ui_login(base_url).get("/ui/dashboard", params={"days": 7})
    assert page.status_code == 200
    assert page.text.count("<svg viewBox") >= 5
    for title in (
        "Exceptions by workflow stage",
        "Exceptions by cause",
        "SLA outcome",
        "Confidence of the classifier",
        "Classifier accuracy against reviewer corrections",
        "Median time to approve",
        "Auto-resolution rate",
        "Manual touch rate",
        "Correction rate",
    ):
        assert title in page.text
    assert '<rect class="s0"' in page.text


def test_a_cause_correction_lands_in_the_case_and_the_audit(base_url: str) -> None:
    """A reviewer's correction is stored on the case, shown, and audited as case.corrected."""
    submit(base_url, make_short_pick_case("UI-COR-1", site="DC-COR"), bearer())
    client = ui_login(base_url, "carol")
    token = csrf_of(client.get("/ui/cases/UI-COR-1").text)
    page = client.post(
        "/ui/cases/UI-COR-1/correction",
        data={"cause": "master_data_error", "comment": "UoM was wrong", "csrf_token": token},
        follow_redirects=True,
    ).text
    assert "Corrected to <strong>master_data_error</strong> by person:carol" in page
    audit = httpx.get(f"{base_url}/v1/cases/UI-COR-1/audit", headers=basic("carol")).json()["items"]
    corrected = [e for e in audit if e["kind"] == "case.corrected"]
    assert corrected[-1]["actor"] == "person:carol"
    assert corrected[-1]["detail"]["cause"] == "master_data_error"
    assert corrected[-1]["detail"]["previous"] == "inventory_discrepancy"
    bad = client.post(
        "/ui/cases/UI-COR-1/correction",
        data={"cause": "aliens", "comment": "", "csrf_token": token},
        follow_redirects=True,
    ).text
    assert "unknown cause &#39;aliens&#39;" in bad


def test_logout_ends_the_session(base_url: str) -> None:
    """After logging out the queue asks for a login again."""
    client = ui_login(base_url)
    token = csrf_of(client.get("/ui/queue").text)
    assert client.post("/ui/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/ui/queue").status_code == 303


def test_logout_revokes_the_old_cookie_on_the_server(base_url: str) -> None:
    """A copy of the cookie taken before logout no longer opens any page afterwards."""
    client = ui_login(base_url)
    stolen = dict(client.cookies)
    token = csrf_of(client.get("/ui/queue").text)
    assert client.post("/ui/logout", data={"csrf_token": token}).status_code == 303
    with httpx.Client(base_url=base_url, cookies=stolen, timeout=60) as replay:
        assert replay.get("/ui/queue").status_code == 303
        assert replay.get("/ui/dashboard").status_code == 303


def test_other_sessions_survive_a_logout_and_pages_pay_no_argon2(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logging out one browser leaves another logged in; page loads never verify a password."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: Any, password: Any) -> bool:
        calls.append("verify")
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    first, second = ui_login(base_url, "dave"), ui_login(base_url, "dave")
    token = csrf_of(first.get("/ui/queue").text)
    first.post("/ui/logout", data={"csrf_token": token})
    for _ in range(5):
        assert second.get("/ui/queue").status_code == 200
    assert calls == ["verify", "verify"]


def test_a_cookie_without_a_server_side_session_is_not_logged_in() -> None:
    """A signed cookie that names a user but no session id (the old format) opens nothing."""
    codec = SessionCodec(b"k" * 32, max_age_s=60)
    raw = codec.encode(Session(user="alice", expires_at=time.time() + 60))
    state: dict[str, Any] = {}

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        state.update(scope["state"])

    scope = {
        "type": "http",
        "path": "/ui/queue",
        "headers": [(b"cookie", f"triage_session={raw}".encode())],
    }
    asyncio.run(SessionMiddleware(app, codec)(scope, None, None))  # type: ignore[arg-type]
    assert state["session"].user == "alice"
    assert "session_id" not in state
    assert "session_user" not in state


def test_forged_and_expired_session_cookies_are_not_trusted() -> None:
    """A tampered cookie gives an anonymous session; an expired one is marked expired."""
    codec = SessionCodec(b"k" * 32, max_age_s=60)
    session = Session()
    session.login("alice", 60, "session-id")
    raw = codec.encode(session)
    assert codec.decode(raw).user == "alice"
    body, _, signature = raw.rpartition(".")
    assert (
        codec.decode(body.replace(body[5], "A" if body[5] != "A" else "B") + "." + signature).user
        is None
    )
    assert SessionCodec(b"other" * 8, max_age_s=60).decode(raw).user is None
    session.expires_at = time.time() - 1
    expired = codec.decode(codec.encode(session))
    assert expired.user is None
    assert expired.expired


def test_editing_parameters_rechecks_them_and_bars_the_editor_from_approving(base_url: str) -> None:
    """An edit from the plain form changes the parameters; the editor's approval is then refused."""
    submit(base_url, make_short_pick_case("UI-EDIT-1", site="DC-EDIT"), bearer())
    approval = next(
        a for a in approvals_of(base_url, "UI-EDIT-1") if a["action"] == "post_inventory_adjustment"
    )
    client = ui_login(base_url, "dave")
    url = f"/ui/approvals/{approval['approval_id']}"
    token = csrf_of(client.get("/ui/cases/UI-EDIT-1").text)
    form = {
        "decision": "edit",
        "param.quantity_delta": "-6",
        "reason": "recount says 6",
        "csrf_token": token,
    }
    page = client.post(url, data=form, follow_redirects=True).text
    assert "Edited post_inventory_adjustment" in page
    record = next(
        a
        for a in approvals_of(base_url, "UI-EDIT-1")
        if a["approval_id"] == approval["approval_id"]
    )
    assert record["params"]["quantity_delta"] == -6
    assert record["edited_by"] == ["dave"]
    refused = client.post(
        url, data={"decision": "approve", "csrf_token": token}, follow_redirects=True
    ).text
    assert "Refused by policy" in refused
    assert "dave edited this proposal and cannot approve it" in refused


def test_the_polled_rows_carry_the_counts_out_of_band(base_url: str) -> None:
    """The htmx poll returns the table body and the queue counts to swap in place."""
    submit(base_url, make_short_pick_case("UI-POLL-1", site="DC-POLL"), bearer())
    rows = ui_login(base_url).get("/ui/queue/rows", params={"site": "DC-POLL"}).text
    assert rows.lstrip().startswith('<tbody id="queue-rows"')
    assert 'id="queue-counts" hx-swap-oob="true"' in rows
    assert "UI-POLL-1" in rows


def test_login_only_returns_to_local_ui_pages() -> None:
    """The `next` target of the login cannot send the reviewer to another site."""
    assert safe_return("/ui/cases/X") == "/ui/cases/X"
    for target in ("//evil.example/ui/", "https://evil.example/", "/ui\\..\\x", "/v1/cases", None):
        assert safe_return(target) == "/ui/queue"


def test_the_bare_address_leads_to_the_reviewer_ui(base_url: str) -> None:
    """The quick start names http://127.0.0.1:8000; opening it must reach the UI's login."""
    response = httpx.get(base_url + "/", follow_redirects=True)
    assert response.status_code == 200
    assert response.url.path == "/ui/login"
    assert 'name="csrf_token"' in response.text
