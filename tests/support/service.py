"""Runs the real app under uvicorn in a thread, seeds it once per session and copies the seed."""

from __future__ import annotations

import asyncio
import atexit
import base64
import json
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from sqlalchemy import select

from api.app import create_app
from app.wiring import Overrides
from core.principals import KeyScope
from core.sealed_secrets import SecretBox
from core.settings import Settings
from core.store import identity, tables
from core.store.db import Database
from evals.simulator import simulate

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

API_KEY = "trg_test_orchestrator_key"
API_KEY_NAME = "test-orchestrator"
READ_KEY = "trg_test_read_key"
ADMIN_KEY = "trg_test_admin_key"
# The server key that seals callback secrets in every test store (a Fernet key: 32 bytes, base64).
TEST_SECRET_KEY = base64.urlsafe_b64encode(b"exception-triage test secret key").decode()
TEST_BOX = SecretBox(TEST_SECRET_KEY, "TRIAGE_SECRET_KEY")
PASSWORD = "correct-horse-battery"
REVIEWERS: dict[str, list[str]] = {
    "alice": ["ops_supervisor", "inventory_controller"],
    "bob": ["ops_supervisor", "inventory_controller"],
    "carol": ["ops_supervisor", "inventory_controller"],
    "erin": ["finance_approver"],
}
SEED = simulate(cases=0, history=250, messages=80, seed=3)
STARTUP_TIMEOUT_S = 90.0


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    """Returns the Authorization header of a reviewer's HTTP Basic credentials."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(key: str = API_KEY) -> dict[str, str]:
    """Returns the Authorization header of an orchestrator API key."""
    return {"Authorization": f"Bearer {key}"}


def jsonl(records: list[dict[str, Any]]) -> str:
    """Returns records as JSON Lines."""
    return "".join(json.dumps(r) + "\n" for r in records)


@dataclass
class Service:
    """A running service: its settings, base URL and an HTTP client bound to it."""

    settings: Settings
    base_url: str
    http: httpx.Client

    def submit(
        self, case: dict[str, Any], *, as_: dict[str, str] | None = None, wait: bool = True
    ) -> httpx.Response:
        """POSTs a case (as the orchestrator unless told otherwise)."""
        params = {} if wait else {"wait": "false"}
        return self.http.post("/v1/cases", json=case, params=params, headers=as_ or bearer())

    def case(self, case_id: str) -> dict[str, Any]:
        """Returns a case's triage, asserting it exists."""
        response = self.http.get(f"/v1/cases/{case_id}", headers=bearer(READ_KEY))
        assert response.status_code == 200, response.text
        return response.json()

    def every_page(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Returns the items of every page of a paged listing, following its cursors."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = (params or {}) | ({"cursor": cursor} if cursor else {}) | {"limit": "500"}
            response = self.http.get(path, params=query, headers=bearer(READ_KEY))
            assert response.status_code == 200, response.text
            items += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return items

    def audit(self, case_id: str) -> list[dict[str, Any]]:
        """Returns a case's audit trail."""
        return self.every_page(f"/v1/cases/{case_id}/audit")

    def audit_kinds(self, case_id: str) -> list[str]:
        """Returns the kinds of a case's audit rows, in order."""
        return [entry["kind"] for entry in self.audit(case_id)]

    def approvals(self, case_id: str, status: str | None = None) -> list[dict[str, Any]]:
        """Returns a case's approvals."""
        params = {"case_id": case_id} | ({"status": status} if status else {})
        return self.every_page("/v1/approvals", params)

    def approval_for(self, case_id: str, action: str) -> dict[str, Any]:
        """Returns the one approval of a case's action."""
        found = [a for a in self.approvals(case_id) if a["action"] == action]
        assert len(found) == 1, f"approvals of {case_id}: {self.approvals(case_id)}"
        return found[0]

    def decide(
        self, approval_id: str, who: dict[str, str], decision: str = "approve", **body: Any
    ) -> httpx.Response:
        """POSTs a decision on an approval with the given credentials."""
        return self.http.post(
            f"/v1/approvals/{approval_id}/decision",
            json={"decision": decision, **body},
            headers=who,
        )

    def postings(self, case_id: str) -> list[dict[str, Any]]:
        """Returns what the sandbox ERP recorded for a case."""
        return self.every_page("/v1/postings", {"case_id": case_id})

    def wait_for(self, case_id: str, *statuses: str, timeout_s: float = 30.0) -> dict[str, Any]:
        """Polls a case until it reaches one of the statuses and returns it."""
        deadline = time.monotonic() + timeout_s
        while True:
            current = self.case(case_id)
            if current["status"] in statuses:
                return current
            if time.monotonic() > deadline:
                raise AssertionError(f"{case_id} stayed {current['status']}, wanted {statuses}")
            time.sleep(0.1)


def make_settings(
    data_dir: Path,
    *,
    database_url: str | None = None,
    erp_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    **over: Any,
) -> Settings:
    """Returns the Settings of a test service; extra_env is read as TRIAGE_* environment."""
    saved = {k: os.environ.get(k) for k in extra_env or {}}
    os.environ.update(extra_env or {})
    try:
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "database_url": database_url,
            "erp_adapter": "http" if erp_url else "sandbox",
            "erp_url": erp_url,
            "outbox_poll_s": 0.2,
            "classifier": "local",
            "secret_key": TEST_SECRET_KEY,
            # The tests' callback receivers listen on localhost, which production refuses.
            "callback_allow_private": True,
        }
        return Settings(**(values | over))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def running_service(
    data_dir: Path,
    *,
    database_url: str | None = None,
    erp_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    overrides: Overrides | None = None,
    **over: Any,
) -> Iterator[Service]:
    """Serves the real app on a free port until the block ends; re-entering restarts it."""
    settings = make_settings(
        data_dir, database_url=database_url, erp_url=erp_url, extra_env=extra_env, **over
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, overrides), log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base_url, timeout=60.0) as http:
            _wait_until_healthy(http, thread)
            yield Service(settings=settings, base_url=base_url, http=http)
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()
        assert not thread.is_alive(), "the server did not stop"


def _wait_until_healthy(http: httpx.Client, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the server stopped during startup (see the log above)")
        try:
            if http.get("/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server did not become healthy in time")


# ---- identities and direct store access ------------------------------------------------------


def run_store(database_url: str, work: Any) -> Any:
    """Runs `await work(conn)` in one transaction on the given store, from the test thread."""

    async def main() -> Any:
        db = Database(database_url)
        try:
            async with db.transaction() as conn:
                return await work(conn)
        finally:
            await db.dispose()

    return asyncio.run(main())


def add_identities(database_url: str) -> None:
    """Creates the test API keys (one per scope) and the reviewers through the identity store."""

    async def work(conn: Any) -> None:
        await identity.create_key(conn, API_KEY_NAME, API_KEY)
        await identity.create_key(conn, "test-reader", READ_KEY, KeyScope.read)
        await identity.create_key(conn, "test-admin", ADMIN_KEY, KeyScope.admin)
        for name, roles in REVIEWERS.items():
            await identity.add_user(conn, name, PASSWORD, roles)

    run_store(database_url, work)


def table_rows(
    settings: Settings, table: str, value: str, *, column: str = "case_id"
) -> list[dict[str, Any]]:
    """Returns the rows of a store table (e.g. action_log, outbox) whose column has the value."""
    source = getattr(tables, table)

    async def work(conn: Any) -> list[dict[str, Any]]:
        query = select(source).where(source.c[column] == value)
        return [dict(row) for row in (await conn.execute(query)).mappings()]

    return run_store(settings.resolved_database_url, work)


# ---- PostgreSQL databases --------------------------------------------------------------------


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def create_database(template: str | None = None) -> str:
    """Creates a fresh PostgreSQL database (optionally copied from a template); returns its name."""
    name = f"triage_test_{secrets.token_hex(6)}"
    suffix = f" TEMPLATE {template}" if template else ""
    for attempt in range(20):
        try:
            _admin(f"CREATE DATABASE {name}{suffix}")
            return name
        except psycopg.errors.ObjectInUse:
            # The template is briefly busy right after a server that used it stopped.
            time.sleep(0.1 * (attempt + 1))
    _admin(f"CREATE DATABASE {name}{suffix}")
    return name


def drop_database(name: str) -> None:
    """Drops a test database, disconnecting anyone still on it."""
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """Yields the SQLAlchemy URL of a new, empty PostgreSQL database and drops it afterwards."""
    name = create_database()
    try:
        yield PG_URL.format(name=name)
    finally:
        drop_database(name)


# ---- seeded templates ------------------------------------------------------------------------


@dataclass
class Template:
    """A data directory (and for PostgreSQL a template database) holding the seeded state."""

    data_dir: Path
    database: str | None = None


@dataclass
class _Templates:
    root: Path | None = None
    made: dict[str, Template] = field(default_factory=dict)


_TEMPLATES = _Templates()


def _seed(service: Service) -> None:
    for path, records in (("/v1/messages", SEED.messages), ("/v1/history", SEED.history)):
        response = service.http.post(
            path,
            content=jsonl(records),
            headers=bearer() | {"Content-Type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["rejected"] == 0, response.text


def seeded_template(store: str, root: Path) -> Template:
    """Returns the session's seeded template of a store ("sqlite" or "postgres"), made once."""
    if store in _TEMPLATES.made:
        return _TEMPLATES.made[store]
    data_dir = root / f"template-{store}"
    database = None
    url = None
    if store == "postgres":
        database = create_database()
        atexit.register(drop_database, database)
        url = PG_URL.format(name=database)
    settings = make_settings(data_dir, database_url=url)
    with running_service(data_dir, database_url=url) as service:
        add_identities(settings.resolved_database_url)
        _seed(service)
    template = Template(data_dir=data_dir, database=database)
    _TEMPLATES.made[store] = template
    return template


@dataclass
class Store:
    """A per-test copy of the seeded state: where the service keeps its data."""

    data_dir: Path
    database_url: str | None


@contextmanager
def seeded_store(store: str, tmp_path: Path, template_root: Path) -> Iterator[Store]:
    """Yields a private copy of the seeded template; a PostgreSQL copy is dropped afterwards."""
    template = seeded_template(store, template_root)
    data_dir = tmp_path / "data"
    shutil.copytree(template.data_dir, data_dir)
    if template.database is None:
        yield Store(data_dir=data_dir, database_url=None)
        return
    name = create_database(template.database)
    try:
        yield Store(data_dir=data_dir, database_url=PG_URL.format(name=name))
    finally:
        drop_database(name)


def in_order(seen: list[str], wanted: list[str]) -> bool:
    """Tells whether `wanted` occurs in `seen` as a subsequence (same order, gaps allowed)."""
    remaining = iter(seen)
    return all(any(kind == w for kind in remaining) for w in wanted)


@contextmanager
def empty_store(tmp_path: Path) -> Iterator[Store]:
    """Yields an unseeded SQLite store that holds only the test key and reviewers."""
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir)
    asyncio.run(_migrate(settings.resolved_database_url))
    add_identities(settings.resolved_database_url)
    yield Store(data_dir=data_dir, database_url=None)


async def _migrate(database_url: str) -> None:
    db = Database(database_url)
    try:
        await asyncio.to_thread(db.migrate)
    finally:
        await db.dispose()
