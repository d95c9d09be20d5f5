"""The inline SQLite checkpointer: a node's writes commit with the next checkpoint, others at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langgraph.checkpoint.base import WRITES_IDX_MAP, empty_checkpoint
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from app.checkpointing import open_checkpointer

URL = "sqlite+aiosqlite:///unused.db"
INTERRUPT = "__interrupt__"  # LangGraph's channel of a pending interrupt


def committed_writes(path: Path) -> list[str]:
    """Returns the channels of the writes another connection sees: only committed ones."""
    with sqlite3.connect(path) as other:
        return [row[0] for row in other.execute("SELECT channel FROM writes ORDER BY idx")]


def committed_checkpoints(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT count(*) FROM checkpoints").fetchone()[0])


async def test_a_nodes_output_commits_with_the_checkpoint_after_it(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.db"
    async with open_checkpointer(URL, path) as saver:
        config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        first = await saver.aput(config, empty_checkpoint(), {}, {})
        await saver.aput_writes(first, [("value", 1)], task_id="task-1")
        assert committed_writes(path) == []
        await saver.aput(first, empty_checkpoint(), {}, {})
        assert committed_writes(path) == ["value"]
        assert committed_checkpoints(path) == 2


async def test_an_interrupt_commits_at_once(tmp_path: Path) -> None:
    assert INTERRUPT in WRITES_IDX_MAP
    path = tmp_path / "checkpoints.db"
    async with open_checkpointer(URL, path) as saver:
        config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        first = await saver.aput(config, empty_checkpoint(), {}, {})
        await saver.aput_writes(first, [(INTERRUPT, {"why": "approval"})], task_id="task-1")
        assert committed_writes(path) == [INTERRUPT]


class State(TypedDict, total=False):
    steps: list[str]
    decided: Any


async def gather(state: State) -> State:
    return {"steps": [*state.get("steps", []), "gather"]}


async def wait(state: State) -> State:
    return {"decided": interrupt({"ask": "approve?"})}


def build(saver: Any) -> Any:
    graph = StateGraph(State)
    graph.add_node("gather", gather)
    graph.add_node("wait", wait)
    graph.add_edge(START, "gather")
    graph.add_edge("gather", "wait")
    graph.add_edge("wait", END)
    return graph.compile(checkpointer=saver)


@pytest.mark.parametrize("durability", ["async", "sync"])
async def test_a_run_stopped_at_an_interrupt_resumes_in_a_new_process(
    tmp_path: Path, durability: Any
) -> None:
    path = tmp_path / "checkpoints.db"
    config: Any = {"configurable": {"thread_id": "case-1"}}
    async with open_checkpointer(URL, path) as saver:
        await build(saver).ainvoke({"steps": []}, config, durability=durability)
    # A new connection (a restarted process) finds the run waiting, with its interrupt.
    async with open_checkpointer(URL, path) as saver:
        graph = build(saver)
        snapshot = await graph.aget_state(config)
        assert snapshot.next == ("wait",)
        assert snapshot.values["steps"] == ["gather"]
        assert [i.value for i in snapshot.interrupts] == [{"ask": "approve?"}]
        done = await graph.ainvoke(Command(resume="approved"), config, durability=durability)
    assert done == {"steps": ["gather"], "decided": "approved"}
