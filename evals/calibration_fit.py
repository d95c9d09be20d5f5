"""Fits the per-model LLM calibration map from the model's stated probabilities on labelled cases."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from agent.classifiers.llm import LlmClassifier
from agent.classifiers.llm_calibration import CalibrationMap, CalibrationRecord, fit_calibration
from app.wiring import Overrides, open_runtime
from core.models import EvalLine
from core.settings import Settings
from evals.conformal_calibration import classify_lines
from evals.metrics import usage_totals
from evals.replay_watch import watch_replay
from evals.shard import (
    NumberedLines,
    ProgressSink,
    RunOptions,
    check_classifier,
    current_llm,
    eval_settings,
    import_context,
)
from tools.actions.fake import FakeActions
from tools.erp.fake import FakeErp

SPLIT_SEED = 2026
FIT_SHARE = 0.5


def split_for_fit(lines: NumberedLines) -> tuple[NumberedLines, NumberedLines]:
    """Splits the dataset at random (fixed seed) into a fitting half and a held-out half."""
    picked = set(random.Random(SPLIT_SEED).sample(range(len(lines)), int(len(lines) * FIT_SHARE)))
    fit = [pair for i, pair in enumerate(lines) if i in picked]
    held_out = [pair for i, pair in enumerate(lines) if i not in picked]
    return fit, held_out


async def scored_twice(
    options: RunOptions, base: Settings, lines: list[EvalLine], bar: ProgressSink
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], LlmClassifier]:
    """Returns per case the model's own stated classification (no map, no blend) and the local one."""
    with tempfile.TemporaryDirectory(prefix="triage-fit-") as tmp:
        settings = eval_settings(base, Path(tmp), options)
        overrides = Overrides(erp=FakeErp(), actions=FakeActions(), llm_replay_dir=options.replay)
        async with open_runtime(settings, overrides, durability="exit") as runtime:
            # The same history and messages as the evaluation, so the prompts match it too.
            await import_context(runtime, options, bar)
            check_classifier(runtime, "llm")
            llm = current_llm(runtime)
            watch = watch_replay(llm) if options.replay else None
            slot = runtime.deps.classifiers
            task = bar.add_task("calibration fit", total=len(lines))
            try:
                slot.replace(llm.stated_only())
                stated = await classify_lines(runtime.deps, lines, options.cases_in_flight())
                slot.replace(llm.fallback)
                local = await classify_lines(runtime.deps, lines, options.cases_in_flight())
            finally:
                slot.replace(llm)
            bar.advance(task, len(lines))
            if watch is not None:
                watch.raise_if_missed(len(lines))
            return stated, local, llm


async def fit_llm_map(
    options: RunOptions,
    base: Settings,
    lines: list[EvalLine],
    out: Path,
    bar: ProgressSink,
) -> tuple[CalibrationMap, dict[str, Any]]:
    """Fits the temperature map on the cases the LLM itself scored, saves it and summarises it."""
    found, local, llm = await scored_twice(options, base, lines, bar)
    records = [
        CalibrationRecord(
            probabilities=c["probabilities"],
            label=line.expected.cause,
            # An untrained local model is never blended in, so the map must not count on it.
            local=None if "untrained" in own["flags"] else own["probabilities"],
        )
        for c, own, line in zip(found, local, lines, strict=True)
        # A fallback's numbers come from the local model, not from the model being calibrated.
        if c["classifier"] == "llm"
    ]
    fitted = fit_calibration(
        records,
        model=base.llm_model,
        alpha=base.conformal_alpha,
        prompt_hash=llm.prompt.sha256,
        configured_blend=llm.options.blend_weight,
    )
    fitted.save(out)
    summary = {
        "model": fitted.model,
        "path": str(out),
        "fit_cases": len(lines),
        "fit_fallbacks": len(lines) - len(records),
        "temperature": fitted.temperature,
        "blend_weight": fitted.blend_weight,
        "qhat": fitted.qhat,
        "fit_ece_before": fitted.ece_before,
        "fit_ece_after": fitted.ece_after,
        "usage": usage_totals(found),
    }
    return fitted, summary
