"""Small factories for eval tests: case records and run directories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.report import CaseRecord


def make_record(**over: Any) -> CaseRecord:
    """Returns a correct, confident case record; keyword arguments override fields."""
    data: dict[str, Any] = {
        "line": 1,
        "case_id": "C-1",
        "expected_cause": "carrier_delay",
        "expected_actions": ["escalate_to_carrier"],
        "predicted": "carrier_delay",
        "decided": "carrier_delay",
        "correct": True,
        "confidence": 0.9,
        "probabilities": {"carrier_delay": 0.9, "supplier_delay": 0.1},
        "prediction_set": ["carrier_delay"],
        "proposed_actions": ["escalate_to_carrier"],
        "decisions": [{"action": "escalate_to_carrier", "outcome": "auto", "rules_fired": []}],
        "reviews": [],
        "executed": ["escalate_to_carrier"],
        "status": "resolved",
        "latency_ms": 10.0,
    }
    data.update(over)
    return CaseRecord.model_validate(data)


def write_run(run_dir: Path, metrics: dict[str, Any], records: list[CaseRecord]) -> Path:
    """Writes a minimal run directory (metrics.json and cases.jsonl) and returns it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    (run_dir / "cases.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in records))
    return run_dir
