"""Classify: a calibrated cause distribution, its decision and the evidence behind it."""

from __future__ import annotations

from typing import Any

from agent.classifiers.base import ClassifierInput
from agent.deps import AgentDeps
from agent.diagnosis import diagnose
from agent.grounding import read_case
from agent.state import TriageNode, TriageState, case_of
from core.results import MatchedMessage, SimilarCase


def make_classify(deps: AgentDeps) -> TriageNode:
    """Builds the classify node."""

    async def classify(state: TriageState) -> dict[str, Any]:
        item = ClassifierInput(
            case=case_of(state),
            similar=[SimilarCase.model_validate(s) for s in state.get("similar", [])],
            messages=[MatchedMessage.model_validate(m) for m in state.get("messages", [])],
        )
        scores = await deps.classifiers.current.score(item)
        reading = read_case(item.case, item.messages)
        # What the case's own records back or rule out moves that cause, whatever scored it.
        probabilities = reading.weigh_records(scores.probabilities, deps.taxonomy.known_causes)
        classification = diagnose(
            scores.model_copy(update={"probabilities": probabilities}),
            deps.taxonomy,
            deps.policy.confidence_threshold,
            deps.policy.conformal_qhat_floor,
        )
        if classification.cause in deps.taxonomy.known_causes:
            grounding = reading.ground(classification.cause)
            classification.own_evidence = grounding.own
            classification.counter_evidence = grounding.counter
            # A cause that leads only because the case ruled out the one scored first is not
            # settled enough to act alone: what texts rule out may hold an action, never run one.
            first = max(deps.taxonomy.known_causes, key=lambda c: scores.probabilities.get(c, 0.0))
            if first != classification.cause and reading.checked_absent(first):
                classification.counter_evidence.append(f"ruled_out:{first}")
        return {"classification": classification.model_dump(mode="json")}

    return classify
