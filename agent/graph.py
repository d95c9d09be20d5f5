"""Wires the triage nodes into a LangGraph StateGraph; nothing else happens here."""

from __future__ import annotations

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


def route_after_gate(state: TriageState) -> Literal["await_approval", "execute"]:
    """Sends a case to people when any action waits for approval, else straight to execution."""
    return "await_approval" if state.get("approval_ids") else "execute"


def build_graph(
    deps: AgentDeps, checkpointer: BaseCheckpointSaver[Any] | None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Returns the compiled triage graph."""
    builder = StateGraph(TriageState)
    builder.add_node("retrieve", make_retrieve(deps))
    builder.add_node("classify", make_classify(deps))
    builder.add_node("propose", make_propose(deps))
    builder.add_node("policy_gate", make_policy_gate(deps))
    builder.add_node("await_approval", await_approval)
    builder.add_node("execute", make_execute(deps))
    builder.add_node("close", make_close(deps))
    builder.add_edge(START, "retrieve")
    builder.add_edge("retrieve", "classify")
    builder.add_edge("classify", "propose")
    builder.add_edge("propose", "policy_gate")
    builder.add_conditional_edges("policy_gate", route_after_gate)
    builder.add_edge("await_approval", "execute")
    builder.add_edge("execute", "close")
    builder.add_edge("close", END)
    return builder.compile(checkpointer=checkpointer)
