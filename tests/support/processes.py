"""Runs the service as real OS processes (API, worker), so tests can race and SIGKILL them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.service import TEST_SECRET_KEY, Service, Store, make_settings

STARTUP_TIMEOUT_S = 90.0
TRIAGE = Path(sys.executable).parent / "triage"


def free_port() -> int:
    """Returns a port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(store: Store, **over: str) -> dict[str, str]:
    """Returns the environment of a service process on this store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env |= {
        "TRIAGE_DATA_DIR": str(store.data_dir),
        "TRIAGE_CLASSIFIER": "local",
        "TRIAGE_OUTBOX_POLL_S": "0.2",
        "TRIAGE_RUN_LEASE_S": "3",
        "TRIAGE_RECOVERY_POLL_S": "0.5",
        # Several processes share the embedded index, which only the importer writes.
        "TRIAGE_LEARN_FROM_OUTCOMES": "false",
        "TRIAGE_SECRET_KEY": TEST_SECRET_KEY,
        # The tests' callback receivers listen on localhost, which production refuses.
        "TRIAGE_CALLBACK_ALLOW_PRIVATE": "true",
    }
    if store.database_url:
        env["TRIAGE_DATABASE_URL"] = store.database_url
    return env | over


@dataclass
class Process:
    """One running process of the service, its log and (for an API) its base URL."""

    popen: subprocess.Popen[bytes]
    log: Path
    base_url: str | None = None

    def kill(self) -> None:
        """Sends SIGKILL and reaps the process."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        """Asks the process to stop (SIGTERM), then kills it if it lingers."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 40) -> str:
        """Returns the end of the process's log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start(args: list[str], env: dict[str, str], log: Path, port: int | None = None) -> Process:
    """Starts a service process; for an API, waits until it answers /healthz."""
    handle = log.open("ab")
    popen = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)
    process = Process(popen, log, f"http://127.0.0.1:{port}" if port else None)
    if port is not None:
        wait_healthy(process)
    return process


def wait_healthy(process: Process) -> None:
    """Waits until an API process answers, or raises with its log when it died."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"the service exited during startup:\n{process.tail()}")
        try:
            if httpx.get(f"{process.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the service did not become healthy:\n{process.tail()}")


def api_process(store: Store, log: Path, *, worker: bool, **env: str) -> Process:
    """Starts `triage serve` on a free port: with its embedded worker, or API only."""
    port = free_port()
    args = [str(TRIAGE), "serve"] + ([] if worker else ["--no-worker"])
    return start(args, service_env(store, PORT=str(port), **env), log, port)


def worker_process(store: Store, log: Path, **env: str) -> Process:
    """Starts `triage worker`."""
    return start([str(TRIAGE), "worker"], service_env(store, **env), log)


@contextmanager
def client(process: Process, store: Store) -> Iterator[Service]:
    """Yields the test client of an API process."""
    assert process.base_url is not None
    settings = make_settings(store.data_dir, database_url=store.database_url)
    with httpx.Client(base_url=process.base_url, timeout=60.0) as http:
        yield Service(settings=settings, base_url=process.base_url, http=http)


def stop_all(*processes: Any) -> None:
    """Stops every process given, ignoring those already gone."""
    for process in processes:
        if process is not None:
            process.stop()
