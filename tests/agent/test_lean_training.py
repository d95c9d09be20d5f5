"""Training's memory: the history is read in batches, features are stacked in slices, and a cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import sparse

import agent.training as training
from agent.classifiers import features
from agent.classifiers.local import TrainingExample, load_local_model
from agent.training import most_recent_by_cause, read_examples, read_history
from core.models import ResolvedCase
from core.settings import Settings
from core.store import context as context_store
from core.store.db import Database
from tests.support.local_cases import history, taxonomy

START = datetime(2026, 1, 1, tzinfo=UTC)


def dated_history() -> list[ResolvedCase]:
    """Returns the test history with each case resolved on a day of its own, in list order."""
    cases = history()
    return [
        case.model_copy(
            update={
                "resolution": case.resolution.model_copy(
                    update={"resolved_at": START + timedelta(days=i)}
                )
            }
        )
        for i, case in enumerate(cases)
    ]


async def test_training_reads_the_history_in_batches_of_at_most_the_batch_size(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every batch is featurised on its own, none exceeds the size, and the order is all_history's."""
    stored = history()
    async with db.transaction() as conn:
        await context_store.upsert_history(conn, stored)
    monkeypatch.setattr(training, "HISTORY_BATCH", 7)
    seen: list[int] = []
    featurise = training.training_examples

    def counting(batch: list[ResolvedCase]) -> list[TrainingExample]:
        seen.append(len(batch))
        return featurise(batch)

    monkeypatch.setattr(training, "training_examples", counting)
    examples, count = await read_examples(db.url, None)
    assert count == len(stored)
    assert len(seen) > 1
    assert max(seen) <= 7
    assert sum(seen) == len(stored)
    assert [e.case_id for e in examples] == sorted(c.case_id for c in stored)
    assert all(isinstance(e, TrainingExample) for e in examples)


def test_the_cap_keeps_each_causes_most_recent_cases_in_proportion() -> None:
    """300/100/10 cases under a cap of 200: the small cause keeps all, the others their newest."""
    sizes = {"a": 300, "b": 100, "c": 10}
    rows = [
        (f"{cause}-{i:03d}", cause, START + timedelta(hours=i))
        for cause, n in sizes.items()
        for i in range(n)
    ]
    chosen = most_recent_by_cause(rows, 200)
    assert chosen == sorted(chosen)
    assert len(chosen) <= 200
    kept = {cause: [c for c in chosen if c.startswith(cause)] for cause in sizes}
    # c: all 10; a and b: 50 each first, then the 90 left shared 250:50 -> 75 and 15.
    assert {cause: len(ids) for cause, ids in kept.items()} == {"a": 125, "b": 65, "c": 10}
    for cause, ids in kept.items():
        newest = [f"{cause}-{i:03d}" for i in range(sizes[cause] - len(ids), sizes[cause])]
        assert ids == newest


async def test_a_capped_training_reads_the_chosen_cases_and_the_stored_count(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the cap the newest cases of every cause are read; without it, all of them."""
    stored = dated_history()
    async with db.transaction() as conn:
        await context_store.upsert_history(conn, stored)
    monkeypatch.setattr(training, "CAPPED_MIN_PER_CAUSE", 3)
    causes = {c.resolution.cause for c in stored}
    async with db.transaction() as conn:
        capped, count = await read_history(conn, 3 * len(causes))
        whole, _ = await read_history(conn, None)
    assert count == len(stored)
    assert [c.case_id for c in whole] == sorted(c.case_id for c in stored)
    assert len(capped) == 3 * len(causes)
    for cause in causes:
        of_cause = [c for c in stored if c.resolution.cause == cause]
        newest = {c.case_id for c in of_cause[-3:]}
        assert {c.case_id for c in capped if c.resolution.cause == cause} == newest


def test_the_cap_is_a_setting_that_leaves_the_shipped_history_whole() -> None:
    """10,000 by default, far above the 1,200 shipped cases; a deployment may raise it."""
    assert Settings().train_max_cases == 10_000
    assert Settings(train_max_cases=20_000).train_max_cases == 20_000
    with pytest.raises(ValidationError):
        Settings(train_max_cases=10)


def test_stacking_in_slices_gives_hstacks_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same data, indices and row pointers as scipy's hstack, across several slices."""
    monkeypatch.setattr(features, "STACK_ROWS", 4)
    rng = np.random.default_rng(0)
    blocks = [
        sparse.random(23, width, density=0.3, format="csr", random_state=rng)
        for width in (7, 11, 3)
    ]
    keep = np.ones(23)
    keep[5] = 0.0  # an empty row in one block
    blocks[1] = sparse.csr_matrix(sparse.diags(keep) @ blocks[1])
    blocks[1].eliminate_zeros()
    assert blocks[1][5].nnz == 0
    expected = sparse.csr_matrix(sparse.hstack(blocks, format="csr"))
    stacked = features.hstack_rows(blocks)
    assert stacked.shape == expected.shape
    assert np.array_equal(stacked.indptr, expected.indptr)
    assert np.array_equal(stacked.indices, expected.indices)
    assert np.array_equal(stacked.data, expected.data)


def test_a_capped_model_records_the_stored_history(tmp_path: Path) -> None:
    """The model notes how many cases the store held, so a start-up does not retrain for the cap."""
    job = training.TrainingJob("unused", taxonomy(), tmp_path / "local.pkl", 0.1)
    outcome = training.train_history(history(), job, stored=500)
    assert outcome.status == "trained"
    model = load_local_model(job.model_path)
    assert model.info["history_cases"] == 500
    assert model.info["n_cases"] == len(history())


def test_features_are_single_precision_sparse_rows() -> None:
    """Training and scoring rows are float32 CSR: two thirds of float64's bytes per entry."""
    space = features.FeatureSpace()
    fragments = [features.case_fragment(c) for c in history()]
    for rows in (space.fit_transform(fragments), space.transform(fragments[:3])):
        assert sparse.isspmatrix_csr(rows)
        assert rows.dtype == np.float32
