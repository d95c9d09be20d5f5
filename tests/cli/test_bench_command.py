"""`triage bench --quick` runs the real service end to end and writes sane figures (no timing gates)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

TRIAGE = Path(sys.executable).with_name("triage")
KEYS = ("ratio", "p95_ms_c8", "throughput_c8", "start_s", "rss_mb")


@pytest.mark.slow
def test_quick_bench_writes_every_required_figure_finite_and_positive(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    finished = subprocess.run(
        [str(TRIAGE), "bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    figures = json.loads(out.read_text())
    for key in KEYS:
        assert isinstance(figures.get(key), float), key
        assert math.isfinite(figures[key]), key
        assert figures[key] > 0, (key, figures[key])
    # Every case sent at concurrency 8 was triaged, and every approved one finished.
    assert figures["unresolved_c8"] == 0
    assert figures["reviewed_cases_c1"] > 0
    assert figures["p50_ms_c8"] <= figures["p95_ms_c8"] <= figures["p99_ms_c8"]


def test_bench_refuses_several_api_processes_on_sqlite(tmp_path: Path) -> None:
    finished = subprocess.run(
        [str(TRIAGE), "bench", "--quick", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 2
    assert "PostgreSQL" in finished.stdout + finished.stderr
