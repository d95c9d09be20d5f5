"""The served retrain runs in a child process: same model as in process, and a dead child harms nothing."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from pathlib import Path

import pytest

from agent.classifiers.local import LocalClassifier, LocalModel, train_local_model
from agent.classifiers.untrained import UntrainedClassifier
from agent.deps import ClassifierSlot
from agent.learning import TRAINING_POINT, Learner, LearningParts
from agent.training import TrainingJob, train_in_child
from app.wiring import Overrides, open_runtime
from core.faults import FaultPoints
from core.models import Case
from core.settings import Settings
from core.store import context as context_store
from core.store.db import Database
from tests.support.local_cases import cutoff_case, history, make_local_case, taxonomy
from tools.embedding.fake import FakeEmbedder
from tools.retrieval.fake import FakeContextIndex

TRAINER = "triage-train"


def make_learner(db: Database, tmp_path: Path, *, faults: FaultPoints | None = None) -> Learner:
    """Returns a learner that trains in a child process, as the served runtime does."""
    tax = taxonomy()
    return Learner(
        LearningParts(db, FakeContextIndex(FakeEmbedder()), tax),
        tmp_path / "model" / "local.pkl",
        alpha=0.1,
        slot=ClassifierSlot(UntrainedClassifier(tax)),
        train_in_child=True,
        faults=faults,
    )


def served_model(learner: Learner) -> LocalModel:
    """Returns the model in the learner's slot."""
    classifier = learner.slot.current
    assert isinstance(classifier, LocalClassifier)
    return classifier.model


def probe_cases() -> list[Case]:
    """Returns unseen cases and a few history cases, to compare two models' predictions on."""
    seen = [Case.model_validate(h.model_dump()) for h in history()[::9]]
    odd = make_local_case(case_id="EXC-ODD", stalled_step="nothing matches this at all")
    return [cutoff_case(), odd, *seen]


async def migrated(url: str) -> Database:
    """Returns a migrated store at the URL."""
    db = Database(url)
    await asyncio.to_thread(db.migrate)
    return db


def test_the_served_settings_train_in_a_child_process() -> None:
    """Unless told otherwise, the service retrains outside its own process."""
    assert Settings.model_fields["train_in_child"].default is True


@pytest.mark.parametrize("in_child", [True, False])
async def test_the_runtime_trains_where_the_settings_say(tmp_path: Path, in_child: bool) -> None:
    """The composed runtime hands the setting to its learner: another pid trains, or this one."""
    settings = Settings(data_dir=tmp_path, classifier="local", train_in_child=in_child)
    async with open_runtime(settings, Overrides(index=FakeContextIndex(FakeEmbedder()))) as rt:
        await rt.learner.add_history(history())
        assert rt.learner.model_info["state"] == "trained"
        trainer = rt.learner.model_info["trainer_pid"]
    assert (trainer != os.getpid()) is in_child


async def test_a_retrain_in_a_child_serves_the_model_an_in_process_training_gives(
    database_url: str, tmp_path: Path
) -> None:
    """Another pid trains; the model it serves predicts exactly as one trained here on the same history."""
    db = await migrated(database_url)
    try:
        learner = make_learner(db, tmp_path)
        await learner.add_history(history())
        assert learner.model_info["state"] == "trained"
        assert learner.model_info["trainer_pid"] not in (0, os.getpid())
        async with db.transaction() as conn:
            stored = await context_store.all_history(conn)
    finally:
        await db.dispose()
    here = train_local_model(stored, taxonomy(), alpha=0.1)
    served = served_model(learner)
    assert served.info["fingerprint"] == here.info["fingerprint"]
    assert served.qhat == here.qhat
    for case in probe_cases():
        assert served.probabilities(case) == here.probabilities(case), case.case_id


async def test_a_child_killed_mid_training_leaves_the_old_model_and_the_next_retrain_works(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGKILL while the child holds the history: a warning, the old model serves, then a retrain succeeds."""
    learner = make_learner(db, tmp_path, faults=FaultPoints(TRAINING_POINT, nth=2))
    first = history()[:-3]
    await learner.add_history(first)
    old = served_model(learner)
    assert learner.model_info["history_cases"] == len(first)

    with caplog.at_level(logging.WARNING, logger="agent.learning"):
        await learner.add_history(history()[-3:])
    assert served_model(learner) is old
    assert "killed by SIGKILL" in caplog.text
    assert "killed by SIGKILL" in str(learner.model_info["last_retrain_error"])
    assert not [p for p in multiprocessing.active_children() if p.name == TRAINER]

    assert await learner.retrain() is True
    assert served_model(learner) is not old
    assert learner.model_info["history_cases"] == len(history())


async def test_a_child_that_fails_leaves_the_old_model_and_reports_why(
    db: Database, tmp_path: Path
) -> None:
    """An error inside the child (here a model directory it cannot write) is a failed retrain, not a crash."""
    learner = make_learner(db, tmp_path)
    await learner.add_history(history())
    old = served_model(learner)
    learner.model_path = tmp_path / "not-a-directory" / "local.pkl"
    learner.model_path.parent.write_text("a file where the model directory should be")
    assert await learner.retrain() is False
    assert served_model(learner) is old
    assert "Error" in str(learner.model_info["last_retrain_error"])


async def test_stopping_during_a_retrain_kills_and_reaps_the_child(
    db: Database, tmp_path: Path
) -> None:
    """Cancelling the retrain (the service stopping) leaves neither a running child nor a zombie."""
    learner = make_learner(db, tmp_path)
    await learner.add_history(history(), retrain=False)
    learner.schedule_retrain(0)
    child = await started_trainer()
    pid = child.pid
    assert pid is not None
    await learner.cancel_pending()
    assert not [p for p in multiprocessing.active_children() if p.name == TRAINER]
    with pytest.raises(ProcessLookupError):  # reaped: not even a zombie holds the pid
        os.kill(pid, 0)
    assert not learner.model_path.exists()


async def test_a_training_job_reports_too_little_history_without_writing_a_model(
    db: Database, tmp_path: Path
) -> None:
    """With two cases the child reports why it cannot train, and leaves no file behind."""
    async with db.transaction() as conn:
        await context_store.upsert_history(conn, history()[:2])
    job = TrainingJob(db.url, taxonomy(), tmp_path / "local.pkl", alpha=0.1)
    outcome = await train_in_child(job)
    assert outcome.status == "untrained"
    assert outcome.history_cases == 2
    assert "needs at least" in outcome.detail
    assert outcome.pid != os.getpid()
    assert not job.model_path.exists()


async def started_trainer(timeout_s: float = 30.0) -> multiprocessing.process.BaseProcess:
    """Waits until a training child runs and returns it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        found = [p for p in multiprocessing.active_children() if p.name == TRAINER]
        if found:
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no training process started")
