"""Measures the service's overhead beyond an LLM's own latency: a stub answering in 300 ms.

Run: `PYTHONPATH=. .venv/bin/python tests/tools/llm_overhead.py`. It starts the OpenAI stub in a
process of its own, runs `triage bench` against it at concurrency 1 and 8, counts the model
calls per case, and prints p50 of POST /v1/cases over the time the model alone takes per case.

The stub has its own process so that its threads do not share an interpreter lock with the
bench's HTTP client: in the client's process, each stub answer waited behind the client's own
work, and that wait was counted as the service's overhead. `--stub-in-process` keeps the old
arrangement for comparison.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from core.taxonomy import load_taxonomy
from evals.serving.run import BenchOptions, run_bench
from tests.support.openai_stub import SeenRequest, Step, completion, running_stub

DELAY_S = 0.3


def verdict() -> dict[str, object]:
    """Returns a valid classification: a clear top cause citing the first event."""
    causes = load_taxonomy().cause_ids
    top = next(c for c in causes if c != "unknown")
    rest = 0.1 / (len(causes) - 1)
    return {
        "probabilities": [{"cause": c, "probability": 0.9 if c == top else rest} for c in causes],
        "top_cause": top,
        "rationale": "The events point at this cause.",
        "evidence": {
            "event_indices": [0],
            "message_indices": [],
            "history_case_ids": [],
            "loose_message_ids": [],
        },
    }


def _serve(ready: mp.Queue[str], stop: Synchronized[int], calls: Synchronized[int]) -> None:
    """Runs the stub in this (child) process until told to stop; counts chat calls."""
    answer = verdict()
    with running_stub() as stub:

        def respond(_request: SeenRequest) -> Step:
            with calls.get_lock():
                calls.value += 1
            return completion(answer, model="gpt-4o-mini", delay_s=DELAY_S)

        stub.default = respond
        ready.put(stub.base_url)
        while not stub.stopping.wait(0.2):
            if stop.value:
                break


@contextmanager
def stub_process() -> Iterator[tuple[str, Synchronized[int]]]:
    """Starts the stub in its own process; yields its base URL and its chat call counter."""
    ctx = mp.get_context("spawn")
    ready: mp.Queue[str] = ctx.Queue()
    stop = ctx.Value("i", 0)
    calls = ctx.Value("i", 0)
    child = ctx.Process(target=_serve, args=(ready, stop, calls), daemon=True)
    child.start()
    try:
        yield ready.get(timeout=60), calls
    finally:
        stop.value = 1
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


@contextmanager
def stub_in_process() -> Iterator[tuple[str, Synchronized[int]]]:
    """The stub on a thread of this process, as the bench's client runs: for comparison."""
    answer = verdict()
    calls = mp.get_context("spawn").Value("i", 0)
    with running_stub() as stub:

        def respond(_request: SeenRequest) -> Step:
            calls.value += 1
            return completion(answer, model="gpt-4o-mini", delay_s=DELAY_S)

        stub.default = respond
        yield stub.base_url, calls


def main() -> None:
    """Runs the bench against the stub and prints the overhead per concurrency."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, nargs=2, default=(16, 96), help="at c=1 and c=8")
    parser.add_argument("--llm-max-concurrency", type=int, default=None)
    parser.add_argument("--stub-in-process", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    extra = {}
    if args.llm_max_concurrency:
        extra["TRIAGE_LLM_MAX_CONCURRENCY"] = str(args.llm_max_concurrency)
    running = stub_in_process if args.stub_in_process else stub_process
    with running() as (base_url, calls):
        options = BenchOptions(
            history=300,
            levels=(1, 8),
            cases_per_level=tuple(args.cases),
            bare_cases=20,
            llm_base_url=base_url,
            service_env=extra,
        )
        figures = run_bench(options)
        per_case = calls.value / sum(args.cases)
    model_ms = 1000 * DELAY_S * per_case
    result: dict[str, object] = {
        "stub": "in process" if args.stub_in_process else "own process",
        "model_calls_per_case": per_case,
        "model_ms_per_case": model_ms,
    }
    for level in (1, 8):
        p50 = figures[f"p50_ms_c{level}"]
        result |= {
            f"p50_ms_c{level}": p50,
            f"p95_ms_c{level}": figures[f"p95_ms_c{level}"],
            f"throughput_c{level}": figures[f"throughput_c{level}"],
            f"overhead_c{level}": p50 / model_ms - 1,
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
