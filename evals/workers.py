"""Shards an eval across worker processes, each on its own store, and relays their progress."""

from __future__ import annotations

import asyncio
import gc
import queue
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress, TaskID

from agent.classifiers.llm_calibration import CalibrationMap
from core.errors import ConfigurationError, TriageError
from core.models import EvalLine
from core.settings import Settings
from evals.options import NumberedLines, RunOptions, ShardResult
from evals.pretrain import pretrain_local_model
from evals.processes import worker_context

# The worker process's end of the progress queue, installed by the pool's initializer.
_channel: Any = None


@dataclass
class ShardJob:
    """Everything one worker needs to triage its share of the cases."""

    options: RunOptions
    settings: Settings
    lines: NumberedLines
    calibration: list[EvalLine] | None
    llm_map: CalibrationMap | None
    pretrained: Path | None


@dataclass
class ShardFailure:
    """A deliberate error raised in a worker, carried back as text (typed errors do not unpickle)."""

    kind: str
    message: str


class QueueProgress:
    """Forwards a worker's progress to the parent process; a task is named by its description."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def add_task(self, description: str, *, total: float | None = None) -> str:
        """Announces a task of the given size."""
        self.channel.put(("add", description, total or 0))
        return description

    def advance(self, task_id: Any, advance: float = 1) -> None:
        """Reports progress on a task."""
        self.channel.put(("advance", task_id, advance))

    def finish(self) -> None:
        """Says this worker will report nothing more for its job."""
        self.channel.put(("done", "", 0))


class ProgressRelay:
    """Shows the workers' tasks as one bar per description, with totals summed over workers."""

    # Every worker imports the whole history and all messages: those bars count them once.
    REPLICATED = frozenset({"history", "messages"})

    def __init__(self, bar: Progress, workers: int = 1) -> None:
        self.bar = bar
        self.workers = workers
        self.tasks: dict[str, TaskID] = {}
        self.totals: dict[str, float] = {}
        self.finished = 0  # jobs whose worker said it is done

    def handle(self, message: tuple[str, str, float]) -> None:
        """Applies one message from a worker to the bar."""
        kind, name, value = message
        if kind == "done":
            self.finished += 1
        elif kind == "add":
            if name in self.REPLICATED:
                self.totals[name] = max(self.totals.get(name, 0), value)
            else:
                self.totals[name] = self.totals.get(name, 0) + value
            if name in self.tasks:
                self.bar.update(self.tasks[name], total=self.totals[name])
            else:
                self.tasks[name] = self.bar.add_task(name, total=self.totals[name])
        elif name in self.tasks:
            share = self.workers if name in self.REPLICATED else 1
            self.bar.advance(self.tasks[name], value / share)

    def drain(self, channel: Any, wait_s: float) -> None:
        """Handles the messages waiting on the channel, waiting up to wait_s for the first."""
        try:
            self.handle(channel.get(timeout=wait_s))
            while True:
                self.handle(channel.get_nowait())
        except queue.Empty:
            return

    def wait_for_finish(self, channel: Any, jobs: int, timeout_s: float = 5.0) -> None:
        """Handles messages until `jobs` workers said they are done, or the time is up.

        A worker's messages arrive in order, so once its last has, so have all before it.
        """
        deadline = time.monotonic() + timeout_s
        while self.finished < jobs and time.monotonic() < deadline:
            self.drain(channel, wait_s=0.02)


def start_worker(channel: Any) -> None:
    """Runs first in every worker: keeps the progress channel and freezes what was inherited.

    Everything the fork server imported lives as long as the worker, so the cyclic collector
    need not walk it again: frozen, a full collection takes about 10 ms instead of 140 ms.
    """
    global _channel
    _channel = channel
    gc.freeze()


def shard_main(job: ShardJob) -> ShardResult | ShardFailure:
    """Runs one shard in a worker process, on its own store and event loop."""
    from evals.shard import run_shard  # preloaded by the fork server; the parent never needs it

    sink = QueueProgress(_channel)
    try:
        return asyncio.run(
            run_shard(
                job.options,
                job.settings,
                job.lines,
                job.calibration,
                job.llm_map,
                sink,
                job.pretrained,
            )
        )
    except TriageError as exc:
        return ShardFailure(type(exc).__name__, exc.message)
    finally:
        sink.finish()


def run_sharded(
    options: RunOptions,
    settings: Settings,
    lines: NumberedLines,
    calibration: list[EvalLine] | None,
    llm_map: CalibrationMap | None,
    bar: Progress,
) -> list[ShardResult]:
    """Deals the cases round-robin to worker processes and trains their model meanwhile."""
    shards = [s for s in (lines[i :: options.workers] for i in range(options.workers)) if s]
    context = worker_context()
    channel = context.Queue()
    relay = ProgressRelay(bar, workers=len(shards))
    with (
        tempfile.TemporaryDirectory(prefix="triage-model-") as tmp,
        ThreadPoolExecutor(1, thread_name_prefix="eval-training") as trainer,
    ):
        model = Path(tmp) / "local.pkl"
        # This process trains the model each worker would otherwise train for itself, while
        # the workers import the history into their stores; they wait for it. Training starts
        # first, because starting the workers waits for the fork server to finish its imports.
        task = bar.add_task("training", total=1)
        training_started = time.perf_counter()
        trained = trainer.submit(pretrain_local_model, options, settings, model)
        train_s: list[float] = []

        def show_trained(done: Future[bool]) -> None:
            train_s.append(time.perf_counter() - training_started)
            if done.exception() is None:
                bar.advance(task)

        trained.add_done_callback(show_trained)
        with ProcessPoolExecutor(
            len(shards), mp_context=context, initializer=start_worker, initargs=(channel,)
        ) as pool:
            jobs = [
                ShardJob(options, settings, shard, calibration, llm_map, model) for shard in shards
            ]
            futures = [pool.submit(shard_main, job) for job in jobs]
            while not all(f.done() for f in futures):
                relay.drain(channel, wait_s=0.02)
            relay.wait_for_finish(channel, sum(f.exception() is None for f in futures))
            outcomes = [f.result() for f in futures]
        trained.result()  # an error in training is this run's error
    failures = [o for o in outcomes if isinstance(o, ShardFailure)]
    if failures:
        raise ConfigurationError(f"a worker failed ({failures[0].kind}): {failures[0].message}")
    results = [o for o in outcomes if isinstance(o, ShardResult)]
    for result in results:  # the parent trained for every worker
        result.timings["train_s"] = max(result.timings.get("train_s", 0.0), *train_s)
    return results
