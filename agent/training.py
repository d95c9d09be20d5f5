"""Trains the local classifier from the store, in a child process or in this one, into its file."""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from agent.classifiers.local import TrainingExample, train_on_examples, training_examples
from core.errors import ConfigurationError
from core.models import ResolvedCase
from core.store import context as context_store
from core.store.db import Database
from core.taxonomy import Taxonomy

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# A child that reported its outcome exits at once; one that lingers longer is killed.
EXIT_WAIT_S = 10.0
# History rows read per query: a batch's case objects are featurised and dropped before the next.
HISTORY_BATCH = 500
# Under a cap on the training set, every cause keeps at least this many of its cases (or all).
CAPPED_MIN_PER_CAUSE = 50


@dataclass(frozen=True)
class TrainingJob:
    """What a training needs: the store to read the history from, the taxonomy and the model's path."""

    database_url: str
    taxonomy: Taxonomy
    model_path: Path
    alpha: float
    # Train on at most this many cases, the most recent of each cause (None: the whole history).
    max_cases: int | None = None
    # The crash suite's fault point: the child kills itself once it holds the history, as an
    # OOM kill would stop it. Never set in production.
    crash: bool = False


@dataclass(frozen=True)
class TrainingOutcome:
    """How a training ended: the model file written, too little history, or a failure."""

    status: Literal["trained", "untrained", "failed"]
    history_cases: int = 0
    detail: str = ""
    pid: int = 0


def train_history(
    history: list[ResolvedCase], job: TrainingJob, stored: int | None = None
) -> TrainingOutcome:
    """Trains on the history and writes the model file atomically; untrained when too little."""
    return train_examples(training_examples(history), job, stored)


def train_examples(
    examples: list[TrainingExample], job: TrainingJob, stored: int | None = None
) -> TrainingOutcome:
    """Trains on featurised history (handing the list over) and writes the model file.

    `stored` is how many resolved cases the store held (more than the examples under a cap):
    the model records it, so that a start-up can tell whether the history changed since.
    """
    count = len(examples)
    try:
        model = train_on_examples(examples, job.taxonomy, alpha=job.alpha)
    except ConfigurationError as exc:
        return TrainingOutcome("untrained", count, exc.message, os.getpid())
    model.info["history_cases"] = count if stored is None else stored
    model.save(job.model_path)
    return TrainingOutcome("trained", count, pid=os.getpid())


async def read_history(
    conn: AsyncConnection, max_cases: int | None
) -> tuple[list[ResolvedCase], int]:
    """Returns the cases to train on (all, or under the cap the chosen ones) and the stored count."""
    chosen, stored = await training_case_ids(conn, max_cases)
    history = [
        case
        async for batch in context_store.history_batches(conn, size=HISTORY_BATCH, case_ids=chosen)
        for case in batch
    ]
    return history, stored


async def read_examples(
    database_url: str, max_cases: int | None
) -> tuple[list[TrainingExample], int]:
    """Returns the training examples and the stored count, through a database handle of its own.

    The history is read a batch at a time and each batch featurised and dropped before the next,
    so the training never holds every case object (nor every row) at once.
    """
    db = Database(database_url)
    examples: list[TrainingExample] = []
    try:
        async with db.transaction() as conn:
            chosen, stored = await training_case_ids(conn, max_cases)
            async for batch in context_store.history_batches(
                conn, size=HISTORY_BATCH, case_ids=chosen
            ):
                examples.extend(training_examples(batch))
    finally:
        await db.dispose()
    return examples, stored


async def training_case_ids(
    conn: AsyncConnection, max_cases: int | None
) -> tuple[list[str] | None, int]:
    """Returns the case ids to train on under the cap (None: all) and how many are stored."""
    stored = await context_store.history_count(conn)
    if max_cases is None or stored <= max_cases:
        return None, stored
    return most_recent_by_cause(await context_store.history_recency(conn), max_cases), stored


def most_recent_by_cause(cases: Sequence[tuple[str, str, datetime]], max_cases: int) -> list[str]:
    """Returns up to max_cases case ids: each cause's most recent cases, stratified by cause.

    Every cause first keeps its CAPPED_MIN_PER_CAUSE most recent cases (all, if it has fewer);
    the rest of the cap is shared in proportion to how many more cases each cause has. A cap
    below the sum of those minimums is exceeded by what they need, no more.
    """
    by_cause: dict[str, list[tuple[datetime, str]]] = {}
    for case_id, cause, at in cases:
        by_cause.setdefault(cause, []).append((at, case_id))
    reserved = {cause: min(len(items), CAPPED_MIN_PER_CAUSE) for cause, items in by_cause.items()}
    rest = {cause: len(items) - reserved[cause] for cause, items in by_cause.items()}
    room = max(0, max_cases - sum(reserved.values()))
    spare = sum(rest.values())
    chosen: list[str] = []
    for cause, items in by_cause.items():
        extra = room * rest[cause] // spare if spare else 0
        newest = sorted(items, reverse=True)[: reserved[cause] + extra]
        chosen.extend(case_id for _, case_id in newest)
    return sorted(chosen)


async def train_in_child(job: TrainingJob) -> TrainingOutcome:
    """Trains in a fresh child process that reads the history itself; a dead child is a failure.

    The history and its features live only in the child, so the server's memory stays near its
    steady state and its event loop keeps the GIL. Cancelling kills and reaps the child.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_run_child,
        args=(job, sender, os.getpid()),
        name="triage-train",
        daemon=True,  # an exiting server also ends a training it did not wait for
    )
    child.start()  # on the loop's thread: the child's parent-death signal follows this thread
    sender.close()
    with receiver:
        try:
            await _readable(receiver)
        except BaseException:  # cancelled (the server stops): no training outlives its caller
            _end(child)
            raise
        outcome = _receive(receiver)
    await asyncio.to_thread(child.join, EXIT_WAIT_S)
    exitcode = _end(child)
    if outcome is not None:
        return outcome
    return TrainingOutcome("failed", detail=f"the training process {_ending(exitcode)}")


async def _readable(receiver: Connection) -> None:
    """Waits on the event loop, without a thread, until the child reports or its end closes."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(receiver.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(receiver.fileno())


def _end(child: BaseProcess) -> int | None:
    """Kills the child if it still runs and reaps it, so no zombie is left; returns its exit code."""
    if child.is_alive():
        child.kill()
    child.join()
    exitcode = child.exitcode
    child.close()
    return exitcode


def _receive(receiver: Connection) -> TrainingOutcome | None:
    """Returns the child's outcome, or None when it died before sending one."""
    try:
        outcome = receiver.recv()
    except EOFError:
        return None
    return outcome if isinstance(outcome, TrainingOutcome) else None


def _ending(exitcode: int | None) -> str:
    """Returns how a child process ended, in words."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {exitcode} before reporting"


def _run_child(job: TrainingJob, sender: Connection, parent_pid: int) -> None:
    """The child's body: reads the history, trains, writes the model and reports to the parent."""
    _die_with_parent(parent_pid)
    try:
        examples, stored = asyncio.run(read_examples(job.database_url, job.max_cases))
        if job.crash:
            os.kill(os.getpid(), signal.SIGKILL)
        outcome = train_examples(examples, job, stored)
    except Exception:  # reported to the parent, which keeps its current model
        outcome = TrainingOutcome("failed", detail=traceback.format_exc(), pid=os.getpid())
    with sender:
        sender.send(outcome)


def _die_with_parent(parent_pid: int) -> None:
    """Asks Linux to kill this process if the server dies, so a killed server leaves no trainer."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
