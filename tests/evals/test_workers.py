"""Several worker processes give exactly the predictions of one, calibration included."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from llm_eval_cases import read_lines, write_lines, write_sim

from evals.runner import RunOptions, run_eval
from evals.workers import start_method
from tools.embedding.fake import FakeEmbedder
from tools.retrieval.chroma import ChromaContextIndex

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


FORKED_RUN = """
import asyncio, sys
from pathlib import Path
from evals.runner import RunOptions, run_eval
from evals.workers import start_method
from tools.embedding.fake import FakeEmbedder
from tools.retrieval.chroma import ChromaContextIndex
from evals.workers import start_method
print(start_method())
data = Path(sys.argv[1])
options = RunOptions(dataset=data / "eval.jsonl", history=data / "history.jsonl",
                     messages=data / "messages.jsonl", workers=2, show_progress=False)
run = asyncio.run(run_eval(options))
print(len(run.records), len(run.violations), start_method())
"""


@pytest.mark.slow
def test_a_clean_parent_forks_its_workers_and_they_finish(tmp_path: Path) -> None:
    files = write_sim(tmp_path, cases=12, seed=52)
    done = subprocess.run(
        [sys.executable, "-c", FORKED_RUN, str(files["eval"].parent)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Forked, and the parent still never opened an index itself, so it would fork again.
    assert done.stdout.split() == ["fork", "12", "0", "fork"]


def test_a_parent_that_opened_an_index_spawns_its_workers(tmp_path: Path) -> None:
    ChromaContextIndex(tmp_path / "chroma", FakeEmbedder())
    assert start_method() == "spawn"
