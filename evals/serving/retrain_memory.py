"""Measures the served process's memory while it retrains: steady RSS, the peak, and any child's.

`python -m evals.serving.retrain_memory prepare DIR --history N` imports N simulated history
cases into a store in DIR (index and model) and keeps some more aside; `... measure DIR` starts
`triage serve` on a copy of that store, posts a few cases, then imports the cases kept aside
over HTTP, which retrains the classifier during the request, and until the import answers
records the API process's peak RSS (VmHWM, reset first), samples the RSS of every process under
it (the training child) and times `/healthz` one request at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from app.wiring import open_runtime
from core.models import ResolvedCase
from core.principals import KeyScope
from core.settings import Settings
from core.store import identity
from evals.serving.service import descendants, peak_rss_mb, service_env, start_service
from evals.simulator.generate import simulate

STORE = "store"
EXTRA_HISTORY = 50
WARM_CASES = 40
SAMPLE_S = 0.05


def resident_mb(pid: int) -> float:
    """Returns a process's current resident set (VmRSS) in MiB, 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def prepare(directory: Path, history: int, seed: int) -> None:
    """Imports the history into a fresh store and writes the key, cases and extra history."""
    data = simulate(cases=WARM_CASES, history=history + EXTRA_HISTORY, messages=0, seed=seed)
    items = [ResolvedCase.model_validate(line) for line in data.history[:history]]
    settings = Settings(data_dir=directory / STORE, classifier="local")
    started = time.perf_counter()
    async with open_runtime(settings) as runtime:
        await runtime.learner.add_history(items)
        async with runtime.db.transaction() as conn:
            key = await identity.create_key(conn, "memory", scope=KeyScope.admin)
    plan = {
        "key": key,
        "cases": [line["case"] for line in data.eval_lines],
        "extra_history": data.history[history:],
        "import_s": time.perf_counter() - started,
    }
    (directory / "plan.json").write_text(json.dumps(plan, default=str))
    print(f"imported {history} history cases in {plan['import_s']:.0f} s")


class Sampler:
    """Samples the RSS of a process and its descendants, and the service's /healthz latency."""

    def __init__(self, pid: int, base_url: str) -> None:
        self.pid = pid
        self.base_url = base_url
        self.peaks: dict[int, float] = {}
        self.health_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=600) as http:
            while not self._stop.is_set():
                for pid in descendants(self.pid):
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), resident_mb(pid))
                # The event loop's responsiveness while it retrains: one small request at a time.
                started = time.perf_counter()
                http.get("/healthz")
                self.health_ms.append(1000 * (time.perf_counter() - started))
                time.sleep(SAMPLE_S)


def measure(directory: Path, extra_env: dict[str, str]) -> dict[str, float]:
    """Serves a copy of the prepared store and returns the RSS figures around one retrain."""
    plan = json.loads((directory / "plan.json").read_text())
    headers = {"Authorization": f"Bearer {plan['key']}"}
    with tempfile.TemporaryDirectory(prefix="triage-memory-") as tmp:
        data_dir = Path(tmp) / STORE
        shutil.copytree(directory / STORE, data_dir)
        env = service_env(data_dir, None) | extra_env
        service = start_service(env, Path(tmp) / "service.log")
        api = service.processes[0].pid
        figures = {"start_s": service.start_s, "rss_after_start_mb": resident_mb(api)}
        try:
            with httpx.Client(base_url=service.base_url, timeout=600) as http:
                for case in plan["cases"]:
                    http.post("/v1/cases", json=case, headers=headers).raise_for_status()
                time.sleep(1.0)
                figures["rss_steady_mb"] = resident_mb(api)
                # Linux resets VmHWM to the current RSS on "5" (proc(5), clear_refs), so the
                # peak read after the import is the peak of this window alone.
                Path(f"/proc/{api}/clear_refs").write_text("5")
                with Sampler(api, service.base_url) as sampler:
                    started = time.perf_counter()
                    answer = http.post("/v1/history", json=plan["extra_history"], headers=headers)
                    figures["import_with_retrain_s"] = time.perf_counter() - started
                answer.raise_for_status()
                figures["rss_hwm_api_during_retrain_mb"] = peak_rss_mb(api)
                figures["rss_after_retrain_mb"] = resident_mb(api)
                time.sleep(1.0)
                # multiprocessing's resource tracker stays for the process's life; no trainer may.
                figures["processes_under_api_after_retrain"] = float(len(descendants(api)) - 1)
        finally:
            service.stop()
            log = (Path(tmp) / "service.log").read_text(errors="replace")
    figures["rss_sampled_api_during_retrain_mb"] = sampler.peaks.get(api, 0.0)
    others = [mb for pid, mb in sampler.peaks.items() if pid != api]
    figures["rss_peak_largest_child_mb"] = max(others, default=0.0)
    figures["healthz_p50_ms_during_retrain"] = statistics.median(sampler.health_ms)
    figures["healthz_max_ms_during_retrain"] = max(sampler.health_ms)
    for line in log.splitlines():
        if "retrain" in line or "training" in line:
            print(line[:300])
    return figures


def main() -> None:
    """Runs `prepare` or `measure` and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["prepare", "measure"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the service")
    options = parser.parse_args()
    if options.action == "prepare":
        options.directory.mkdir(parents=True, exist_ok=True)
        asyncio.run(prepare(options.directory, options.history, options.seed))
        return
    extra = dict(item.split("=", 1) for item in options.env)
    for name, value in measure(options.directory, extra).items():
        print(f"{name}: {value:.1f}")


if __name__ == "__main__":
    main()
