"""Wires the triage nodes into a LangGraph StateGraph; nothing else happens here."""

from __future__ import annotations

import inspect
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.deps import AgentDeps
from agent.nodes.await_approval import await_approval
from agent.nodes.classify import make_classify
from agent.nodes.close import make_close
from agent.nodes.execute import make_execute
from agent.nodes.policy_gate import make_policy_gate
from agent.nodes.propose import make_propose
from agent.nodes.retrieve import make_retrieve
from agent.state import TriageState


async def route_after_automatic(state: TriageState) -> Literal["await_approval", "close"]:
    """Sends a case to people when any action waits for approval, else straight to closing."""
    # A coroutine: LangGraph runs a plain function of an async graph in a worker thread.
    return "await_approval" if state.get("approval_ids") else "close"


def with_fault_points(deps: AgentDeps, name: str, node: Any) -> Any:
    """Wraps a node with the crash suite's points before and after it (no-ops unless configured)."""

    async def run(state: TriageState) -> Any:
        case_id = state["case"]["case_id"]
        deps.faults.reach(f"before:{name}", case_id)
        update = await node(state) if inspect.iscoroutinefunction(node) else node(state)
        deps.faults.reach(f"after:{name}", case_id)
        return update

    return run if deps.faults.point else node


def build_graph(
    deps: AgentDeps, checkpointer: BaseCheckpointSaver[Any] | None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Returns the compiled triage graph."""
    builder = StateGraph(TriageState)
    nodes = {
        "retrieve": make_retrieve(deps),
        "classify": make_classify(deps),
        "propose": make_propose(deps),
        "policy_gate": make_policy_gate(deps),
        "execute_automatic": make_execute(deps, "automatic"),
        "await_approval": await_approval,
        "execute": make_execute(deps, "approved"),
        "close": make_close(deps),
    }
    for name, node in nodes.items():
        builder.add_node(name, with_fault_points(deps, name, node))
    builder.add_edge(START, "retrieve")
    builder.add_edge("retrieve", "classify")
    builder.add_edge("classify", "propose")
    builder.add_edge("propose", "policy_gate")
    builder.add_edge("policy_gate", "execute_automatic")
    builder.add_conditional_edges("execute_automatic", route_after_automatic)
    builder.add_edge("await_approval", "execute")
    builder.add_edge("execute", "close")
    builder.add_edge("close", END)
    return builder.compile(checkpointer=checkpointer)
