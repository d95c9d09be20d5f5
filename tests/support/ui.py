"""Runs the real app under uvicorn in a thread, on a data dir seeded with history and reviewers."""

from __future__ import annotations

import asyncio
import atexit
import base64
import copy
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.app import create_app
from app.wiring import open_runtime
from core.models import LooseMessage, ResolvedCase
from core.principals import KeyScope
from core.settings import Settings
from core.store import identity
from evals.simulator import simulate
from tests.support.cases import make_case

PASSWORD = "ui-test-password"
API_KEY = "trg_ui_test_orchestrator_key"
READ_KEY = "trg_ui_test_read_key"
REVIEWERS: dict[str, list[str]] = {
    "alice": ["ops_supervisor", "inventory_controller"],
    "bob": ["finance_approver", "buyer"],
    "carol": ["finance_approver", "integration_engineer", "master_data_steward", "ops_supervisor"],
    "dave": ["inventory_controller", "buyer", "ops_supervisor"],
}
SEED = 2026
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def make_settings(data_dir: Path) -> Settings:
    """Returns embedded-default settings on a temporary data directory."""
    return Settings(
        data_dir=data_dir, classifier="local", outbox_poll_s=0.2, session_secret="ui-test-secret"
    )


async def _seed(settings: Settings, history: int) -> None:
    data = simulate(cases=4, history=history, messages=60, seed=SEED)
    async with open_runtime(settings) as runtime:
        async with runtime.db.transaction() as conn:
            for name, roles in REVIEWERS.items():
                await identity.add_user(conn, name, PASSWORD, roles)
            await identity.create_key(conn, "ui-test-orchestrator", API_KEY)
            await identity.create_key(conn, "ui-test-reader", READ_KEY, KeyScope.read)
        await runtime.learner.add_messages([LooseMessage.model_validate(m) for m in data.messages])
        await runtime.learner.add_history([ResolvedCase.model_validate(h) for h in data.history])


_TEMPLATE: dict[str, Path] = {}


def seeded_settings(data_dir: Path) -> Settings:
    """Returns settings on a copy of a data dir seeded once per test run, to keep tests fast."""
    if "dir" not in _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="ui-seed-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        # A thread of its own: Playwright's sync API may already run a loop in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _seed(make_settings(template), history=240)).result()
        _TEMPLATE["dir"] = template
    shutil.copytree(_TEMPLATE["dir"], data_dir, dirs_exist_ok=True)
    return make_settings(data_dir)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Serves create_app(settings) with uvicorn in a thread and yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    """Returns HTTP Basic headers for a reviewer."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


def bearer() -> dict[str, str]:
    """Returns the orchestrator's Bearer headers."""
    return {"authorization": f"Bearer {API_KEY}"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_short_pick_case(case_id: str, **over: Any) -> dict[str, Any]:
    """Returns a clear inventory-discrepancy case detected an hour ago; fields can be replaced."""
    now = datetime.now(UTC)
    case: dict[str, Any] = {
        "case_id": case_id,
        "workflow": "pick_pack",
        "stalled_step": "short pick on wave 4411",
        "detected_at": _iso(now - timedelta(hours=1)),
        "sla_due_at": _iso(now + timedelta(hours=2, minutes=14)),
        "site": "DC-ATL",
        "refs": {"order_id": f"SO-{case_id}", "skus": ["SKU-2231"]},
        "amount": {"value": 1800.0, "currency": "USD"},
        "events": [
            {
                "at": _iso(now - timedelta(hours=2)),
                "system": "WMS",
                "type": "short_pick",
                "detail": "Picker found 4 of 12 units at A-12-03; location empty",
                "code": None,
            },
            {
                "at": _iso(now - timedelta(minutes=90)),
                "system": "ERP",
                "type": "on_hand_check",
                "detail": "ERP shows 12 on hand for SKU-2231, WMS shows 4",
                "code": None,
            },
        ],
        "messages": [
            {
                "at": _iso(now - timedelta(minutes=70)),
                "channel": "email",
                "direction": "inbound",
                "party": "supplier",
                "sender": "ops@supplier.example",
                "subject": "Re: SKU-2231 stock",
                "body": "Cycle count variance on SKU-2231; system stock does not match the bin.",
            }
        ],
        "attributes": {"erp_on_hand": 12, "wms_on_hand": 4},
    }
    return make_case(**{**case, **over})


def submit(base_url: str, case: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """Posts a case through the JSON API and returns its triage result."""
    response = httpx.post(f"{base_url}/v1/cases", json=case, headers=headers, timeout=60)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def approvals_of(base_url: str, case_id: str) -> list[dict[str, Any]]:
    """Returns a case's approval records through the JSON API."""
    response = httpx.get(
        f"{base_url}/v1/approvals",
        params={"case_id": case_id},
        headers={"authorization": f"Bearer {READ_KEY}"},
        timeout=30,
    )
    response.raise_for_status()
    records: list[dict[str, Any]] = response.json()["items"]
    return records


def csrf_of(html: str) -> str:
    """Returns the CSRF token embedded in a page's forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def live_cases(count: int) -> list[dict[str, Any]]:
    """Returns simulated stalled cases moved to the present, with SLAs from breached to tomorrow."""
    now = datetime.now(UTC)
    lines = simulate(cases=count, history=0, messages=0, seed=SEED + 1).eval_lines[:count]
    shifted = []
    for i, line in enumerate(lines):
        raw = copy.deepcopy(line["case"])
        delta = now - timedelta(minutes=50) - datetime.fromisoformat(raw["detected_at"])
        for item in (raw, *raw["events"], *raw["messages"]):
            key = "detected_at" if item is raw else "at"
            item[key] = _iso(datetime.fromisoformat(item[key]) + delta)
        raw["sla_due_at"] = _iso(now + timedelta(minutes=[-35, 25, 134, 400, 1500][i % 5]))
        raw["case_id"] = f"LIVE-{i:03d}"
        shifted.append(raw)
    return shifted


def ui_login(base_url: str, user: str = "alice", **headers: str) -> httpx.Client:
    """Returns a client signed in to the UI as a demo reviewer, with extra request headers."""
    client = httpx.Client(base_url=base_url, timeout=60, headers=headers)
    token = csrf_of(client.get("/ui/login").text)
    response = client.post(
        "/ui/login", data={"username": user, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return client
