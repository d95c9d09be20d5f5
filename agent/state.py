"""The graph state: plain JSON values, so any checkpointer can store them."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypedDict


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
