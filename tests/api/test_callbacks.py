"""Signed callbacks: every status change reaches the orchestrator once, across restarts, or dead-letters."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.store import identity
from tests.support.callbacks import body_of, receiving
from tests.support.cases import make_inventory_case, make_unknown_case
from tests.support.service import (
    ADMIN_KEY,
    API_KEY_NAME,
    READ_KEY,
    TEST_BOX,
    Service,
    Store,
    basic,
    bearer,
    make_settings,
    run_store,
    running_service,
    seeded_store,
)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ACTION = "post_inventory_adjustment"


@pytest.fixture(params=STORES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[Store]:
    """A private copy of the seeded store that outlives several server runs."""
    with seeded_store(request.param, tmp_path, tmp_path_factory.getbasetemp()) as copy:
        yield copy


def point_callbacks(store: Store, url: str, secret: str, allowed: list[str] | None = None) -> None:
    """Gives the test orchestrator key a callback URL, signing secret and allowed prefixes."""
    settings = make_settings(store.data_dir, database_url=store.database_url)
    callback = identity.CallbackConfig(url, secret, allowed)

    async def work(conn: Any) -> None:
        # The receivers listen on localhost, so the test opts in to private targets.
        await identity.set_callback(conn, API_KEY_NAME, callback, TEST_BOX, allow_private=True)

    run_store(settings.resolved_database_url, work)


def feed_of(service: Service, case_id: str) -> list[dict[str, Any]]:
    """Returns the event feed's events of one case, read with a read key."""
    response = service.http.get("/v1/events", params={"limit": 500}, headers=bearer(READ_KEY))
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["case_id"] == case_id]


def dead_letters(service: Service, case_id: str) -> list[dict[str, Any]]:
    """Returns the case's dead-lettered outbox rows."""
    response = service.http.get(
        "/v1/outbox", params={"status": "dead", "case_id": case_id}, headers=bearer(READ_KEY)
    )
    return response.json()["items"]


def until(check: Any, timeout_s: float = 30.0) -> Any:
    """Polls `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def test_every_status_change_is_called_back_once_across_a_restart(store: Store) -> None:
    """Pending approval (retried over a restart), posted and resolved each arrive once, signed."""
    secret = identity.new_callback_secret()
    case = make_inventory_case()
    case_id = case["case_id"]
    with receiving(secret) as receiver:
        point_callbacks(store, receiver.url, secret)
        receiver.fail_next = 1  # the first callback meets a 503 and waits for its retry
        with running_service(store.data_dir, database_url=store.database_url) as first:
            assert first.submit(case).json()["status"] == "pending_approval"
            approval_id = first.approval_for(case_id, ACTION)["approval_id"]
            until(lambda: receiver.refused)
        # The first server stopped with the callback's retry still due: the second sends it.
        with running_service(store.data_dir, database_url=store.database_url) as second:
            receiver.wait_for(case_id, "case.pending_approval")
            assert second.decide(approval_id, basic("alice")).status_code == 200
            second.wait_for(case_id, "resolved")
            receiver.wait_for(case_id, "case.resolved")
            time.sleep(0.5)  # a duplicate, if one were coming, would arrive now
            feed = feed_of(second, case_id)

    got = [c for c in receiver.accepted if c["data"]["case_id"] == case_id]
    assert not receiver.forged
    ids = [c["webhook_id"] for c in got]
    assert len(ids) == len(set(ids)), [body_of(c) for c in got]
    # Every event of the feed was called back exactly once, under the event's own id.
    assert sorted(ids, key=int) == [str(e["event_id"]) for e in feed]
    assert receiver.refused == [ids[0]]  # the retry carried the id of the refused attempt
    types = [c["type"] for c in got]
    assert types[0] == "case.pending_approval"
    assert types[-1] == "case.resolved"
    assert types.count("case.posted") == 1
    posted = next(c for c in got if c["type"] == "case.posted")["data"]
    assert posted["action"] == ACTION
    assert posted["reference"]
    assert all(c["data"]["event_id"] == int(c["webhook_id"]) for c in got)


def test_a_callback_to_a_receiver_that_is_down_dead_letters(store: Store) -> None:
    """With nothing listening, the webhook row fails its attempts and becomes a dead letter."""
    with receiving(identity.new_callback_secret()) as gone:
        url = gone.url  # the receiver stops at once: its port refuses connections
    secret = identity.new_callback_secret()
    point_callbacks(store, url, secret)
    case = make_inventory_case()
    over = {"outbox_max_attempts": 2, "outbox_max_backoff_s": 0.2}
    with running_service(store.data_dir, database_url=store.database_url, **over) as service:
        assert service.submit(case).json()["status"] == "pending_approval"

        letters = until(lambda: dead_letters(service, case["case_id"]))
        kinds = service.audit_kinds(case["case_id"])
        assert service.case(case["case_id"])["status"] == "pending_approval"
    assert [(r["kind"], r["action"], r["attempts"]) for r in letters] == [
        ("webhook", "case.pending_approval", 2)
    ]
    assert letters[0]["payload"]["url"] == url
    assert secret not in str(letters[0])  # the outbox, which reader keys see, never holds it
    assert kinds.count("webhook.retry_scheduled") == 1
    assert kinds.count("webhook.dead_lettered") == 1


def test_a_case_callback_url_under_an_allowed_prefix_replaces_its_keys_url(store: Store) -> None:
    """A case naming an allowed callback_url is called back there, signed with the key's secret."""
    secret = identity.new_callback_secret()
    with receiving(secret) as keys_receiver, receiving(secret) as cases_receiver:
        point_callbacks(store, keys_receiver.url, secret, allowed=[cases_receiver.url])
        routed = make_unknown_case(callback_url=cases_receiver.url + "/wf-7")
        plain = make_unknown_case()
        with running_service(store.data_dir, database_url=store.database_url) as service:
            assert service.submit(routed).status_code == 201
            assert service.submit(plain).status_code == 201
            cases_receiver.wait_for(routed["case_id"], "case.routed")
            keys_receiver.wait_for(plain["case_id"], "case.routed")
            time.sleep(0.3)
    assert cases_receiver.types_of(routed["case_id"]) == ["case.routed"]
    assert keys_receiver.types_of(routed["case_id"]) == []
    assert cases_receiver.types_of(plain["case_id"]) == []
    assert not cases_receiver.forged
    assert not keys_receiver.forged


def test_a_case_callback_url_outside_the_allowed_prefixes_is_refused_at_intake(
    store: Store,
) -> None:
    """Other hosts, ports or paths are a 422 naming callback_url and the allowed prefixes."""
    secret = identity.new_callback_secret()
    key_url = "http://127.0.0.1:8999/hooks"
    point_callbacks(store, key_url, secret)  # no prefixes given: the URL's origin only
    refused = [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://127.0.0.1:6379/",
        "https://127.0.0.1:8999/hooks",
        "http://127.0.0.1.evil.example:8999/hooks",
        "http://evil.example@127.0.0.2:8999/hooks",
    ]
    with running_service(store.data_dir, database_url=store.database_url) as service:
        for url in refused:
            case = make_unknown_case(callback_url=url)
            response = service.submit(case)
            assert response.status_code == 422, (url, response.text)
            assert response.json()["field"] == "callback_url", response.text
            assert "http://127.0.0.1:8999" in response.json()["message"], response.text
            missing = service.http.get(f"/v1/cases/{case['case_id']}", headers=bearer(READ_KEY))
            assert missing.status_code == 404  # nothing of the refused case was stored
        same_origin = make_unknown_case(callback_url="http://127.0.0.1:8999/other/path")
        assert service.submit(same_origin, wait=False).status_code in (201, 202)
        # A caller whose key has no callback configured may not name one at all.
        keyless = service.submit(
            make_unknown_case(callback_url=key_url), as_=bearer(ADMIN_KEY), wait=False
        )
        assert keyless.status_code == 422, keyless.text
        assert keyless.json()["field"] == "callback_url"


def test_a_callback_to_a_private_address_dead_letters_without_the_opt_in(store: Store) -> None:
    """Configured with the opt-in, delivered by a server without it: one attempt, a clear reason."""
    secret = identity.new_callback_secret()
    with receiving(secret) as receiver:
        point_callbacks(store, receiver.url, secret)
        case = make_unknown_case()
        over = {"callback_allow_private": False, "outbox_max_attempts": 5}
        with running_service(store.data_dir, database_url=store.database_url, **over) as service:
            assert service.submit(case).status_code == 201

            (letter,) = until(lambda: dead_letters(service, case["case_id"]))
            audit = service.audit(case["case_id"])
    assert receiver.accepted == []  # nothing was sent
    assert receiver.refused == []
    assert letter["attempts"] == 1  # refused for good, not retried
    (entry,) = [e for e in audit if e["kind"] == "webhook.dead_lettered"]
    reason = str(entry)
    assert "127.0.0.1, a loopback address" in reason, reason
    assert "TRIAGE_CALLBACK_ALLOW_PRIVATE=true" in reason, reason


def test_a_secret_sealed_under_another_key_dead_letters_and_is_never_sent_unsigned(
    store: Store,
) -> None:
    """A server started with another TRIAGE_SECRET_KEY names the key in the dead letter's reason."""
    secret = identity.new_callback_secret()
    with receiving(secret) as receiver:
        point_callbacks(store, receiver.url, secret)
        case = make_unknown_case()
        other = base64.urlsafe_b64encode(b"another server's secret key 32b!").decode()
        over = {"secret_key": other}
        with running_service(store.data_dir, database_url=store.database_url, **over) as service:
            assert service.submit(case).status_code == 201

            (letter,) = until(lambda: dead_letters(service, case["case_id"]))
            audit = service.audit(case["case_id"])
    assert receiver.accepted == []
    assert receiver.forged == []  # nothing, not even an unsigned or wrongly signed attempt
    assert letter["attempts"] == 1
    reason = str([e for e in audit if e["kind"] == "webhook.dead_lettered"])
    assert f"API key '{API_KEY_NAME}' cannot be decrypted with TRIAGE_SECRET_KEY" in reason, reason
