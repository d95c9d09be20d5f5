"""Several worker processes give exactly the predictions of one, calibration included."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from llm_eval_cases import read_lines, write_lines, write_sim

from evals.runner import RunOptions, run_eval

SAME = ("line", "case_id", "predicted", "confidence", "probabilities", "prediction_set", "status")


@pytest.mark.slow
def test_two_workers_predict_exactly_what_one_does(tmp_path: Path) -> None:
    files = write_sim(tmp_path / "data", cases=30, seed=51)
    lines = read_lines(files["eval"])
    calibration = write_lines(tmp_path / "calibration.jsonl", lines[20:])
    dataset = write_lines(tmp_path / "eval.jsonl", lines[:20])
    runs = {}
    for workers in (1, 2):
        options = RunOptions(
            dataset=dataset,
            history=files["history"],
            messages=files["messages"],
            calibration=calibration,
            workers=workers,
            show_progress=False,
        )
        runs[workers] = asyncio.run(run_eval(options))
    one, two = runs[1], runs[2]
    assert two.timings["workers"] == 2
    assert [r.line for r in two.records] == list(range(1, 21))
    assert [r.model_dump(include=set(SAME)) for r in one.records] == [
        r.model_dump(include=set(SAME)) for r in two.records
    ]
    assert one.violations == two.violations == []
