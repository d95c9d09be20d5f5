"""FrozenFeatures: the served feature transform, without scikit-learn in the serving process."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
from scipy import sparse

from agent.classifiers.features import FeatureSpace, Fragment, FrozenFeatures, case_fragment
from agent.classifiers.local import train_local_model
from core.taxonomy import load_taxonomy
from evals.dataset import DEMO_HISTORY, load_history
from tests.support.local_cases import history, taxonomy

ROOT = Path(__file__).resolve().parents[3]

ODD_TEXTS = [
    "",
    "   ",
    "a",
    "I a an to of 12 3 4 x y",
    "  leading and trailing\t\ttabs\n\nand   runs of  spaces  ",
    "Ünïcödé café naïve — 東京 Straße ÅNGSTRÖM",
    "non\u00a0breaking\u2003em\u2009thin\u200bzero-width\u3000ideographic",
    "ab cd ef gh",  # words shorter than the shortest char n-gram with its padding
    "x" * 60,
    "PO-123456 / SKU 99-AB / €1.234,50 at 16:30; e-mail: ops@example.com",
    "line one\r\nline two\rline three\x0bvt\x0cff\x1cfs",
]


@cache
def shipped_fragments() -> list[Fragment]:
    return [case_fragment(c) for c in load_history(DEMO_HISTORY, load_taxonomy(None))]


@cache
def fitted() -> FeatureSpace:
    space = FeatureSpace()
    space.fit_transform(shipped_fragments())
    return space


def assert_same_rows(theirs: sparse.csr_matrix, mine: sparse.csr_matrix) -> None:
    assert sparse.isspmatrix_csr(mine)
    assert mine.shape == theirs.shape
    assert mine.dtype == theirs.dtype
    assert np.array_equal(mine.indptr, theirs.indptr)
    assert np.array_equal(mine.indices, theirs.indices)
    np.testing.assert_allclose(mine.data, theirs.data, rtol=1e-6)


def test_frozen_features_transform_the_shipped_history_as_the_feature_space() -> None:
    fragments = shipped_fragments()
    space = fitted()
    assert_same_rows(space.transform(fragments), space.frozen().transform(fragments))


def test_frozen_features_transform_odd_texts_as_the_feature_space() -> None:
    facts = shipped_fragments()[0].facts
    fragments = [Fragment(text=t, facts={**facts, "never_seen": 2.0}) for t in ODD_TEXTS]
    fragments += [Fragment(text=t, facts={}) for t in ODD_TEXTS]
    space = fitted()
    frozen = space.frozen()
    assert_same_rows(space.transform(fragments), frozen.transform(fragments))
    for fragment in fragments:  # one at a time too, as a case is scored
        assert_same_rows(space.transform([fragment]), frozen.transform([fragment]))


def test_frozen_features_apply_the_block_weights() -> None:
    fragments = shipped_fragments()[:200]
    space = FeatureSpace(fact_weight=0.5, char_weight=2.0)
    space.fit_transform(fragments)
    assert_same_rows(space.transform(fragments), space.frozen().transform(fragments))


def test_frozen_features_survive_pickling_without_their_word_cache() -> None:
    frozen = fitted().frozen()
    fragments = shipped_fragments()[:50]
    before = frozen.transform(fragments)
    copy = pickle.loads(pickle.dumps(frozen))
    assert isinstance(copy, FrozenFeatures)
    assert b"sklearn" not in pickle.dumps(frozen)
    assert_same_rows(before, copy.transform(fragments))


SERVE = """
import asyncio, json, sys
from pathlib import Path
import app.wiring, api.app
from agent.classifiers.base import ClassifierInput
from agent.classifiers.local import LocalClassifier, load_local_model
from tests.support.local_cases import cutoff_case

model = load_local_model(Path(sys.argv[1]))
probabilities = model.probabilities(cutoff_case())
scores = asyncio.run(LocalClassifier(model).score(ClassifierInput(case=cutoff_case())))
heavy = ("sklearn", "scipy.optimize", "scipy.stats")
print(json.dumps({
    "loaded": {m: m in sys.modules for m in heavy},
    "probabilities": probabilities,
    "scored": scores.probabilities,
}))
"""


def test_serving_a_saved_model_imports_no_sklearn_nor_heavy_scipy(tmp_path: Path) -> None:
    """A fresh process that imports the API and scores with a saved model never loads them."""
    from tests.support.local_cases import cutoff_case

    model = train_local_model(history(), taxonomy())
    path = tmp_path / "local.pkl"
    model.save(path)
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] == {"sklearn": False, "scipy.optimize": False, "scipy.stats": False}
    expected = model.probabilities(cutoff_case())
    for served in (report["probabilities"], report["scored"]):
        assert list(served) == list(expected)
        np.testing.assert_allclose(list(served.values()), list(expected.values()), rtol=1e-6)
