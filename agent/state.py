"""The graph state: plain JSON values, so any checkpointer can store them."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypedDict

from core.models import Case


class TriageState(TypedDict, total=False):
    """Everything the nodes pass along for one case."""

    case: dict[str, Any]
    submitted_by: str
    similar: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    classification: dict[str, Any]
    proposals: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    approval_ids: list[str]
    resume: dict[str, Any]
    executed: list[str]
    status: str


class TriageNode(Protocol):
    """An async graph node: reads the state and returns the keys it updates."""

    def __call__(self, state: TriageState) -> Awaitable[dict[str, Any]]:
        """Runs the node."""
        ...


# The parsed case of each state's case dict, for the nodes of a run after the first. LangGraph
# hands every node of a run the same dict; the entry keeps that dict alive, so its id cannot
# be reused by another while it is here.
_PARSED_CASES: dict[int, tuple[dict[str, Any], Case]] = {}
_MAX_PARSED_CASES = 256


def case_of(state: TriageState) -> Case:
    """Returns the state's case as the domain model, parsed once per run (treat it as read-only)."""
    raw = state["case"]
    hit = _PARSED_CASES.get(id(raw))
    if hit is not None and hit[0] is raw:
        return hit[1]
    case = Case.model_validate(raw)
    if len(_PARSED_CASES) >= _MAX_PARSED_CASES:
        _PARSED_CASES.clear()
    _PARSED_CASES[id(raw)] = (raw, case)
    return case
