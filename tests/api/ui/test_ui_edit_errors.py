"""A refused parameter edit in the reviewer UI: a 422 shown beside the field, as typed, nothing saved.

The same behaviour is checked twice: as a plain form POST (no JavaScript) and in headless
Chromium, where htmx boosts the form.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.ui import (
    PASSWORD,
    approvals_of,
    bearer,
    csrf_of,
    make_short_pick_case,
    seeded_settings,
    serve,
    submit,
    ui_login,
)

ACTION = "post_inventory_adjustment"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = seeded_settings(tmp_path_factory.mktemp("ui-edit-errors"))
    with serve(settings) as url:
        yield url


def _approval(base_url: str, case_id: str) -> dict[str, Any]:
    return next(a for a in approvals_of(base_url, case_id) if a["action"] == ACTION)


def _audit_kinds(base_url: str, case_id: str) -> list[str]:
    response = httpx.get(f"{base_url}/v1/cases/{case_id}/audit", headers=bearer(), timeout=30)
    response.raise_for_status()
    return [entry["kind"] for entry in response.json()["items"]]


def _field_value(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert found, f"no field {name}"
    return found.group(1)


@pytest.mark.parametrize(
    ("typed", "field", "says"),
    [
        ({"param.quantity_delta": "twelve"}, "quantity_delta", "not a whole number"),
        ({"param.quantity_delta": "0"}, "quantity_delta", "must not be zero"),
        ({"param.sku": "SKU 22 31"}, "sku", "not an identifier"),
    ],
)
def test_a_bad_value_comes_back_as_a_422_beside_its_field_as_typed(
    base_url: str, typed: dict[str, str], field: str, says: str
) -> None:
    """Without JS: the case page is re-rendered (422), the error sits by the field, nothing saved."""
    case_id = f"UI-EDIT-BAD-{field}-{len(says)}"
    submit(base_url, make_short_pick_case(case_id, site="DC-EDITERR"), bearer())
    before = _approval(base_url, case_id)
    client = ui_login(base_url, "dave")
    token = csrf_of(client.get(f"/ui/cases/{case_id}").text)
    form = {"decision": "edit", "reason": "recount", "csrf_token": token, **typed}
    response = client.post(f"/ui/approvals/{before['approval_id']}", data=form)

    assert response.status_code == 422, response.text
    page = response.text
    error = re.search(rf'data-edit-error="{field}">([^<]*)<', page)
    assert error, "the error is not beside the field"
    assert says in error.group(1)
    for name, value in typed.items():
        assert _field_value(page, name) == value
    assert _field_value(page, "reason") == "recount"
    assert re.search(r'<details class="edit" open>', page)
    after = _approval(base_url, case_id)
    assert after["params"] == before["params"]
    assert after["votes"] == []
    assert "approval.edited" not in _audit_kinds(base_url, case_id)


def test_an_unknown_parameter_is_refused_by_name_and_nothing_changes(base_url: str) -> None:
    """A field the action does not declare (a forged form) is a 422 naming it, not ignored."""
    case_id = "UI-EDIT-UNKNOWN"
    submit(base_url, make_short_pick_case(case_id, site="DC-EDITERR"), bearer())
    before = _approval(base_url, case_id)
    client = ui_login(base_url, "dave")
    token = csrf_of(client.get(f"/ui/cases/{case_id}").text)
    form = {"decision": "edit", "param.frobnicate": "x", "param.quantity_delta": "-3"}
    response = client.post(
        f"/ui/approvals/{before['approval_id']}", data={**form, "csrf_token": token}
    )

    assert response.status_code == 422, response.text
    error = re.search(r"data-edit-error>([^<]*)<", response.text)
    assert error
    assert "frobnicate" in error.group(1)
    assert _field_value(response.text, "param.quantity_delta") == "-3"
    assert _approval(base_url, case_id)["params"] == before["params"]


def test_a_good_edit_still_redirects_and_saves_typed_values(base_url: str) -> None:
    """The valid path is unchanged: 303 to the case, the number stored as a number."""
    case_id = "UI-EDIT-GOOD"
    submit(base_url, make_short_pick_case(case_id, site="DC-EDITERR"), bearer())
    before = _approval(base_url, case_id)
    client = ui_login(base_url, "dave")
    token = csrf_of(client.get(f"/ui/cases/{case_id}").text)
    form = {"decision": "edit", "param.quantity_delta": "-10", "csrf_token": token}
    response = client.post(f"/ui/approvals/{before['approval_id']}", data=form)
    assert response.status_code == 303
    assert _approval(base_url, case_id)["params"]["quantity_delta"] == -10


# ---- the same in headless Chromium ------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is missing; run `make browser`")
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.mark.browser
def test_in_the_browser_a_bad_edit_shows_inline_and_a_fixed_one_saves(
    browser: Any, base_url: str
) -> None:
    """dave types `twelve`: the error shows by the field with `twelve` kept; `-10` then saves."""
    expect = pytest.importorskip("playwright.sync_api").expect
    case_id = "UI-EDIT-BROWSER"
    submit(base_url, make_short_pick_case(case_id, site="DC-EDITERR"), bearer())
    before = _approval(base_url, case_id)
    context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"/ui/cases/{case_id}")
        page.get_by_label("User name").fill("dave")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        card = page.locator("article.action-card").filter(
            has=page.get_by_role("heading", name=ACTION, exact=True)
        )
        card.locator("summary", has_text="Edit parameters").click()
        card.locator('input[name="param.quantity_delta"]').fill("twelve")
        card.get_by_role("button", name="Save edit").click()

        error = page.locator('[data-edit-error="quantity_delta"]')
        expect(error).to_be_visible()
        expect(error).to_contain_text("not a whole number")
        field = page.locator('input[name="param.quantity_delta"]')
        expect(field).to_have_value("twelve")
        expect(field).to_have_attribute("aria-invalid", "true")
        assert page.url.endswith(f"/ui/cases/{case_id}")
        assert _approval(base_url, case_id)["params"] == before["params"]

        field.fill("-10")
        page.get_by_role("button", name="Save edit").click()
        expect(page.get_by_role("alert")).to_contain_text(f"Edited {ACTION}")
        expect(page.locator("[data-edit-error]")).to_have_count(0)
        assert _approval(base_url, case_id)["params"]["quantity_delta"] == -10
    finally:
        context.close()
