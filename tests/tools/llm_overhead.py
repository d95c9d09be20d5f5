"""Measures the service's overhead beyond an LLM's own latency: a stub answering in 300 ms.

Run: `.venv/bin/python tests/tools/llm_overhead.py [--limit N]`. It starts the OpenAI stub,
runs `triage bench` against it at concurrency 1 and 8, counts the model calls per case, and
prints p50 of POST /v1/cases over the time the model alone takes per case.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    """Runs the bench against the stub and prints the overhead per concurrency."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, nargs=2, default=(16, 96), help="at c=1 and c=8")
    parser.add_argument("--llm-max-concurrency", type=int, default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    answer = verdict()
    with running_stub() as stub:

        def respond(_request: SeenRequest) -> Step:
            return completion(answer, model="gpt-4o-mini", delay_s=DELAY_S)

        stub.default = respond
        extra = {}
        if args.llm_max_concurrency:
            extra["TRIAGE_LLM_MAX_CONCURRENCY"] = str(args.llm_max_concurrency)
        options = BenchOptions(
            history=300,
            levels=(1, 8),
            cases_per_level=tuple(args.cases),
            bare_cases=20,
            llm_base_url=stub.base_url,
            service_env=extra,
        )
        figures = run_bench(options)
        calls = len(stub.chat_requests())
    per_case = calls / sum(args.cases)
    model_ms = 1000 * DELAY_S * per_case
    result = {"model_calls_per_case": per_case, "model_ms_per_case": model_ms}
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
