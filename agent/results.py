"""Builds the stored and returned TriageResult from the graph state."""

from __future__ import annotations

from agent.state import TriageState
from core.results import (
    CaseStatus,
    Classification,
    MatchedMessage,
    PolicyDecision,
    ProposedAction,
    SimilarCase,
    TriageResult,
)


def result_from_state(state: TriageState, status: CaseStatus) -> TriageResult:
    """Returns the triage result a reviewer or the orchestrator sees for this state."""
    raw = state.get("classification")
    return TriageResult(
        case_id=state["case"]["case_id"],
        status=status,
        classification=Classification.model_validate(raw) if raw else None,
        proposals=[ProposedAction.model_validate(p) for p in state.get("proposals", [])],
        decisions=[PolicyDecision.model_validate(d) for d in state.get("decisions", [])],
        similar_cases=[SimilarCase.model_validate(s) for s in state.get("similar", [])],
        matched_messages=[MatchedMessage.model_validate(m) for m in state.get("messages", [])],
        approval_ids=state.get("approval_ids", []),
        executed=state.get("executed", []),
        submitted_by=state.get("submitted_by"),
    )
