"""Abstention: how much probability `unknown` gets when the evidence is weak or conflicting.

A small logistic model reads how strong and how consistent the evidence is (cue hits, decisive
structured facts, the base model's top probability, margin and entropy) and returns the
probability that the case is genuinely unknown. It is fitted on out-of-fold predictions of the
history, so its inputs look like the ones it meets when serving, and its intercept is shifted to
an assumed deployment rate of unknown cases: history under-represents them, because a case
routed to a person is usually resolved later with a real cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from agent.classifiers.facts import FACT_CAUSES

# Facts that on their own settle a cause whatever the wording.
DECISIVE_FACTS = tuple(FACT_CAUSES)
MIN_UNKNOWN = 3
# How many times likelier a statement that the cause is undetermined is in a genuinely unknown
# case than in one with a real cause. A conservative reading of the project's simulated eval
# cases, where such statements occur in unknown cases only: enough to make `unknown` the top
# cause from a p(unknown) of about 5%, not to overturn a case whose evidence is decisive.
UNDETERMINED_ODDS = 20.0


def evidence_profile(facts: Mapping[str, float]) -> list[float]:
    """Returns how much and how consistent the case's evidence is, from its fragment facts."""
    cues = sorted((v for k, v in facts.items() if k.startswith("cue=")), reverse=True)
    total = sum(cues)
    top = cues[0] if cues else 0.0
    decisive = sum(1.0 for k in DECISIVE_FACTS if facts.get(k)) + sum(
        1.0 for k in facts if k.startswith("code=")
    )
    return [
        float(np.log1p(total)),
        top / total if total else 0.0,
        float(len(cues)),
        float(np.log1p(decisive)),
        1.0 if total == 0 and decisive == 0 else 0.0,
    ]


def meta_features(probs: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """Returns the abstention inputs: base-model confidence, margin, entropy and evidence profile."""
    ordered = np.sort(probs, axis=1)[:, ::-1]
    top = ordered[:, 0]
    margin = top - (ordered[:, 1] if probs.shape[1] > 1 else 0.0)
    clipped = np.clip(probs, 1e-12, 1.0)
    entropy = -(clipped * np.log(clipped)).sum(axis=1) / np.log(max(probs.shape[1], 2))
    return np.column_stack([np.log(np.clip(top, 1e-6, 1.0)), margin, entropy, profiles])


@dataclass(frozen=True)
class Abstention:
    """A fitted abstention model as plain arrays, so scoring needs no sklearn validation."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def p_unknown(self, meta: np.ndarray) -> np.ndarray:
        """Returns the probability that each case is genuinely unknown."""
        return np.asarray(expit(((meta - self.mean) / self.scale) @ self.coef + self.intercept))


def fit_abstention(
    meta: np.ndarray, is_unknown: np.ndarray, *, prior: float, strength: float = 0.3
) -> Abstention | None:
    """Fits the abstention model; None when history holds too few unknown cases to learn from."""
    from sklearn.linear_model import LogisticRegression  # fitting only: serving never imports it

    positives = int(is_unknown.sum())
    if positives < MIN_UNKNOWN or positives == len(is_unknown):
        return None
    mean, scale = meta.mean(axis=0), meta.std(axis=0) + 1e-6
    model = LogisticRegression(C=strength, max_iter=1000)
    model.fit((meta - mean) / scale, is_unknown.astype(int))
    rate = positives / len(is_unknown)
    # Bayes' rule under label shift: only the prior odds change, by the ratio of the two odds.
    shift = float(logit(max(prior, rate)) - logit(rate))
    return Abstention(mean, scale, model.coef_[0], float(model.intercept_[0]) + shift)


def stated_undetermined(p_unknown: np.ndarray, stated: np.ndarray) -> np.ndarray:
    """Returns p(unknown) updated by Bayes' rule where a case says its cause is undetermined.

    "Can't call it", "root cause unclear": someone who looked says the evidence settles nothing,
    which is what `unknown` means. History cannot teach this, since a case routed to a person is
    resolved with a real cause and its doubts are gone from the record. So the statement is
    evidence with a set likelihood ratio: its odds multiply the model's odds of unknown.
    """
    odds = p_unknown / np.clip(1.0 - p_unknown, 1e-12, None)
    raised = odds * UNDETERMINED_ODDS
    return np.where(stated, raised / (1.0 + raised), p_unknown)


def with_unknown(probs: np.ndarray, p_unknown: np.ndarray) -> np.ndarray:
    """Returns the known-cause distribution scaled by 1 - p(unknown), with p(unknown) appended."""
    return np.column_stack([probs * (1.0 - p_unknown)[:, None], p_unknown])
