"""The local classifier's fast paths compute what the plain regex and direct fits compute."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from agent.classifiers.cleared import cleared_spans, is_cleared
from agent.classifiers.cues import CUES, SPANNING_CUES, count_cues, figures_differ
from agent.classifiers.ensemble import calibrated_ensemble, fit_ensemble
from agent.classifiers.features import FeatureSpace, Fragment, case_fragment
from core.models import ResolvedCase
from core.plain_text import event_text
from evals.dataset import DEMO_HISTORY, load_history
from tests.support.local_cases import taxonomy


@cache
def demo_history() -> list[ResolvedCase]:
    """Returns the shipped simulated history: 1,200 cases with realistic wording."""
    return load_history(DEMO_HISTORY, taxonomy())


def plain_count_cues(text: str) -> dict[str, int]:
    """Counts cues the straightforward way: one alternation with a group per cause, one scan."""
    groups = (f"(?P<{cause}>{'|'.join(patterns)})" for cause, patterns in CUES.items())
    scanner = re.compile(r"\b(?:" + "|".join(groups) + ")")
    counts: dict[str, int] = {}
    lowered = text.lower()
    spans = cleared_spans(lowered)
    found = [(match.lastgroup, match) for match in scanner.finditer(lowered)]
    for cause, patterns in SPANNING_CUES.items():
        for pattern in patterns:
            found += [
                (cause, m) for m in re.finditer(r"\b" + pattern, lowered) if figures_differ(m)
            ]
    for cause, match in found:
        if cause is not None and not is_cleared(lowered, match.start(), match.end(), spans):
            counts[cause] = counts.get(cause, 0) + 1
    return counts


def test_cue_counts_match_a_plain_alternation_on_realistic_text() -> None:
    texts = [case_fragment(c).text for c in demo_history()[:400]]
    texts += [event_text(e) for c in demo_history()[:100] for e in c.events]
    texts += ["Customs broker: HS code missing.\nWe are short-staffed; 855 not acknowledged"]
    texts += ["Credit hold released.\nCustoms hold not released; no count variance"]
    for text in texts:
        assert list(count_cues(text).items()) == list(plain_count_cues(text).items())


def test_no_cue_can_match_a_line_break() -> None:
    # count_cues sums per-line counts, which is only right while no cue can span lines.
    spanning = re.compile(r"\\[sSWD]|(?<!\\)\.|\[\^")
    patterns = [p for ps in (*CUES.values(), *SPANNING_CUES.values()) for p in ps]
    assert [p for p in patterns if spanning.search(p)] == []


@pytest.mark.parametrize("causes", [None, ("credit_hold", "carrier_delay")])
def test_fitting_through_the_gram_factor_gives_the_direct_fit(
    causes: tuple[str, ...] | None,
) -> None:
    cases = [c for c in demo_history() if causes is None or c.resolution.cause in causes][:300]
    cases = [c for c in cases if c.resolution.cause != "unknown"]
    rows = FeatureSpace().fit_transform([case_fragment(c) for c in cases])
    y = np.array([c.resolution.cause for c in cases])
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    via_gram = calibrated_ensemble("sigmoid", splitter, 1.0, 0)
    with threadpool_limits(limits=1):
        # The Gram path works in double precision on the (single-precision) features; so does
        # this direct fit, so that only the coordinates differ.
        direct = calibrated_ensemble("sigmoid", splitter, 1.0, 0).fit(rows.astype(np.float64), y)
        fit_ensemble(via_gram, rows, y)
    # The same L-BFGS iterates in other coordinates; only where it stops may differ.
    np.testing.assert_allclose(via_gram.predict_proba(rows), direct.predict_proba(rows), atol=1e-2)
    pairs = zip(via_gram.calibrated_classifiers_, direct.calibrated_classifiers_, strict=True)
    for mine, theirs in pairs:
        assert mine.estimator.coef_.shape == theirs.estimator.coef_.shape
        if mine.estimator.n_iter_[0] == theirs.estimator.n_iter_[0]:
            np.testing.assert_allclose(mine.estimator.coef_, theirs.estimator.coef_, atol=1e-7)


def test_scoring_rows_are_exactly_the_vectorisers_own_transform() -> None:
    cases = demo_history()[:300]
    space = FeatureSpace()
    space.fit_transform([case_fragment(c) for c in cases])
    texts = [case_fragment(c).text for c in demo_history()[300:360]]
    texts += [event_text(e) for c in demo_history()[300:320] for e in c.events]
    # Whitespace runs, short words, words never seen, and a repeat (answered from the cache).
    texts += ["a  b\t\tc\n\nDC-ATL  pickup\u00a0missed", "zzqx ÿé", "", texts[0]]
    frozen = space.frozen()
    fragments = [Fragment(text=t, facts={}) for t in texts]
    for batch in (fragments[:1], fragments):
        # FeatureSpace.transform is the vectorisers' own transform; scoring uses the frozen one.
        fast, plain = frozen.transform(batch), space.transform(batch)
        assert fast.shape == plain.shape
        assert np.array_equal(fast.indptr, plain.indptr)
        assert np.array_equal(fast.indices, plain.indices)
        assert np.array_equal(fast.data, plain.data)
