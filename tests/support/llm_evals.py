"""Factories for LLM eval tests: small simulated data and a deliberately over-confident stub model."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path
from typing import Any

from core.models import EvalLine
from core.taxonomy import load_taxonomy
from evals.simulator import simulate, write_dataset
from tests.support.openai_stub import SeenRequest, Step, completion

CAUSES = load_taxonomy().cause_ids
PROMPT_TOKENS, COMPLETION_TOKENS = 420, 60
_DETECTED_AT = re.compile(r'"detected_at": "([^"]+)"')


def write_sim(root: Path, *, cases: int, seed: int, history: int = 300) -> dict[str, Path]:
    """Writes a small simulated eval set with its history and messages; returns the files."""
    data = simulate(cases=cases, history=history, messages=100, seed=seed)
    return write_dataset(data, root)


def read_lines(path: Path) -> list[EvalLine]:
    """Returns the eval lines of a JSONL file."""
    return [EvalLine.model_validate_json(line) for line in path.read_text().splitlines() if line]


def write_lines(path: Path, lines: list[EvalLine]) -> Path:
    """Writes eval lines as JSONL and returns the path."""
    path.write_text("".join(line.model_dump_json() + "\n" for line in lines))
    return path


def overconfident_verdict(truth: str, key: str, *, p_top: float = 0.98) -> dict[str, Any]:
    """Returns a reply stating p_top on one cause: the truth for about 70% of keys, else another."""
    right = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 10 < 7
    top = truth if right else next(c for c in CAUSES if c not in (truth, "unknown"))
    rest = (1.0 - p_top) / (len(CAUSES) - 1)
    return {
        "probabilities": [{"cause": c, "probability": p_top if c == top else rest} for c in CAUSES],
        "top_cause": top,
        "rationale": "The events point at this cause.",
        "evidence": {
            "event_indices": [0],
            "message_indices": [],
            "history_case_ids": [],
            "loose_message_ids": [],
        },
    }


class OverconfidentModel:
    """A stub responder that knows each case's label (by its detection time) and overstates itself."""

    def __init__(self, *datasets: Path) -> None:
        self.truth = {
            line.case.detected_at.isoformat(): line.expected.cause
            for path in datasets
            for line in read_lines(path)
        }

    def __call__(self, request: SeenRequest) -> Step:
        """Answers one chat request with the over-confident verdict for its case."""
        user = request.body["messages"][-1]["content"]
        found = _DETECTED_AT.search(user)
        key = found.group(1) if found else ""
        truth = self.truth.get(key, "unknown")
        return completion(
            overconfident_verdict(truth, key),
            model="gpt-4o-mini",
            prompt_tokens=PROMPT_TOKENS,
            completion_tokens=COMPLETION_TOKENS,
        )


def closed_port_url() -> str:
    """Returns a /v1 base URL on a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def read_metrics(run: Path) -> dict[str, Any]:
    """Returns a run's metrics.json."""
    return json.loads((run / "metrics.json").read_text())


def read_cases(run: Path) -> list[dict[str, Any]]:
    """Returns a run's cases.jsonl records."""
    return [json.loads(line) for line in (run / "cases.jsonl").read_text().splitlines()]
