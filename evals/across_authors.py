"""Calibration and conformal sets fitted across authors, measured leave-one-author-out.

The shipped classifier is calibrated within one generator: its temperature-free probabilities
and its conformal qhat come from out-of-fold predictions of the simulator's history. This asks
what fitting them across authors would change. `python -m evals.across_authors SUITE_DIR` reads
a suite run; for every independent set it fits, on the other independent sets pooled,

- a temperature (the one that minimises the log loss of the true cause), and
- a split-conformal qhat at the run's alpha, on the probabilities as served (untempered),

then applies them to the held-out set and prints its ECE under the temperature, and its
conformal coverage, mean set size and what automation would have been under the qhat. The simulator's set is never a
fitting set: it is the generator the classifier was trained on.

A larger qhat only widens the sets, so an automatic case stays automatic exactly when its new
set still holds one cause. A smaller qhat would let cases run that were held for a wide set,
which a record cannot tell; those cases are counted as `loosened` and left out.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scipy.optimize import minimize_scalar

from agent.classifiers.conformal import conformal_qhat, prediction_set
from agent.classifiers.llm_calibration import temper
from evals.floors import Case, load_cases
from evals.metrics import ece

TRAINING_SET = "sim-seed-2026"
INDEPENDENT_PREFIX = "independent"
DEFAULT_ALPHA = 0.1
TEMPERATURE_BOUNDS = (0.25, 8.0)


@dataclass(frozen=True)
class Fitted:
    """What is fitted on the other authors: a temperature and a conformal qhat."""

    temperature: float
    qhat: float


@dataclass(frozen=True)
class HeldOut:
    """One held-out set's figures, as recorded and with the cross-author fit applied."""

    name: str
    cases: int
    fitted: Fitted
    ece_recorded: float
    ece_fitted: float
    coverage_recorded: float
    coverage_fitted: float
    set_size_fitted: float
    automated_recorded: int
    automated_fitted: int
    wrong_recorded: int
    wrong_fitted: int
    loosened: int


def _tempered(case: Case, temperature: float) -> dict[str, float]:
    return temper(case["probabilities"], temperature)


def _log_loss(cases: Sequence[Case], temperature: float) -> float:
    total = 0.0
    for case in cases:
        p = _tempered(case, temperature).get(case["expected_cause"], 0.0)
        total -= math.log(max(p, 1e-12))
    return total / len(cases)


def fit(cases: Sequence[Case], alpha: float = DEFAULT_ALPHA) -> Fitted:
    """Returns the log-loss temperature and the split-conformal qhat of the pooled cases."""
    best = minimize_scalar(
        lambda t: _log_loss(cases, t), bounds=TEMPERATURE_BOUNDS, method="bounded"
    )
    # The qhat is fitted on the probabilities as served: the temperature is measured, not applied
    # (see the module's results), so a qhat fitted on tempered ones would not match the sets.
    truths = [c["probabilities"].get(c["expected_cause"], 0.0) for c in cases]
    return Fitted(float(best.x), conformal_qhat(truths, alpha))


def _automatic(case: Case) -> bool:
    return any(d["outcome"] == "auto" for d in case["decisions"])


def apply(name: str, cases: Sequence[Case], fitted: Fitted) -> HeldOut:
    """Returns the held-out set's figures as recorded and under the cross-author fit."""
    tempered = [_tempered(c, fitted.temperature) for c in cases]
    sets = [prediction_set(c["probabilities"], fitted.qhat) for c in cases]
    correct = [c["predicted"] == c["expected_cause"] for c in cases]
    # Temperature keeps the order of the causes, so the top cause and its correctness stay.
    confidence = [
        p.get(c["predicted"], 0.0) if c["predicted"] else 0.0
        for c, p in zip(cases, tempered, strict=True)
    ]
    auto = [c for c in cases if _automatic(c)]
    kept = [c for c, s in zip(cases, sets, strict=True) if _automatic(c) and len(s) == 1]
    loosened = sum(len(s) < len(c["prediction_set"]) for c, s in zip(cases, sets, strict=True))
    n = len(cases)
    return HeldOut(
        name=name,
        cases=n,
        fitted=fitted,
        ece_recorded=ece([c["confidence"] for c in cases], correct),
        ece_fitted=ece(confidence, correct),
        coverage_recorded=sum(c["expected_cause"] in c["prediction_set"] for c in cases) / n,
        coverage_fitted=sum(c["expected_cause"] in s for c, s in zip(cases, sets, strict=True)) / n,
        set_size_fitted=sum(len(s) for s in sets) / n,
        automated_recorded=len(auto),
        automated_fitted=len(kept),
        wrong_recorded=sum(c["decided"] != c["expected_cause"] for c in auto),
        wrong_fitted=sum(c["decided"] != c["expected_cause"] for c in kept),
        loosened=loosened,
    )


def leave_one_author_out(
    sets: Mapping[str, Sequence[Case]], alpha: float = DEFAULT_ALPHA
) -> list[HeldOut]:
    """Fits on every independent set but one and measures the one left out, for each."""
    authors = [name for name in sets if name.startswith(INDEPENDENT_PREFIX)]
    if len(authors) < 2:
        raise ValueError("leave-one-author-out needs at least two independent sets")
    results = []
    for held in authors:
        pooled = [c for name in authors if name != held for c in sets[name]]
        results.append(apply(held, sets[held], fit(pooled, alpha)))
    return results


def render(results: Sequence[HeldOut]) -> str:
    """Returns the results as a Markdown table."""
    rows = [
        "| held-out set | T | qhat | ECE recorded -> fitted | coverage recorded -> fitted "
        "| set size | automatic recorded -> fitted (wrong) | loosened |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r.name} | {r.fitted.temperature:.2f} | {r.fitted.qhat:.3f} "
            f"| {r.ece_recorded:.3f} -> {r.ece_fitted:.3f} "
            f"| {r.coverage_recorded:.3f} -> {r.coverage_fitted:.3f} | {r.set_size_fitted:.2f} "
            f"| {r.automated_recorded} ({r.wrong_recorded}) -> {r.automated_fitted} "
            f"({r.wrong_fitted}) of {r.cases} | {r.loosened} |"
        )
    return "\n".join(rows)


def main(suite_dir: Path, held_out: Sequence[Path] = (), alpha: float = DEFAULT_ALPHA) -> None:
    """Prints the leave-one-author-out table for a suite run's folder.

    Each folder in `held_out` (one set's run, outside the suite) is measured with the fit on
    every independent set of the suite.
    """
    names = sorted(p.parent.name for p in suite_dir.glob("*/cases.jsonl"))
    sets = {name: load_cases(suite_dir / name) for name in names if name != TRAINING_SET}
    results = leave_one_author_out(sets, alpha)
    pooled = [c for name in sets if name.startswith(INDEPENDENT_PREFIX) for c in sets[name]]
    fitted = fit(pooled, alpha)
    results += [apply(str(path), load_cases(path), fitted) for path in held_out]
    print(render(results))
    print(
        f"\nFitted on every independent set ({len(pooled)} cases): "
        f"temperature {fitted.temperature:.3f}, qhat {fitted.qhat:.3f}"
    )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m evals.across_authors SUITE_DIR [HELD_OUT_RUN_DIR ...]")
    main(Path(sys.argv[1]), [Path(arg) for arg in sys.argv[2:]])
