"""Turns calibrated cause scores into a diagnosis: threshold, conformal set and routing reason."""

from __future__ import annotations

from agent.classifiers.base import CauseScores
from agent.classifiers.conformal import prediction_set
from core.results import Classification
from core.taxonomy import Taxonomy


def diagnose(
    scores: CauseScores, taxonomy: Taxonomy, threshold: float, qhat_floor: float = 0.0
) -> Classification:
    """Returns the classification: the top cause, or `unknown` when confidence is below threshold.

    The conformal set uses the classifier's qhat, raised to `qhat_floor` (the policy's
    `conformal_qhat_floor`) when that is higher; a classifier that gives no qhat has no set
    beyond its top cause.
    """
    probabilities = {c: float(scores.probabilities.get(c, 0.0)) for c in taxonomy.cause_ids}
    top_cause = max(probabilities, key=lambda c: probabilities[c])
    confidence = probabilities[top_cause]
    qhat = None if scores.conformal_qhat is None else max(scores.conformal_qhat, qhat_floor)
    pset = prediction_set(probabilities, qhat) if qhat is not None else [top_cause]
    routed_reason = None
    cause = top_cause
    if top_cause == taxonomy.unknown_cause:
        routed_reason = "the classifier found no supported cause"
    elif confidence < threshold:
        cause = taxonomy.unknown_cause
        routed_reason = f"confidence {confidence:.2f} is below the threshold {threshold:.2f}"
    elif len(pset) > 1:
        routed_reason = f"the conformal set holds {len(pset)} causes: {', '.join(pset)}"
    return Classification(
        cause=cause,
        top_cause=top_cause,
        confidence=confidence,
        probabilities=probabilities,
        prediction_set=pset,
        evidence=scores.evidence,
        classifier=scores.classifier,
        model=scores.model,
        rationale=scores.rationale,
        routed_reason=routed_reason,
        fallback_reason=scores.fallback_reason,
        prompt_hash=scores.prompt_hash,
        flags=scores.flags,
        usage=scores.usage,
    )
