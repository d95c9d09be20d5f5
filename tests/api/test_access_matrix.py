"""The authorization matrix: every route of the app, for every kind of caller, gives one status."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from api.app import create_app
from core.settings import Settings
from core.store import identity
from core.taxonomy import load_taxonomy
from tests.support.cases import make_case
from tests.support.service import (
    ADMIN_KEY,
    API_KEY,
    PASSWORD,
    READ_KEY,
    Service,
    basic,
    bearer,
    empty_store,
    run_store,
    running_service,
)

ROLES = sorted({a.approver_role for a in load_taxonomy().actions if a.approver_role})
LOGIN = "login"  # a 303 to the login page: the UI does not know this caller
_ = None  # the request has no body

# Columns: anonymous, orchestrator key, read key, admin key, reviewer (the same for every role;
# what a role may approve is the policy gate's business, tested in tests/policies).
# Ids in paths name nothing, so allowed reads of one item are 404s.
MATRIX: dict[tuple[str, str], tuple[Any, tuple[Any, ...]]] = {
    ("GET", "/healthz"): (_, (200, 200, 200, 200, 200)),
    ("GET", "/readyz"): (_, (200, 200, 200, 200, 200)),
    ("GET", "/metrics"): (_, (401, 403, 200, 200, 200)),
    ("GET", "/"): (_, (307, 307, 307, 307, 307)),
    ("GET", "/openapi.json"): (_, (401, 200, 200, 200, 200)),
    ("GET", "/docs"): (_, (401, 200, 200, 200, 200)),
    ("GET", "/static/swagger-ui"): (_, (200, 200, 200, 200, 200)),
    ("POST", "/v1/cases"): ({}, (401, 422, 403, 422, 422)),
    ("GET", "/v1/cases"): (_, (401, 200, 200, 200, 200)),
    ("GET", "/v1/cases/{case_id}"): (_, (401, 404, 404, 404, 404)),
    ("GET", "/v1/cases/{case_id}/audit"): (_, (401, 404, 404, 404, 404)),
    ("GET", "/v1/events"): (_, (401, 200, 200, 200, 200)),
    ("GET", "/v1/approvals"): (_, (401, 403, 200, 200, 200)),
    ("GET", "/v1/approvals/{approval_id}"): (_, (401, 403, 404, 404, 404)),
    ("POST", "/v1/approvals/{approval_id}/decision"): (
        {"decision": "approve"},
        (401, 403, 403, 404, 404),
    ),
    ("POST", "/v1/history"): ([], (401, 200, 403, 200, 200)),
    ("POST", "/v1/messages"): ([], (401, 200, 403, 200, 200)),
    ("GET", "/v1/outbox"): (_, (401, 403, 200, 200, 200)),
    ("GET", "/v1/postings"): (_, (401, 403, 200, 200, 200)),
    # "X-1" is no outbox id: whoever passes the scope check gets the 422 that names it.
    ("POST", "/v1/outbox/{outbox_id}/replay"): (_, (401, 403, 403, 422, 422)),
    ("POST", "/slack/actions"): ({}, (401, 401, 401, 401, 401)),
    ("GET", "/ui/static"): (_, (200, 200, 200, 200, 200)),
    ("GET", "/ui"): (_, (303, 303, 303, 303, 303)),
    ("GET", "/ui/"): (_, (303, 303, 303, 303, 303)),
    ("GET", "/ui/login"): (_, (200, 200, 200, 200, 200)),
    ("POST", "/ui/login"): ({"username": "nobody", "password": "x"}, (401, 401, 401, 401, 401)),
    ("GET", "/ui/queue"): (_, (LOGIN, LOGIN, LOGIN, LOGIN, 200)),
    ("GET", "/ui/queue/rows"): (_, (LOGIN, LOGIN, LOGIN, LOGIN, 200)),
    ("GET", "/ui/queue.csv"): (_, (LOGIN, LOGIN, LOGIN, LOGIN, 200)),
    ("GET", "/ui/cases/{case_id}"): (_, (LOGIN, LOGIN, LOGIN, LOGIN, 404)),
    ("POST", "/ui/approvals/{approval_id}"): ({}, (LOGIN, LOGIN, LOGIN, LOGIN, 303)),
    ("GET", "/ui/approvals/{approval_id}/confirm"): (_, (LOGIN, LOGIN, LOGIN, LOGIN, 404)),
    ("POST", "/ui/cases/{case_id}/correction"): ({}, (LOGIN, LOGIN, LOGIN, LOGIN, 303)),
    ("GET", "/ui/dashboard"): (_, (LOGIN, LOGIN, LOGIN, LOGIN, 200)),
    ("GET", "/ui/dashboard.csv"): (_, (LOGIN, LOGIN, LOGIN, LOGIN, 200)),
    ("POST", "/ui/logout"): ({}, (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),  # runs last
}
MOUNT_PROBES = {"/static/swagger-ui": "/swagger-ui.css", "/ui/static": "/app.css"}
CALLERS = ["anonymous", "orchestrator", "read", "admin", *(f"reviewer:{r}" for r in ROLES)]
KEYS = {"orchestrator": API_KEY, "read": READ_KEY, "admin": ADMIN_KEY}


def _operations(app: Any) -> set[tuple[str, str]]:
    """Returns (method, path) of every route of an app; a mount counts as one GET."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):  # routers are included lazily
        if isinstance(context.original_route, Mount):
            found.add(("GET", str(context.path)))
        else:
            found |= {(m, str(context.path)) for m in context.methods or () if m != "HEAD"}
    return found


def test_every_route_has_a_row_in_the_matrix() -> None:
    """A new route, Slack's included, fails here until someone decides who may call it."""
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            data_dir=Path(scratch), slack_bot_token="xoxb-test", slack_signing_secret="s"
        )
        routes = _operations(create_app(settings))
    assert routes == set(MATRIX)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service with the three test keys, the reviewers, one reviewer per role, and no Slack."""
    with empty_store(tmp_path_factory.mktemp("matrix")) as store:
        url = f"sqlite+aiosqlite:///{store.data_dir / 'triage.db'}"

        async def add_role_reviewers(conn: Any) -> None:
            for role in ROLES:
                await identity.add_user(conn, f"r-{role}", PASSWORD, [role])

        run_store(url, add_role_reviewers)
        with running_service(store.data_dir) as svc:
            yield svc


def _client(service: Service, caller: str) -> tuple[httpx.Client, dict[str, str], str]:
    """Returns a client with a UI session for the caller, its API headers and its CSRF token."""
    client = httpx.Client(base_url=service.base_url, timeout=60)
    page = client.get("/ui/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    if not caller.startswith("reviewer:"):
        return client, bearer(KEYS[caller]) if caller in KEYS else {}, token.group(1)
    user = "r-" + caller.split(":", 1)[1]
    form = {"username": user, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/ui/login", data=form).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/queue").text)
    assert token
    return client, basic(user), token.group(1)


def _outcome(response: httpx.Response) -> Any:
    location = response.headers.get("location", "")
    return (
        LOGIN
        if response.status_code == 303 and location.startswith("/ui/login")
        else (response.status_code)
    )


@pytest.mark.parametrize("caller", CALLERS)
def test_the_authorization_matrix(service: Service, caller: str) -> None:
    """Each caller gets exactly the status its column of the matrix says, on every route."""
    column = min(CALLERS.index(caller), 4)
    client, headers, token = _client(service, caller)
    served = _operations(create_app(service.settings))
    wrong = {}
    try:
        for (method, path), (body, expected) in MATRIX.items():
            if (method, path) not in served:
                continue  # Slack is not configured here; tests/api/test_slack_actions covers it
            url = re.sub(r"\{[^}]+\}", "X-1", path) + MOUNT_PROBES.get(path, "")
            if path.startswith("/ui") and method == "POST":
                response = client.post(url, data={**(body or {}), "csrf_token": token})
            else:
                response = client.request(method, url, json=body, headers=headers)
            if _outcome(response) != expected[column]:
                wrong[f"{method} {path}"] = (_outcome(response), expected[column])
    finally:
        client.close()
    assert wrong == {}, f"(got, expected) for {caller}"


def test_an_orchestrator_key_reads_only_the_cases_it_submitted(service: Service) -> None:
    """Another caller's case is a 404 to it, absent from its list, and a 409 to re-submit."""
    theirs, mine = make_case(), make_case()
    assert service.submit(theirs, as_=bearer(ADMIN_KEY)).status_code == 201
    assert service.submit(mine).status_code == 201
    for path in (f"/v1/cases/{theirs['case_id']}", f"/v1/cases/{theirs['case_id']}/audit"):
        assert service.http.get(path, headers=bearer()).status_code == 404
        assert service.http.get(path, headers=bearer(READ_KEY)).status_code == 200
    listed = service.http.get("/v1/cases", headers=bearer()).json()["items"]
    assert [c["case_id"] for c in listed] == [mine["case_id"]]
    assert service.submit(theirs).status_code == 409
    assert service.http.get(f"/v1/cases/{mine['case_id']}", headers=bearer()).status_code == 200
