"""Keeps the local classifier in step with the resolved history: load, import, retrain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from agent.classifiers.local import LocalClassifier, LocalModel, load_local_model
from agent.classifiers.untrained import UntrainedClassifier
from agent.deps import ClassifierSlot
from agent.training import (
    TrainingJob,
    TrainingOutcome,
    read_history,
    train_history,
    train_in_child,
)
from core.errors import ConfigurationError
from core.faults import FaultPoints
from core.models import LooseMessage, ResolvedCase
from core.store import audit
from core.store import context as context_store
from core.store.context import HistorySource
from core.store.db import Database
from core.taxonomy import Taxonomy
from tools.retrieval.base import ContextIndex

log = logging.getLogger(__name__)

CHUNK = 500
# A background retrain may take at most this share of the time: it keeps a core busy for its
# whole run (and, trained in process, holds the GIL for most of it), so with a large history a
# fixed 30 s debounce would have the service retraining for much of every minute it is busy.
RETRAIN_DUTY = 0.1
# The fault point (TRIAGE_CRASH_AT) where the process that trains dies holding the history.
TRAINING_POINT = "training"
Progress = Callable[[int], None]


def retrain_delay(debounce_s: float, last_train_s: float) -> float:
    """Returns how long to wait before a background retrain: the debounce, or longer when training is slow."""
    if debounce_s <= 0:
        return debounce_s  # tests and evals ask for an immediate retrain
    return max(debounce_s, last_train_s * (1 - RETRAIN_DUTY) / RETRAIN_DUTY)


@dataclass(frozen=True)
class LearningParts:
    """What the learner reads and writes: the store, the index and the taxonomy."""

    db: Database
    index: ContextIndex
    taxonomy: Taxonomy


class Learner:
    """Imports context and retrains the local classifier from the stored history."""

    def __init__(
        self,
        parts: LearningParts,
        model_path: Path,
        *,
        alpha: float,
        slot: ClassifierSlot,
        retrain_delay_s: float = 30.0,
        train_in_child: bool = True,
        max_cases: int | None = None,
        faults: FaultPoints | None = None,
    ) -> None:
        self.deps = parts
        # The local classifier's own slot: with an LLM configured it is the fallback, not the primary.
        self.slot = slot
        self.model_path = model_path
        self.alpha = alpha
        self.retrain_delay_s = retrain_delay_s
        # In a child process the history and its features never enter this process's memory,
        # and training leaves this process's GIL to the event loop.
        self.train_in_child = train_in_child
        # Train on at most this many history cases, the most recent of each cause.
        self.max_cases = max_cases
        self.faults = faults or FaultPoints()
        self.model_info: dict[str, object] = {"state": "untrained"}
        self._lock = asyncio.Lock()
        self._pending: asyncio.Task[None] | None = None
        self._last_train_s = 0.0

    async def load_or_train(self) -> None:
        """Loads the saved model, or trains one when history exists but no model was saved."""
        if self.model_path.exists():
            try:
                model = await asyncio.to_thread(load_local_model, self.model_path)
            except (OSError, ValueError, ConfigurationError) as exc:
                log.warning("cannot load %s (%s); retraining", self.model_path, exc)
            else:
                async with self.deps.db.transaction() as conn:
                    stored = await context_store.history_count(conn)
                # Under a cap the model trained on fewer cases than the store held: it records both.
                trained_on = model.info.get(
                    "history_cases",
                    model.info.get("n_cases", 0) + model.info.get("skipped_cases", 0),
                )
                if trained_on == stored:
                    # A restarted service paces its first background retrain by the saved one.
                    self._last_train_s = float(model.info.get("train_seconds", 0.0))
                    self._use(LocalClassifier(model), "loaded")
                    return
                log.info(
                    "history changed since the saved model (%s -> %s); retraining",
                    trained_on,
                    stored,
                )
        await self.retrain()

    def _use(self, classifier: LocalClassifier | UntrainedClassifier, state: str) -> None:
        self.slot.replace(classifier)
        self.model_info = {"state": state, "classifier": classifier.name}

    async def retrain(self) -> bool:
        """Trains on all stored history and swaps the model in; False when it could not train."""
        async with self._lock:
            job = TrainingJob(
                self.deps.db.url,
                self.deps.taxonomy,
                self.model_path,
                self.alpha,
                max_cases=self.max_cases,
            )
            started = time.perf_counter()
            if self.train_in_child:
                crash = self.faults.due(TRAINING_POINT)
                outcome = await train_in_child(replace(job, crash=crash))
            else:
                self.faults.reach(TRAINING_POINT)
                async with self.deps.db.transaction() as conn:
                    history, stored = await read_history(conn, job.max_cases)
                outcome = await asyncio.to_thread(train_history, history, job, stored)
            if outcome.status == "untrained":
                log.info("classifier not trained: %s", outcome.detail)
                self._use(UntrainedClassifier(self.deps.taxonomy), "untrained")
                return False
            model = await self._trained_model(outcome)
            if model is None:
                return False
            self._last_train_s = time.perf_counter() - started
            self._use(LocalClassifier(model), "trained")
            self.model_info |= {"history_cases": outcome.history_cases, "trainer_pid": outcome.pid}
            async with self.deps.db.transaction() as conn:
                await audit.record(
                    conn,
                    case_id=None,
                    actor="learner",
                    kind="classifier.trained",
                    cases=outcome.history_cases,
                )
            return True

    async def _trained_model(self, outcome: TrainingOutcome) -> LocalModel | None:
        """Loads the model a training wrote; None (the current model stays) when it failed."""
        if outcome.status == "trained":
            try:
                return await asyncio.to_thread(load_local_model, self.model_path)
            except ConfigurationError as exc:
                outcome = TrainingOutcome("failed", detail=exc.message)
        log.warning(
            "retraining the classifier failed; the current model stays in service and the next "
            "retrain tries again: %s",
            outcome.detail,
        )
        self.model_info["last_retrain_error"] = (outcome.detail.strip().splitlines() or [""])[-1]
        return None

    def schedule_retrain(self, delay_s: float) -> None:
        """Retrains once after delay_s (longer when training is slow), however many cases arrive."""
        if self._pending is not None and not self._pending.done():
            return
        delay_s = retrain_delay(delay_s, self._last_train_s)

        async def later() -> None:
            await asyncio.sleep(delay_s)
            try:
                await self.retrain()
            except Exception:  # a failed background retrain keeps the current model in service
                log.exception("background retrain failed")

        self._pending = asyncio.get_running_loop().create_task(later())

    async def settle(self) -> None:
        """Waits for a scheduled retrain to finish."""
        if self._pending is not None:
            await self._pending

    async def cancel_pending(self) -> None:
        """Drops a scheduled retrain; the next start retrains because the history grew."""
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending

    async def remember(self, items: Sequence[ResolvedCase], *, source: HistorySource) -> None:
        """Writes cases a person or the service resolved into history and the index, then retrains soon."""
        async with self.deps.db.transaction() as conn:
            await context_store.upsert_history(conn, list(items), source=source)
        await asyncio.to_thread(self.deps.index.add_history, list(items))
        self.schedule_retrain(self.retrain_delay_s)

    async def add_history(
        self,
        items: Sequence[ResolvedCase],
        *,
        retrain: bool = True,
        progress: Progress | None = None,
    ) -> int:
        """Stores resolved cases chunk by chunk, indexes them and retrains the classifier."""
        written = 0
        for start in range(0, len(items), CHUNK):
            chunk = list(items[start : start + CHUNK])
            async with self.deps.db.transaction() as conn:
                written += await context_store.upsert_history(conn, chunk)
            await asyncio.to_thread(self.deps.index.add_history, chunk)
            if progress:
                progress(len(chunk))
        async with self.deps.db.transaction() as conn:
            await audit.record(
                conn, case_id=None, actor="learner", kind="history.imported", cases=written
            )
        if retrain and written:
            await self.retrain()
        return written

    async def add_messages(
        self, items: Sequence[LooseMessage], *, progress: Progress | None = None
    ) -> int:
        """Stores loose messages once each and indexes them for similarity search."""
        written = 0
        for start in range(0, len(items), CHUNK):
            keyed = [(m.message_id(), m) for m in items[start : start + CHUNK]]
            async with self.deps.db.transaction() as conn:
                written += await context_store.upsert_messages(conn, keyed)
            await asyncio.to_thread(self.deps.index.add_messages, keyed)
            if progress:
                progress(len(keyed))
        return written

    async def ensure_index(self) -> None:
        """Rebuilds the retrieval index from the store when they disagree (e.g. a lost index)."""
        async with self.deps.db.transaction() as conn:
            stored = await context_store.history_count(conn)
        if stored == await asyncio.to_thread(self.deps.index.history_count):
            return
        async with self.deps.db.transaction() as conn:
            history = await context_store.all_history(conn)
        for start in range(0, len(history), CHUNK):
            await asyncio.to_thread(self.deps.index.add_history, history[start : start + CHUNK])
