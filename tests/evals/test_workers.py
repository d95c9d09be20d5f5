"""Several worker processes give exactly the predictions of one, calibration included."""

from __future__ import annotations

import asyncio
import gc
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.progress import Progress

from agent.classifiers.local import LocalModel
from app.wiring import open_runtime
from core.errors import ConfigurationError, InvalidInput, TriageError
from core.settings import Settings
from core.taxonomy import load_taxonomy
from evals import workers as worker_module
from evals.dataset import load_eval, load_history
from evals.pretrain import pretrain_local_model, wait_for_pretrained
from evals.processes import PRELOAD, worker_context
from evals.runner import RunOptions, run_eval
from evals.shard import eval_settings, import_context
from evals.workers import ProgressRelay, QueueProgress, run_sharded, start_worker
from tests.support.llm_evals import read_lines, write_lines, write_sim
from tools.embedding.fake import FakeEmbedder
from tools.retrieval.chroma import ChromaContextIndex

SAME = ("line", "case_id", "predicted", "confidence", "probabilities", "prediction_set", "status")


def sim_options(files: dict[str, Path], **over: Any) -> RunOptions:
    """Returns quiet run options over a simulated dataset, its history and its messages."""
    given: dict[str, Any] = {
        "dataset": files["eval"],
        "history": files["history"],
        "messages": files["messages"],
        "show_progress": False,
    }
    return RunOptions(**{**given, **over})


@pytest.mark.slow
def test_two_workers_predict_exactly_what_one_does(tmp_path: Path) -> None:
    files = write_sim(tmp_path / "data", cases=30, seed=51)
    lines = read_lines(files["eval"])
    calibration = write_lines(tmp_path / "calibration.jsonl", lines[20:])
    dataset = write_lines(tmp_path / "eval.jsonl", lines[:20])
    runs = {}
    for workers in (1, 2):
        options = sim_options(files, dataset=dataset, calibration=calibration, workers=workers)
        runs[workers] = asyncio.run(run_eval(options))
    one, two = runs[1], runs[2]
    assert two.timings["workers"] == 2
    # Both runs trained the local model (one in its worker, one in the parent): fit_s shows it.
    assert one.timings["fit_s"] > 0
    assert two.timings["fit_s"] > 0
    assert [r.line for r in two.records] == list(range(1, 21))
    assert [r.model_dump(include=set(SAME)) for r in one.records] == [
        r.model_dump(include=set(SAME)) for r in two.records
    ]
    assert one.violations == two.violations == []


def test_workers_come_from_a_fork_server_that_preloads_the_worker_code() -> None:
    context = worker_context()
    assert context.get_start_method() == "forkserver"  # Linux has it
    assert {"evals.shard", "evals.workers"} <= set(PRELOAD)


def test_the_eval_process_itself_imports_no_graph_store_or_index() -> None:
    # The parent only loads data, trains and reports; the runtime belongs to the workers. Its
    # imports run beside the fork server's, so every module it skips shortens the start.
    heavy = ["langgraph", "chromadb", "sqlalchemy", "openai", "fastapi", "matplotlib"]
    code = (
        "import sys, evals.cli, evals.runner, evals.report; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_workers_finish_after_the_parent_used_an_index_itself(tmp_path: Path) -> None:
    # A child forked from a parent with Chroma's native threads hung; the fork server's don't.
    files = write_sim(tmp_path / "data", cases=8, seed=52)
    ChromaContextIndex(tmp_path / "chroma", FakeEmbedder()).add_history(
        load_history(files["history"], load_taxonomy())[:5]
    )
    options = sim_options(files, workers=2)
    run = asyncio.run(asyncio.wait_for(run_eval(options), timeout=240))
    assert len(run.records) == 8
    assert run.violations == []


async def test_a_worker_loads_the_model_trained_once_by_the_parent(tmp_path: Path) -> None:
    files = write_sim(tmp_path / "data", cases=4, seed=53)
    options = sim_options(files)
    base = Settings()
    model = tmp_path / "local.pkl"
    assert pretrain_local_model(options, base, model)
    settings = eval_settings(base, tmp_path / "store", options)
    async with open_runtime(settings, durability="exit") as runtime:
        await import_context(runtime, options, Progress(disable=True), model)
        # Loaded because it was trained on exactly the stored history; not trained again.
        assert runtime.learner.model_info["state"] == "loaded"
        assert runtime.deps.classifiers.current.name == "local"


async def test_too_thin_a_history_leaves_a_marker_the_workers_accept(tmp_path: Path) -> None:
    files = write_sim(tmp_path / "data", cases=2, seed=54, history=5)
    options = sim_options(files, messages=None)
    model = tmp_path / "local.pkl"
    assert not pretrain_local_model(options, Settings(), model)
    assert not model.exists()
    assert await wait_for_pretrained(model, timeout_s=1) is False


async def test_under_a_training_cap_each_worker_trains_on_the_capped_history(
    tmp_path: Path,
) -> None:
    """The parent cannot pick a cause's most recent cases as a store would: the worker trains."""
    files = write_sim(tmp_path / "data", cases=2, seed=58, history=900)
    options = sim_options(files, messages=None)
    base = Settings(train_max_cases=600)
    model = tmp_path / "local.pkl"
    assert not pretrain_local_model(options, base, model)
    assert not model.exists()
    settings = eval_settings(base, tmp_path / "store", options)
    async with open_runtime(settings, durability="exit") as runtime:
        await import_context(runtime, options, Progress(disable=True), model)
        assert runtime.learner.model_info["state"] == "trained"
        # 50 per cause first, the rest shared by cause size and rounded down: at most the cap.
        trained = runtime.learner.model_info["history_cases"]
        assert isinstance(trained, int)
        assert 550 <= trained <= 600


async def test_a_worker_does_not_wait_forever_for_a_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="never delivered"):
        await wait_for_pretrained(tmp_path / "local.pkl", timeout_s=0.1)


async def test_a_training_error_stops_the_workers_waiting(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text('{"case_id": "H-1"}\n')  # not a resolved case
    options = RunOptions(dataset=history, history=history, show_progress=False)
    model = tmp_path / "local.pkl"
    with pytest.raises(TriageError):
        pretrain_local_model(options, Settings(), model)
    # A worker waiting for the model learns at once that none is coming.
    with pytest.raises(ConfigurationError, match="training the model failed"):
        await asyncio.wait_for(wait_for_pretrained(model, timeout_s=60), timeout=5)


async def test_a_model_that_cannot_be_saved_stops_the_workers_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_sim(tmp_path / "data", cases=2, seed=56)
    options = sim_options(files, messages=None)

    def disk_full(self: LocalModel, path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LocalModel, "save", disk_full)
    model = tmp_path / "local.pkl"
    with pytest.raises(OSError, match="No space"):
        pretrain_local_model(options, Settings(), model)
    with pytest.raises(ConfigurationError, match="training the model failed"):
        await asyncio.wait_for(wait_for_pretrained(model, timeout_s=60), timeout=5)


@pytest.mark.slow
def test_a_training_error_ends_a_sharded_run_with_that_error(tmp_path: Path) -> None:
    files = write_sim(tmp_path / "data", cases=4, seed=57)
    history = tmp_path / "history.jsonl"
    history.write_text('{"case_id": "H-1"}\n')  # fails in the parent and in every worker
    options = RunOptions(dataset=files["eval"], history=history, workers=2, show_progress=False)
    base = Settings()
    lines = load_eval(files["eval"], load_taxonomy(base.taxonomy_file)).lines
    with Progress(disable=True) as bar, pytest.raises(InvalidInput, match="line 1"):
        run_sharded(options, base, lines, None, None, bar)
    assert bar.tasks[0].description == "training"
    assert bar.tasks[0].completed == 0


def test_the_relay_waits_for_every_workers_last_message() -> None:
    channel: queue.Queue[tuple[str, str, float]] = queue.Queue()
    first, second = QueueProgress(channel), QueueProgress(channel)
    for sink in (first, second):
        sink.add_task("cases", total=2)
        sink.advance("cases", 1)
    first.finish()

    def late_worker() -> None:
        time.sleep(0.2)  # its result has arrived already; its last progress has not
        second.advance("cases", 1)
        second.finish()

    threading.Thread(target=late_worker).start()
    with Progress(disable=True) as bar:
        relay = ProgressRelay(bar)
        relay.wait_for_finish(channel, jobs=2)
        (shown,) = bar.tasks
    assert (shown.completed, shown.total, relay.finished) == (3, 4, 2)


def test_the_relay_gives_up_on_a_worker_that_never_finishes() -> None:
    channel: queue.Queue[tuple[str, str, float]] = queue.Queue()
    with Progress(disable=True) as bar:
        started = time.monotonic()
        ProgressRelay(bar).wait_for_finish(channel, jobs=1, timeout_s=0.1)
    assert time.monotonic() - started < 2


def test_a_worker_freezes_what_it_inherited_before_it_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "_channel", None)  # restored after the test
    try:
        start_worker(None)  # what the pool runs first in each worker
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.slow
def test_the_bar_counts_every_case_once_the_workers_are_done(tmp_path: Path) -> None:
    files = write_sim(tmp_path / "data", cases=6, seed=55)
    options = sim_options(files, workers=2)
    base = Settings()
    lines = load_eval(files["eval"], load_taxonomy(base.taxonomy_file)).lines
    with Progress(disable=True) as bar:
        shards = run_sharded(options, base, lines, None, None, bar)
        shown = {task.description: (task.completed, task.total) for task in bar.tasks}
    assert sum(len(shard.records) for shard in shards) == 6
    assert shown["cases"] == (6, 6)
    assert shown["training"] == (1, 1)
