"""Fixtures of the workflow tests: a trained runtime on the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.wiring import Overrides, open_runtime
from core.models import ResolvedCase
from core.settings import Settings
from evals.simulator import simulate
from tests.support.desk import Desk
from tools.actions.fake import FakeActions
from tools.embedding.fake import FakeEmbedder
from tools.erp.fake import FakeErp
from tools.retrieval.fake import FakeContextIndex


@pytest.fixture(scope="module")
def history() -> list[ResolvedCase]:
    """A small simulated history, enough to train the local classifier."""
    raw = simulate(cases=0, history=300, messages=0, seed=4).history
    return [ResolvedCase.model_validate(h) for h in raw]


@pytest.fixture
async def desk(tmp_path: Path, history: list[ResolvedCase]) -> AsyncIterator[Desk]:
    """An in-process runtime with the fake ERP, actions and index, and a trained classifier."""
    erp = FakeErp()
    settings = Settings(data_dir=tmp_path, classifier="local", learn_from_outcomes=False)
    overrides = Overrides(erp=erp, actions=FakeActions(), index=FakeContextIndex(FakeEmbedder()))
    async with open_runtime(settings, overrides) as runtime:
        await runtime.learner.add_history(history)
        runtime.outbox.max_backoff_s = 0.0  # retries are due at once in these tests
        yield Desk(runtime, erp)
