"""Times a bare LangGraph graph of the triage graph's shape, no-op nodes, on a SqliteSaver file."""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class BareState(TypedDict, total=False):
    """A state with a case body and the decisions, like the triage state but smaller."""

    case: dict[str, Any]
    decisions: dict[str, str]
    done: bool


def _noop(state: BareState) -> dict[str, Any]:
    return {}


def _await(state: BareState) -> dict[str, Any]:
    return {"decisions": interrupt({"approvals": ["a-1"]})}


def _close(state: BareState) -> dict[str, Any]:
    return {"done": True}


def build_bare_graph(saver: SqliteSaver) -> Any:
    """Returns the eight-node graph wired as agent/graph.py wires the triage graph."""
    builder = StateGraph(BareState)
    names = ["retrieve", "classify", "propose", "policy_gate", "execute_automatic"]
    for name in names:
        builder.add_node(name, _noop)
    builder.add_node("await_approval", _await)
    builder.add_node("execute", _noop)
    builder.add_node("close", _close)
    builder.add_edge(START, "retrieve")
    for before, after in zip(names, [*names[1:], "await_approval"], strict=True):
        builder.add_edge(before, after)
    builder.add_edge("await_approval", "execute")
    builder.add_edge("execute", "close")
    builder.add_edge("close", END)
    return builder.compile(checkpointer=saver)


def time_bare_graph(cases: int, body: dict[str, Any]) -> dict[str, float]:
    """Runs `cases` threads to the interrupt and on to the end; returns p50s in milliseconds."""
    to_interrupt: list[float] = []
    to_end: list[float] = []
    cpu: list[float] = []
    with tempfile.TemporaryDirectory(prefix="triage-bare-") as tmp:
        path = Path(tmp) / "checkpoints.db"
        with closing(sqlite3.connect(str(path), check_same_thread=False)) as conn:
            # The same pragmas as the service's checkpointer (app/checkpointing.py).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            saver = SqliteSaver(conn)
            saver.setup()
            graph = build_bare_graph(saver)
            for index in range(cases):
                config = RunnableConfig(configurable={"thread_id": f"bare-{index}"})
                started, cpu_started = time.perf_counter(), time.process_time()
                graph.invoke({"case": body}, config, durability="async")
                reached = time.perf_counter()
                cpu.append(time.process_time() - cpu_started)
                graph.invoke(Command(resume={"a-1": "approved"}), config, durability="async")
                to_interrupt.append(reached - started)
                to_end.append(time.perf_counter() - reached)
    return {
        "bare_interrupt_ms": 1000 * statistics.median(to_interrupt),
        "bare_resume_ms": 1000 * statistics.median(to_end),
        "bare_cpu_interrupt_ms": 1000 * statistics.median(cpu),
    }
