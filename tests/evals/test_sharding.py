"""Merging worker shards, relaying their progress, and summing token usage."""

from __future__ import annotations

import queue

import pytest
from rich.progress import Progress

from core.errors import ConfigurationError
from evals.metrics import case_usage, usage_totals
from evals.options import ShardResult
from evals.runner import merge_shards
from evals.workers import ProgressRelay, QueueProgress
from tests.support.evals import make_record


def test_shards_merge_in_dataset_order_with_their_violations() -> None:
    first = ShardResult([make_record(line=1), make_record(line=3)], [], {"triage_s": 2.0}, 0.4)
    bad = make_record(line=2, case_id="C-2", violations=["x posted: no approval record"])
    second = ShardResult([bad], ["C-2: x posted: no approval record"], {"triage_s": 3.0}, 0.4)
    merged = merge_shards([first, second])
    assert [r.line for r in merged.records] == [1, 2, 3]
    assert merged.violations == ["C-2: x posted: no approval record"]
    assert merged.timings == {"triage_s": 3.0}
    assert merged.qhat == 0.4


def test_workers_that_calibrated_differently_are_refused() -> None:
    shards = [ShardResult([make_record(line=n)], [], {}, q) for n, q in ((1, 0.4), (2, 0.5))]
    with pytest.raises(ConfigurationError, match="calibrated differently"):
        merge_shards(shards)


def test_worker_progress_is_summed_per_task() -> None:
    channel: queue.Queue[tuple[str, str, float]] = queue.Queue()
    for _ in range(2):
        sink = QueueProgress(channel)
        task = sink.add_task("cases", total=5)
        sink.advance(task, 3)
    with Progress(disable=True) as bar:
        relay = ProgressRelay(bar)
        relay.drain(channel, wait_s=0.01)
        (shown,) = bar.tasks
    assert (shown.description, shown.total, shown.completed) == ("cases", 10, 6)


def test_usage_is_zero_for_the_local_classifier_and_summed_for_the_llm() -> None:
    assert case_usage({}) == dict.fromkeys(
        ("prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "llm_attempts"), 0.0
    )
    llm = {"prompt_tokens": 100, "completion_tokens": 20, "cost_usd": 0.5, "llm_attempts": 2}
    totals = usage_totals(
        [
            {"usage": llm, "classifier": "llm", "flags": ["replayed"]},
            {"usage": {"llm_attempts": 3}, "classifier": "local", "fallback_reason": "timeout: x"},
            {"usage": {}, "classifier": "local", "flags": ["unpriced"]},
        ]
    )
    assert totals == {
        "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120, "cost_usd": 0.5,
        "llm_calls": 5, "llm_scored": 1, "fallbacks": 1, "replayed": 1, "unpriced": 1,
    }  # fmt: skip


def test_history_every_worker_imports_is_counted_once() -> None:
    """Two workers each import all 1,200 history cases: the bar reads 1200/1200, not 2400."""
    channel: queue.Queue[tuple[str, str, float]] = queue.Queue()
    for _ in range(2):
        sink = QueueProgress(channel)
        task = sink.add_task("history", total=1200)
        sink.advance(task, 500)
        sink.advance(task, 700)
    with Progress(disable=True) as bar:
        relay = ProgressRelay(bar, workers=2)
        relay.drain(channel, wait_s=0.01)
        (shown,) = bar.tasks
    assert (shown.description, shown.total, shown.completed) == ("history", 1200, 1200)
