"""Trains the local classifier from the store, in a child process or in this one, into its file."""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Literal

from agent.classifiers.local import train_local_model
from core.errors import ConfigurationError
from core.models import ResolvedCase
from core.store import context as context_store
from core.store.db import Database
from core.taxonomy import Taxonomy

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# A child that reported its outcome exits at once; one that lingers longer is killed.
EXIT_WAIT_S = 10.0


@dataclass(frozen=True)
class TrainingJob:
    """What a training needs: the store to read the history from, the taxonomy and the model's path."""

    database_url: str
    taxonomy: Taxonomy
    model_path: Path
    alpha: float
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


def train_history(history: list[ResolvedCase], job: TrainingJob) -> TrainingOutcome:
    """Trains on the history and writes the model file atomically; untrained when too little."""
    try:
        model = train_local_model(history, job.taxonomy, alpha=job.alpha)
    except ConfigurationError as exc:
        return TrainingOutcome("untrained", len(history), exc.message, os.getpid())
    model.save(job.model_path)
    return TrainingOutcome("trained", len(history), pid=os.getpid())


async def read_history(database_url: str) -> list[ResolvedCase]:
    """Returns every stored resolved case through a database handle of this process's own."""
    db = Database(database_url)
    try:
        async with db.transaction() as conn:
            return await context_store.all_history(conn)
    finally:
        await db.dispose()


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
        history = asyncio.run(read_history(job.database_url))
        if job.crash:
            os.kill(os.getpid(), signal.SIGKILL)
        outcome = train_history(history, job)
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
