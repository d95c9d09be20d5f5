"""Await approval: one interrupt per case carrying every pending approval; no side effects."""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from agent.state import TriageState


async def await_approval(state: TriageState) -> dict[str, Any]:
    """Pauses the graph until people have decided every approval; LangGraph re-runs this on resume."""
    # A coroutine: LangGraph runs a plain function of an async graph in a worker thread.
    decided = interrupt(
        {"case_id": state["case"]["case_id"], "approval_ids": state.get("approval_ids", [])}
    )
    return {"resume": decided if isinstance(decided, dict) else {"value": decided}}
