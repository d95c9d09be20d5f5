"""Screenshots of the queue, a case and the dashboard, wide and phone-sized, light and dark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import SHOTS, chromium
from tests.support.ui import (
    PASSWORD,
    bearer,
    live_cases,
    make_short_pick_case,
    seeded_settings,
    serve,
    submit,
)

pytestmark = pytest.mark.browser

WIDTHS = {"wide": 1400, "phone": 390}
SCHEMES = ("light", "dark")
PAGES = {
    "queue": "/ui/queue",
    "search": "/ui/queue?q=po-45000",
    "case": "/ui/cases/SHOT-CASE-2026-000417",
    "dashboard": "/ui/dashboard?days=14",
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = seeded_settings(tmp_path_factory.mktemp("ui-shots"))
    with serve(settings) as url:
        for case in live_cases(6):
            submit(url, case, bearer())
        refs = {"order_id": "SO-2026-118843", "po_id": "PO-4500017734", "skus": ["SKU-2231"]}
        case = make_short_pick_case("SHOT-CASE-2026-000417", site="DC-ATL-02", refs=refs)
        submit(url, case, bearer())
        yield url


@pytest.fixture(scope="module")
def signed_in(base_url: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Yields the browser and the storage state of a logged-in reviewer."""
    with chromium() as browser:
        context = browser.new_context(base_url=base_url)
        page = context.new_page()
        page.goto("/ui/login")
        page.get_by_label("User name").fill("carol")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/ui/queue")
        state = context.storage_state()
        context.close()
        yield browser, state


# Every id and site-code element on the page that spans more than one line box.
WRAPPED = """() => [...document.querySelectorAll('a.case-link, span.id, td.code, dd.code, span.code')]
  .filter(el => el.offsetParent !== null)
  .filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    return tops.size > 1;
  }).map(el => el.textContent.trim())"""
BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# Field values squeezed to a sliver beside their labels, where text breaks every character or so.
SQUEEZED = """() => [...document.querySelectorAll('dl.fields dd')]
  .filter(el => el.offsetParent !== null && el.textContent.trim().length > 3)
  .filter(el => el.getBoundingClientRect().width < 60)
  .map(el => el.textContent.trim().slice(0, 40))"""


def _luminance(css: str) -> float:
    red, green, blue = (int(part) for part in css[css.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", list(WIDTHS))
def test_pages_fit_keep_ids_whole_and_follow_the_colour_scheme(
    signed_in: tuple[Any, dict[str, Any]], base_url: str, size: str, scheme: str
) -> None:
    """Each page fits the width with no sideways page scroll, ids do not wrap, dark is dark."""
    browser, state = signed_in
    context = browser.new_context(
        base_url=base_url,
        storage_state=state,
        viewport={"width": WIDTHS[size], "height": 900},
        color_scheme=scheme,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page = context.new_page()
        for name, path in PAGES.items():
            page.goto(path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SHOTS / f"{name}-{size}-{scheme}.png"), full_page=True)
            assert page.evaluate(OVERFLOW) <= 0, f"{name} scrolls sideways at {WIDTHS[size]} px"
            assert page.evaluate(WRAPPED) == [], f"{name} wraps ids at {WIDTHS[size]} px"
            assert page.evaluate(SQUEEZED) == [], f"{name} squeezes values at {WIDTHS[size]} px"
            shade = _luminance(page.evaluate(BACKGROUND))
            assert shade < 0.15 if scheme == "dark" else shade > 0.85, (name, scheme, shade)
            rows = page.locator("#queue-rows tr[data-nav-row] a.case-link")
            if name == "queue":
                assert rows.count() >= 6
            if name == "search":
                assert set(rows.all_inner_texts()) == {"SHOT-CASE-2026-000417"}
            if name == "case":
                assert page.get_by_role("heading", name="SHOT-CASE-2026-000417").is_visible()
    finally:
        context.close()
