"""Runs `triage serve` (and, on PostgreSQL, `triage worker`) as real processes and measures them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.errors import ConfigurationError
from core.sealed_secrets import KEY_FILE, key_file

# The console script installed beside this interpreter.
TRIAGE = Path(sys.executable).with_name("triage")
START_TIMEOUT_S = 120.0


def free_port() -> int:
    """Returns a port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(data_dir: Path, database_url: str | None, **over: str) -> dict[str, str]:
    """Returns the production environment of the service on this store, the local classifier."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "OPENAI_"))}
    env |= {"TRIAGE_DATA_DIR": str(data_dir), "TRIAGE_CLASSIFIER": "local"}
    if database_url:
        env["TRIAGE_DATABASE_URL"] = database_url
        # PostgreSQL needs a configured secret key; every process of the run shares this one.
        env["TRIAGE_SECRET_KEY"] = key_file(data_dir / KEY_FILE).decode()
    return env | over


def peak_rss_mb(pid: int) -> float:
    """Returns a process's peak resident set (VmHWM) in MiB, or NaN once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """Returns the CPU time (user + system) a process has used so far, 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); after the ")" they are 12th and 13th.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Returns the process and all its descendants (uvicorn's worker processes)."""
    found = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found += descendants(int(child))
    return found


@dataclass
class Service:
    """The running service: its processes, base URL and how long it took to answer."""

    base_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    start_s: float = float("nan")
    log: Path | None = None

    def rss_mb(self) -> dict[str, float]:
        """Returns the peak RSS of every process of the service, keyed by a readable name."""
        figures = {}
        for index, popen in enumerate(self.processes):
            for pid in descendants(popen.pid):
                figures[f"p{index}-pid{pid}"] = peak_rss_mb(pid)
        return figures

    def cpu_s(self) -> float:
        """Returns the CPU seconds all processes of the service have used so far."""
        return sum(cpu_seconds(pid) for p in self.processes for pid in descendants(p.pid))

    def stop(self) -> None:
        """Asks every process to stop, then kills the ones that linger."""
        for popen in self.processes:
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
        for popen in self.processes:
            try:
                popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(timeout=30)


def wait_healthy(service: Service, popen: subprocess.Popen[bytes]) -> None:
    """Polls /healthz until it answers 200; raises with the log's tail if the process died."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            tail = service.log.read_text(errors="replace")[-3000:] if service.log else ""
            raise ConfigurationError(f"the service exited during startup:\n{tail}")
        try:
            if httpx.get(f"{service.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise ConfigurationError("the service did not answer /healthz in time")


def start_service(env: dict[str, str], log: Path, *, workers: int = 1) -> Service:
    """Starts the service (API processes, and a worker beside them when there are several)."""
    port = free_port()
    env = env | {"PORT": str(port)}
    service = Service(base_url=f"http://127.0.0.1:{port}", log=log)
    handle = log.open("ab")
    args = [str(TRIAGE), "serve"]
    if workers > 1:
        args += ["--workers", str(workers), "--no-worker"]
    started = time.perf_counter()
    api = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)
    service.processes.append(api)
    try:
        wait_healthy(service, api)
        service.start_s = time.perf_counter() - started
        if workers > 1:
            worker = subprocess.Popen(
                [str(TRIAGE), "worker"], env=env, stdout=handle, stderr=subprocess.STDOUT
            )
            service.processes.append(worker)
    except BaseException:
        service.stop()
        raise
    return service
