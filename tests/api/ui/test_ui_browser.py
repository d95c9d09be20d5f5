"""The reviewer UI end to end in headless Chromium: approve, reject, refusals, four-eyes, XSS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import SHOTS, chromium
from tests.support.ui import (
    PASSWORD,
    XSS,
    approvals_of,
    basic,
    bearer,
    live_cases,
    make_short_pick_case,
    seeded_settings,
    serve,
    submit,
)

playwright_api = pytest.importorskip("playwright.sync_api")
Browser, Page, expect = playwright_api.Browser, playwright_api.Page, playwright_api.expect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = seeded_settings(tmp_path_factory.mktemp("ui-browser"))
    with serve(settings) as url:
        for case in live_cases(6):
            submit(url, case, bearer())
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_page(browser: Browser, base_url: str) -> Iterator[object]:
    contexts = []

    def login(user: str) -> Page:
        context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto("/ui/queue")
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Queue")).to_be_visible()
        return page

    yield login
    for context in contexts:
        context.close()


def _card(page: Page, action: str) -> object:
    return page.locator("article.action-card").filter(
        has=page.get_by_role("heading", name=action, exact=True)
    )


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_a_reviewer_logs_in_opens_a_case_and_approves_it(open_page, base_url: str) -> None:
    """Alice logs in, sees the queue, opens a case and approves its ERP adjustment."""
    submit(base_url, make_short_pick_case("UI-B-APPROVE", site="DC-ATL"), bearer())
    page = open_page("alice")
    expect(page.locator("#queue-rows tr[data-nav-row]").first).to_be_visible()
    _shot(page, "queue.png")
    page.get_by_role("link", name="UI-B-APPROVE").first.click()
    expect(page.get_by_role("heading", name="UI-B-APPROVE")).to_be_visible()
    _shot(page, "case.png")
    card = _card(page, "post_inventory_adjustment")
    card.get_by_role("button", name="Approve…").click()
    expect(page.locator("[data-confirm-question]")).to_contain_text(
        "Post post_inventory_adjustment to ERP for DC-ATL, SKU-2231, USD 1,800.00?"
    )
    page.get_by_role("button", name="Yes, approve the posting").click()
    expect(page.get_by_role("alert")).to_contain_text("Approved post_inventory_adjustment")
    card = _card(page, "post_inventory_adjustment")
    # Approved, or already posted by the worker: the card then says posted (ref ...).
    expect(card.locator(".badge.status-approved, .badge.status-posted")).to_be_visible()
    expect(card.locator("[data-approval-status]")).to_contain_text("1 of 1 approvals")


def test_a_rejection_without_a_reason_is_refused(open_page, base_url: str) -> None:
    """An empty reason is refused with a visible message; with a reason the rejection stands."""
    submit(base_url, make_short_pick_case("UI-B-REJECT", site="DC-ATL"), bearer())
    page = open_page("dave")
    page.goto("/ui/cases/UI-B-REJECT")
    _card(page, "reallocate_order").get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert")).to_contain_text("A rejection needs a reason")
    expect(_card(page, "reallocate_order").locator(".badge.status-pending")).to_be_visible()
    card = _card(page, "reallocate_order")
    card.get_by_label("Reason", exact=True).fill("Order already re-sourced from DC-RNO")
    card.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert")).to_contain_text("Rejected reallocate_order")
    expect(_card(page, "reallocate_order").locator(".badge.status-rejected")).to_be_visible()


def test_segregation_of_duties_hides_the_approve_button(open_page, base_url: str) -> None:
    """Alice submitted the case herself over HTTP Basic: no Approve button, and the page says why."""
    submit(base_url, make_short_pick_case("UI-B-SOD", site="DC-ATL"), basic("alice"))
    page = open_page("alice")
    page.goto("/ui/cases/UI-B-SOD")
    card = _card(page, "post_inventory_adjustment")
    expect(card.locator("[data-why-not]")).to_have_text(
        "You proposed or edited this action, so you cannot approve it (segregation of duties)."
    )
    expect(card.get_by_role("button", name="Approve…")).to_have_count(0)
    expect(card.get_by_role("button", name="Reject")).to_be_visible()  # rejecting stays open
    expect(card.locator(".badge.status-pending")).to_be_visible()


def test_four_eyes_needs_two_different_reviewers(open_page, base_url: str) -> None:
    """Above 10,000 an ERP posting waits for a second person; the first cannot approve twice."""
    big = make_short_pick_case(
        "UI-B-4EYES", site="DC-ATL", amount={"value": 25000.0, "currency": "USD"}
    )
    submit(base_url, big, bearer())
    alice = open_page("alice")
    alice.goto("/ui/cases/UI-B-4EYES")
    _card(alice, "post_inventory_adjustment").get_by_role("button", name="Approve…").click()
    alice.get_by_role("button", name="Yes, approve the posting").click()
    alert = alice.get_by_role("alert")
    expect(alert).to_contain_text("1 of 2 approvals; waiting for a second approver")
    expect(alert).not_to_contain_text("Approved")
    card = _card(alice, "post_inventory_adjustment")
    expect(card.locator("[data-approval-status]")).to_contain_text(
        "1 of 2 approvals; waiting for a second approver"
    )
    expect(card.locator(".badge.status-pending")).to_be_visible()
    expect(card.get_by_role("button", name="Approve…")).to_have_count(0)
    expect(card.locator("[data-why-not]")).to_contain_text("a second, different person")
    dave = open_page("dave")
    dave.goto("/ui/cases/UI-B-4EYES")
    _card(dave, "post_inventory_adjustment").get_by_role("button", name="Approve…").click()
    dave.get_by_role("button", name="Yes, approve the posting").click()
    card = _card(dave, "post_inventory_adjustment")
    expect(card.locator("[data-approval-status]")).to_contain_text("2 of 2 approvals")
    # Approved, or already posted by the worker: the card then says posted (ref ...).
    expect(card.locator(".badge.status-approved, .badge.status-posted")).to_be_visible()


def test_a_script_in_a_supplier_message_shows_as_text_and_never_runs(
    open_page, base_url: str
) -> None:
    """The XSS payload is visible as text on the case page and sets nothing on window."""
    case = make_short_pick_case("UI-B-XSS", site="DC-ATL")
    case["messages"][0]["body"] = f"Please check {XSS}"
    submit(base_url, case, bearer())
    page = open_page("carol")
    page.goto("/ui/queue")
    page.get_by_role("link", name="UI-B-XSS").first.click()  # an htmx-boosted navigation
    expect(page.get_by_text("<script>window.__xss=2</script>", exact=False)).to_be_visible()
    page.goto("/ui/cases/UI-B-XSS")  # and a full page load
    expect(page.get_by_text('<img src=x onerror="window.__xss=1">', exact=False)).to_be_visible()
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_keyboard_moves_and_r_focuses_the_reason(open_page, base_url: str) -> None:
    """On the queue j selects a row and r opens its case with the reject reason focused."""
    page = open_page("dave")
    page.keyboard.press("j")
    expect(page.locator("#queue-rows tr.current")).to_have_count(1)
    page.keyboard.press("r")
    expect(page.locator("[data-key-reason]:focus")).to_have_count(1)


def test_the_dashboard_shows_charts(open_page) -> None:
    """The dashboard shows headline figures and SVG charts after the decisions above."""
    page = open_page("carol")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("figure.chart svg").first).to_be_visible()
    expect(page.locator(".tile").filter(has_text="Median time to approve")).to_be_visible()
    _shot(page, "dashboard.png")


def test_the_api_docs_open_after_a_ui_login(open_page) -> None:
    """A reviewer logged in to the UI opens /docs in the same browser: Swagger UI renders."""
    page = open_page("alice")
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("exception-triage")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()


def test_the_api_docs_open_through_the_browsers_basic_prompt(
    browser: Browser, base_url: str
) -> None:
    """Without a session, Chromium answers the Basic challenge with the person's credentials."""
    context = browser.new_context(
        base_url=base_url, http_credentials={"username": "alice", "password": PASSWORD}
    )
    try:
        page = context.new_page()
        response = page.goto("/docs")
        assert response is not None
        assert response.status == 200
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("exception-triage")
    finally:
        context.close()


def test_the_a_key_opens_the_erp_confirmation_and_never_approves_directly(
    open_page, base_url: str
) -> None:
    """On a case page `a` leads to the posting's confirmation; only its button approves."""
    submit(base_url, make_short_pick_case("UI-B-KEY-A", site="DC-ATL"), bearer())
    page = open_page("alice")
    page.goto("/ui/cases/UI-B-KEY-A")
    current = page.locator("article.action-card.current")
    expect(current).to_have_count(1)
    approval_id = current.get_attribute("data-id")
    action = current.locator("h3").inner_text()
    page.keyboard.press("a")
    expect(page.locator("[data-confirm-question]")).to_contain_text(f"Post {action} to ERP for ")
    expect(page.locator("[data-confirm-question]")).to_contain_text("USD\u00a01,800.00?")
    page.keyboard.press("a")  # no row here: a second `a` must not confirm
    expect(page.locator("[data-confirm-question]")).to_be_visible()
    record = next(
        a for a in approvals_of(base_url, "UI-B-KEY-A") if a["approval_id"] == approval_id
    )
    assert (record["status"], record["votes"]) == ("pending", [])
    page.get_by_role("button", name="Yes, approve the posting").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Approved {action} on UI-B-KEY-A.")
    record = next(
        a for a in approvals_of(base_url, "UI-B-KEY-A") if a["approval_id"] == approval_id
    )
    assert record["status"] == "approved"


def test_times_follow_the_browsers_zone_and_amounts_its_language(
    browser: Browser, base_url: str
) -> None:
    """A browser in New York speaking German sees EST times, UTC on hover, and 1.800,00 USD."""
    case = make_short_pick_case("UI-B-TZ", site="DC-ATL", detected_at="2026-11-20T17:05:00Z")
    submit(base_url, case, bearer())
    context = browser.new_context(base_url=base_url, timezone_id="America/New_York", locale="de-DE")
    try:
        page = context.new_page()
        page.goto("/ui/login")  # its script hands the browser's zone to the server
        page.get_by_label("User name").fill("carol")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto("/ui/cases/UI-B-TZ")
        detected = page.locator("dl.facts time").nth(1)
        expect(detected).to_have_text("20.11.2026, 12:05 EST")
        expect(detected).to_have_attribute("title", "2026-11-20 17:05 UTC")
        expect(page.locator("[data-case-amount]")).to_have_text("1.800,00\u00a0USD")
    finally:
        context.close()
