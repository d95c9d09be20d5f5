"""The event feed pages in order and resumes; the four listings page within their limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.principals import KeyScope
from core.store import identity
from tests.support.cases import make_inventory_case, make_unknown_case
from tests.support.service import (
    ADMIN_KEY,
    API_KEY,
    READ_KEY,
    Service,
    basic,
    bearer,
    make_settings,
    run_store,
    running_service,
    seeded_store,
)

OTHER_KEY = "trg_test_other_orchestrator_key"
ACTION = "post_inventory_adjustment"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, list[str]]]:
    """A service where two orchestrators submitted cases; three posted, one was routed."""
    root = tmp_path_factory.getbasetemp()
    with seeded_store("sqlite", tmp_path_factory.mktemp("feed"), root) as store:
        settings = make_settings(store.data_dir, database_url=store.database_url)

        async def work(conn: Any) -> None:
            await identity.create_key(conn, "other-orchestrator", OTHER_KEY, KeyScope.orchestrator)

        run_store(settings.resolved_database_url, work)
        with running_service(store.data_dir, database_url=store.database_url) as svc:
            mine = [make_inventory_case() for _ in range(3)]
            for case in mine:
                assert svc.submit(case).json()["status"] == "pending_approval"
                approval = svc.approval_for(case["case_id"], ACTION)
                assert svc.decide(approval["approval_id"], basic("alice")).status_code == 200
            for case in mine:
                svc.wait_for(case["case_id"], "resolved")
            theirs = make_unknown_case()
            assert svc.submit(theirs, as_=bearer(OTHER_KEY)).status_code == 201
            yield svc, [c["case_id"] for c in mine] + [theirs["case_id"]]


def pages(
    svc: Service, path: str, key: str, limit: int, params: dict[str, Any] | None = None
) -> list[list[dict[str, Any]]]:
    """Follows a listing's cursors from the start and returns every page's items."""
    found: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = (params or {}) | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = svc.http.get(path, params=query, headers=bearer(key))
        assert response.status_code == 200, response.text
        found.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found
        assert len(found) < 200, "the cursor never ended"


def read_feed(svc: Service, key: str, after: str | None, limit: int) -> dict[str, Any]:
    """Returns one call of the event feed."""
    params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
    response = svc.http.get("/v1/events", params=params, headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_feed_pages_in_order_and_resumes_from_a_cursor(
    service: tuple[Service, list[str]],
) -> None:
    """Small pages chained by their cursors give the whole feed in id order, each event once."""
    svc, case_ids = service
    whole = read_feed(svc, READ_KEY, None, 500)["items"]
    ids = [e["event_id"] for e in whole]
    assert ids == sorted(set(ids))
    assert {e["case_id"] for e in whole} >= set(case_ids)
    for case_id in case_ids[:3]:
        types = [e["type"] for e in whole if e["case_id"] == case_id]
        assert types[0] == "case.pending_approval"
        assert types.count("case.posted") == 1
        assert types[-1] == "case.resolved"
    chained: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = read_feed(svc, READ_KEY, cursor, 3)
        assert len(page["items"]) <= 3
        if not page["items"]:
            assert page["next_cursor"] == cursor  # caught up: the same cursor polls again
            break
        chained += page["items"]
        cursor = page["next_cursor"]
    assert chained == whole
    middle = whole[len(whole) // 2]["event_id"]
    resumed = read_feed(svc, READ_KEY, str(middle), 500)["items"]
    assert resumed == [e for e in whole if e["event_id"] > middle]


def test_an_orchestrator_sees_only_its_own_cases_events(
    service: tuple[Service, list[str]],
) -> None:
    """Each orchestrator key reads the events of the cases it submitted; admins read them all."""
    svc, case_ids = service
    mine = read_feed(svc, API_KEY, None, 500)["items"]
    theirs = read_feed(svc, OTHER_KEY, None, 500)["items"]
    everything = read_feed(svc, ADMIN_KEY, None, 500)["items"]
    assert {e["case_id"] for e in theirs} == {case_ids[3]}
    assert [e["type"] for e in theirs] == ["case.routed"]
    assert case_ids[3] not in {e["case_id"] for e in mine}
    assert set(case_ids[:3]) <= {e["case_id"] for e in mine}
    assert {e["event_id"] for e in mine} | {e["event_id"] for e in theirs} <= {
        e["event_id"] for e in everything
    }
    # A short page of another key's events must not hide the rest behind its cursor.
    first = read_feed(svc, OTHER_KEY, None, 1)
    assert read_feed(svc, OTHER_KEY, first["next_cursor"], 500)["items"] == []


def test_a_feed_cursor_that_is_not_an_event_id_is_a_422(
    service: tuple[Service, list[str]],
) -> None:
    """`after` must be an event id the feed gave out."""
    svc, _ = service
    response = svc.http.get("/v1/events", params={"after": "abc"}, headers=bearer(READ_KEY))
    assert response.status_code == 422
    assert response.json()["field"] == "after"


@pytest.mark.parametrize(
    ("path", "key", "params"),
    [
        ("/v1/approvals", READ_KEY, {}),
        ("/v1/postings", READ_KEY, {}),
        ("/v1/outbox", READ_KEY, {}),
        ("/v1/outbox", READ_KEY, {"status": "delivered"}),
        ("/v1/cases/{case}/audit", API_KEY, {}),
    ],
)
def test_listings_page_within_their_limit_and_chain_to_the_whole(
    service: tuple[Service, list[str]], path: str, key: str, params: dict[str, Any]
) -> None:
    """Pages of two chain, by their cursors, to exactly the one big page, in the same order."""
    svc, case_ids = service
    path = path.format(case=case_ids[0])
    (whole,) = pages(svc, path, key, 500, params)
    assert len(whole) >= 3, whole
    small = pages(svc, path, key, 2, params)
    assert all(len(page) <= 2 for page in small)
    assert [item for page in small for item in page] == whole


def test_a_listing_cursor_this_service_did_not_issue_is_a_422(
    service: tuple[Service, list[str]],
) -> None:
    """A forged cursor is refused with a 422 that names the cursor."""
    svc, _ = service
    for path in ("/v1/approvals", "/v1/postings", "/v1/outbox"):
        response = svc.http.get(path, params={"cursor": "!!"}, headers=bearer(READ_KEY))
        assert response.status_code == 422, (path, response.text)
        assert response.json()["field"] == "cursor"
