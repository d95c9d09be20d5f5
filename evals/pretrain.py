"""Trains the local model once in the eval's own process, for every worker to load."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from agent.classifiers.local import train_local_model
from core.errors import ConfigurationError
from core.settings import Settings
from core.taxonomy import load_taxonomy
from evals.dataset import DEMO_HISTORY, load_history
from evals.options import RunOptions


def untrainable_marker(path: Path) -> Path:
    """Returns the file the parent writes instead of the model when each worker must train.

    That is when the history is too thin (the worker's own training then says why), or longer
    than `TRIAGE_TRAIN_MAX_CASES`: the cap picks each cause's most recent cases by the time
    they were stored, which only a worker's store knows.
    """
    return path.with_suffix(".untrainable")


def failed_marker(path: Path) -> Path:
    """Returns the file the parent writes when training failed outright."""
    return path.with_suffix(".failed")


def pretrain_local_model(options: RunOptions, base: Settings, path: Path) -> bool:
    """Trains the local model once for all workers, as each would on its store, into `path`.

    The store returns history ordered by case id, so the model is trained in that order and
    comes out identical to the one a worker would train itself. Returns False (and leaves the
    untrainable marker) when the history is too thin to train on, or longer than the training
    cap. Any other error leaves the failed marker, so no worker waits for a model that will
    never come, and propagates.
    """
    try:
        taxonomy = load_taxonomy(base.taxonomy_file)
        history = load_history(options.history or DEMO_HISTORY, taxonomy)
        if len(history) > base.train_max_cases:
            untrainable_marker(path).touch()
            return False
        model = train_local_model(
            sorted(history, key=lambda item: item.case_id), taxonomy, alpha=base.conformal_alpha
        )
        model.save(path)  # atomic: a file that exists is complete
    except ConfigurationError:
        untrainable_marker(path).touch()
        return False
    except BaseException:
        failed_marker(path).touch()
        raise
    return True


async def wait_for_pretrained(path: Path, timeout_s: float = 600.0) -> bool:
    """Waits for the parent's model (True) or its marker that there is none (False).

    Raises ConfigurationError when the parent's training failed, or never ended in time.
    """
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if untrainable_marker(path).exists():
            return False
        if failed_marker(path).exists():
            raise ConfigurationError("training the model failed in the eval's own process")
        if time.monotonic() > deadline:
            raise ConfigurationError(f"the parent process never delivered the model {path}")
        await asyncio.sleep(0.02)
    return True
