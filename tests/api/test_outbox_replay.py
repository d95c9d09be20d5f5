"""Dead letters can be replayed, by an admin through the API or by the CLI, and post once."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.results import ProposedAction
from tests.support.cases import make_inventory_case
from tests.support.erp import ErpLog, erp_server
from tests.support.processes import TRIAGE, api_process, client, service_env
from tests.support.service import (
    ADMIN_KEY,
    API_KEY,
    READ_KEY,
    Service,
    Store,
    basic,
    bearer,
    seeded_store,
)

pytestmark = pytest.mark.slow
ACTION = "post_inventory_adjustment"
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[tuple[Service, Store, ErpLog, dict[str, str]]]:
    """`triage serve` with its worker, posting to an ERP that refuses (400) until told otherwise."""
    with (
        erp_server("refuse") as (erp, url),
        seeded_store(request.param, tmp_path, tmp_path_factory.getbasetemp()) as store,
    ):
        env = {"TRIAGE_ERP_ADAPTER": "http", "TRIAGE_ERP_URL": url}
        process = api_process(store, tmp_path / "service.log", worker=True, **env)
        try:
            with client(process, store) as service:
                yield service, store, erp, service_env(store, **env)
        finally:
            process.stop()


def dead_letter(service: Service) -> tuple[str, dict[str, Any]]:
    """Approves an ERP action the ERP refuses; returns the case id and its dead outbox row."""
    case = make_inventory_case()
    assert service.submit(case).status_code == 201
    approval = service.approval_for(case["case_id"], ACTION)
    assert service.decide(approval["approval_id"], basic("alice")).status_code == 200
    service.wait_for(case["case_id"], "failed")
    dead = dead_rows(service)
    rows = [row for row in dead if row["case_id"] == case["case_id"]]
    assert len(rows) == 1, dead
    return case["case_id"], rows[0]


def dead_rows(service: Service) -> list[dict[str, Any]]:
    """Returns GET /v1/outbox?status=dead."""
    response = service.http.get("/v1/outbox", params={"status": "dead"}, headers=bearer(READ_KEY))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def replay(service: Service, outbox_id: int, headers: dict[str, str]) -> Any:
    """POSTs a replay of one outbox row."""
    return service.http.post(f"/v1/outbox/{outbox_id}/replay", headers=headers)


def replays(service: Service, case_id: str) -> list[dict[str, Any]]:
    """Returns the case's `outbox.replayed` audit entries."""
    return [e for e in service.audit(case_id) if e["kind"] == "outbox.replayed"]


def key_of(case_id: str) -> str:
    """Returns the ERP idempotency key of the case's inventory posting."""
    return ProposedAction(action=ACTION, posts_to_erp=True).key(case_id)


def test_an_admin_replays_a_dead_letter_and_the_worker_posts_it_once(
    cluster: tuple[Service, Store, ErpLog, dict[str, str]],
) -> None:
    """A refused posting stays dead until an admin replays it; others get 403; it posts once."""
    service, _store, erp, _env = cluster
    case_id, row = dead_letter(service)
    erp.mode = "accept"  # the ERP is fixed, but a dead letter is not retried on its own
    time.sleep(1.0)
    assert erp.keys("accept")[key_of(case_id)] == 0
    for headers in (bearer(API_KEY), bearer(READ_KEY), basic("alice")):
        refused = replay(service, row["outbox_id"], headers)
        assert refused.status_code == 403, refused.text
    assert replays(service, case_id) == []

    response = replay(service, row["outbox_id"], bearer(ADMIN_KEY))
    assert response.status_code == 200, response.text
    assert [r["outbox_id"] for r in response.json()] == [row["outbox_id"]]
    final = service.wait_for(case_id, "resolved")
    assert ACTION in final["executed"]
    audited = replays(service, case_id)
    assert len(audited) == 1
    assert audited[0]["actor"] == "api_key:test-admin"
    assert audited[0]["detail"]["outbox_id"] == row["outbox_id"]

    again = replay(service, row["outbox_id"], bearer(ADMIN_KEY))
    assert again.status_code == 200
    assert again.json() == []
    time.sleep(1.0)
    assert erp.keys("accept")[key_of(case_id)] == 1
    assert erp.keys("refuse")[key_of(case_id)] == 1
    assert dead_rows(service) == []


def test_the_cli_replays_one_dead_letter_and_the_worker_posts_it_once(
    cluster: tuple[Service, Store, ErpLog, dict[str, str]],
) -> None:
    """`triage outbox replay --id N`, run beside the service, revives only row N, audited."""
    service, _store, erp, env = cluster
    case_id, row = dead_letter(service)
    other_id, other = dead_letter(service)
    erp.mode = "accept"
    done = subprocess.run(
        [str(TRIAGE), "outbox", "replay", "--id", str(row["outbox_id"])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert case_id in done.stderr  # the table of replayed rows
    service.wait_for(case_id, "resolved")
    audited = replays(service, case_id)
    assert [(e["actor"], e["detail"]["outbox_id"]) for e in audited] == [
        ("system:cli", row["outbox_id"])
    ]
    time.sleep(1.0)
    assert erp.keys("accept")[key_of(case_id)] == 1
    assert [r["outbox_id"] for r in dead_rows(service)] == [other["outbox_id"]]
    assert service.case(other_id)["status"] == "failed"
    assert erp.keys("accept")[key_of(other_id)] == 0
