"""How eval worker processes start; light on purpose, so the CLI can start them before importing.

Workers come from a fork server: a fresh, single-threaded process that imports the worker code
once and forks every worker from that state. A spawned worker would import everything again
(seconds each); a worker forked from the eval's own process would copy whatever its other
threads hold (a child forked after Chroma's native threads started hangs in its first call).
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import forkserver
from multiprocessing.context import BaseContext

# What the fork server imports once, so that every worker it forks starts with it loaded.
PRELOAD = ["evals.shard", "evals.workers"]


def default_workers(classifier: str) -> int:
    """Returns min(2, CPUs) for the CPU-bound local classifier and 1 for the network-bound LLM."""
    return 1 if classifier == "llm" else max(1, min(2, os.cpu_count() or 1))


def default_concurrency(classifier: str) -> int:
    """Returns the cases each worker keeps in flight: 1 for the local classifier, 4 for the LLM.

    The local classifier is CPU-bound: more cases in flight only interleave on the same core,
    which costs about 5% more time and makes each case's latency include its neighbours'. The
    workers give the parallelism. The LLM waits on the network, where overlap pays.
    """
    return 4 if classifier == "llm" else 1


def worker_context() -> BaseContext:
    """Returns the process context for workers: a fork server where available, else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm_up_workers() -> None:
    """Starts the fork server now, so that its imports overlap this process's own work."""
    if worker_context().get_start_method() == "forkserver":
        forkserver.ensure_running()
