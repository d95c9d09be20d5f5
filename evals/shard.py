"""Triages a list of eval cases through the production runtime on one temporary store."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.classifiers.llm import LlmClassifier
from agent.classifiers.llm_calibration import CalibrationMap, calibration_path
from app.wiring import Overrides, Runtime, open_runtime
from core.approvals import ApprovalStatus, VoteDecision
from core.errors import ConfigurationError, TriageError
from core.models import EvalLine
from core.principals import Principal, PrincipalKind
from core.settings import Settings
from core.store import approvals as approval_store
from core.taxonomy import Taxonomy
from evals.conformal_calibration import calibrate
from evals.dataset import DEMO_HISTORY, DEMO_MESSAGES, load_history, load_messages
from evals.options import ClassifierName, NumberedLines, ProgressSink, RunOptions, ShardResult
from evals.pretrain import wait_for_pretrained
from evals.replay_watch import ReplayWatch, watch_replay
from evals.report import CaseRecord, case_record
from evals.violations import find_violations
from tools.actions.fake import FakeActions
from tools.erp.fake import FakeErp

ORCHESTRATOR = Principal(name="eval-orchestrator", kind=PrincipalKind.api_key)


def reviewers(taxonomy: Taxonomy, extra_roles: set[str]) -> tuple[Principal, Principal]:
    """Returns two different people holding every approver role, so four-eyes can be met."""
    roles = frozenset({a.approver_role for a in taxonomy.actions if a.approver_role} | extra_roles)
    return (
        Principal(name="eval-approver-a", kind=PrincipalKind.person, roles=roles),
        Principal(name="eval-approver-b", kind=PrincipalKind.person, roles=roles),
    )


async def review(
    runtime: Runtime, case_id: str, expected: set[str], people: tuple[Principal, ...]
) -> list[dict[str, Any]]:
    """Approves the pending actions the label lists and rejects the rest, like a careful reviewer."""
    async with runtime.db.transaction() as conn:
        pending = await approval_store.list_approvals(
            conn, case_id=case_id, status=ApprovalStatus.pending.value
        )
    reviews = []
    for record in pending:
        decision: VoteDecision = "approve" if record.action in expected else "reject"
        status = record.status.value
        try:
            for voter in people if decision == "approve" else people[:1]:
                reason = "expected by the label" if decision == "approve" else "not expected"
                status = (
                    await runtime.desk.decide(record.approval_id, voter, decision, reason)
                ).status.value
                if status != ApprovalStatus.pending.value:
                    break
        except TriageError as refusal:
            # A refusal is a finding about the gate, not a reason to abandon the whole run.
            status = f"refused: {getattr(refusal, 'rule', type(refusal).__name__)}"
            if getattr(refusal, "rule", None) == "params-schema":
                # Like a reviewer with nothing to fill the empty field from: send it back.
                status = await _reject_incomplete(runtime, record.approval_id, people[0], refusal)
        reviews.append({"action": record.action, "decision": decision, "status": status})
    return reviews


async def _reject_incomplete(
    runtime: Runtime, approval_id: str, voter: Principal, refusal: TriageError
) -> str:
    """Rejects an approval whose parameters the seal refused; returns the resulting status."""
    reason = f"parameters incomplete: {refusal.message}"
    try:
        decided = await runtime.desk.decide(approval_id, voter, "reject", reason)
    except TriageError as again:
        return f"refused: {getattr(again, 'rule', type(again).__name__)}"
    return f"{decided.status.value} (params-schema)"


async def import_context(
    runtime: Runtime, options: RunOptions, bar: ProgressSink, pretrained: Path | None = None
) -> float:
    """Imports the history and messages (the shipped demo set by default) and trains.

    With `pretrained`, the model the parent process is training meanwhile (see
    pretrain_local_model) is awaited and loaded the way the service loads a saved model: only
    if it was trained on exactly the stored history, else the runtime retrains. Returns the
    seconds this process spent training (none when the parent's model was loaded).
    """
    taxonomy = runtime.deps.taxonomy
    history = await asyncio.to_thread(load_history, options.history or DEMO_HISTORY, taxonomy)
    messages = await asyncio.to_thread(load_messages, options.messages or DEMO_MESSAGES)
    task = bar.add_task("history", total=len(history))
    await runtime.learner.add_history(
        history, retrain=False, progress=lambda n: bar.advance(task, n)
    )
    task = bar.add_task("messages", total=len(messages))
    await runtime.learner.add_messages(messages, progress=lambda n: bar.advance(task, n))
    if pretrained is not None and await wait_for_pretrained(pretrained):
        runtime.learner.model_path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, pretrained, runtime.learner.model_path)
        await runtime.learner.load_or_train()
        return 0.0
    started = time.perf_counter()
    await runtime.learner.retrain()  # says why it cannot, when the history is too thin
    return time.perf_counter() - started


async def triage_all(
    runtime: Runtime,
    lines: NumberedLines,
    options: RunOptions,
    bar: ProgressSink,
    watch: ReplayWatch | None = None,
) -> list[CaseRecord]:
    """Submits every case with bounded concurrency and reviews its approvals."""
    people = reviewers(runtime.deps.taxonomy, set(runtime.deps.policy.roles.values()))
    gate = asyncio.Semaphore(options.cases_in_flight())
    task = bar.add_task("cases", total=len(lines))
    order = list(lines)
    if options.seed is not None:
        random.Random(options.seed).shuffle(order)

    async def one(line: int, item: EvalLine) -> CaseRecord | None:
        async with gate:
            if watch is not None and watch.miss is not None:
                return None  # a replay without its recordings is void; stop spending time on it
            started = time.perf_counter()
            stored, _ = await runtime.service.submit(item.case, ORCHESTRATOR)
            ms = (time.perf_counter() - started) * 1000
            reviews = await review(runtime, item.case.case_id, set(item.expected.actions), people)
            if reviews:  # what a worker does in the service: post, then resume the case
                await runtime.outbox.deliver_due(case_id=item.case.case_id)
            result = await runtime.service.result(item.case.case_id) if reviews else stored.result
        bar.advance(task)
        return case_record(line, item, result, reviews, ms, runtime.deps.taxonomy)

    records = await asyncio.gather(*(one(line, item) for line, item in order))
    if watch is not None:
        watch.raise_if_missed(sum(r is None or r.status == "failed" for r in records))
    return sorted((r for r in records if r is not None), key=lambda r: r.line)


def eval_settings(base: Settings, data_dir: Path, options: RunOptions) -> Settings:
    """Returns the settings with a throwaway embedded store; the environment cannot redirect it."""
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": None,
            "classifier": options.classifier,
            "erp_adapter": "sandbox",
            # Feeding each closed case back into history would leak labels between eval cases.
            "learn_from_outcomes": False,
            # A throwaway store's one training needs no shield for a server's memory.
            "train_in_child": False,
            "llm_cache_dir": options.record or base.llm_cache_dir,
        }
    )


def check_classifier(runtime: Runtime, wanted: ClassifierName) -> None:
    """Raises ConfigurationError when the runtime does not score with the requested classifier."""
    current = runtime.deps.classifiers.current
    if current.name != wanted:
        raise ConfigurationError(
            f"the {wanted} classifier is not available: the runtime scores with {current.name!r}"
        )
    info = runtime.learner.model_info
    if wanted == "local" and info.get("state") == "untrained":
        raise ConfigurationError("the local classifier could not be trained on the given history")


def current_llm(runtime: Runtime) -> LlmClassifier:
    """Returns the runtime's LLM classifier, or raises ConfigurationError when it scores locally."""
    current = runtime.deps.classifiers.current
    if not isinstance(current, LlmClassifier):
        raise ConfigurationError(f"the runtime scores with {current.name!r}, not the LLM")
    return current


async def evaluate(
    runtime: Runtime,
    options: RunOptions,
    lines: NumberedLines,
    calibration: list[EvalLine] | None,
    bar: ProgressSink,
    pretrained: Path | None = None,
) -> tuple[list[CaseRecord], dict[str, float], float | None]:
    """Imports the context, optionally recalibrates, then triages every case."""
    started = time.perf_counter()
    train_s = await import_context(runtime, options, bar, pretrained)
    check_classifier(runtime, options.classifier)
    watch = watch_replay(current_llm(runtime)) if options.replay else None
    qhat = None
    if calibration is not None:
        qhat = await calibrate(runtime.deps, calibration, runtime.settings.conformal_alpha)
    imported = time.perf_counter()
    records = await triage_all(runtime, lines, options, bar, watch)
    return (
        records,
        {
            "import_s": imported - started,
            "train_s": train_s,
            "triage_s": time.perf_counter() - imported,
        },
        qhat,
    )


async def run_shard(
    options: RunOptions,
    base: Settings,
    lines: NumberedLines,
    calibration: list[EvalLine] | None,
    llm_map: CalibrationMap | None,
    bar: ProgressSink,
    pretrained: Path | None = None,
) -> ShardResult:
    """Opens a temporary store through the production wiring and triages the given cases on it."""
    started = time.perf_counter()
    erp, actions = FakeErp(), FakeActions()
    with tempfile.TemporaryDirectory(prefix="triage-eval-") as tmp:
        settings = eval_settings(base, Path(tmp), options)
        if llm_map is not None:
            # Stored where the service keeps it, so the production factory loads it as it would.
            llm_map.save(calibration_path(settings.data_dir, settings.llm_model))
        overrides = Overrides(erp=erp, actions=actions, llm_replay_dir=options.replay)
        try:
            async with open_runtime(settings, overrides, durability="exit") as runtime:
                setup_s = time.perf_counter() - started
                records, timings, qhat = await evaluate(
                    runtime, options, lines, calibration, bar, pretrained
                )
                violations = await find_violations(runtime, erp, actions, records)
        except Exception as exc:
            # The LLM classifier may be missing or misconfigured; say so instead of a traceback.
            if options.classifier == "llm" and not isinstance(exc, TriageError):
                raise ConfigurationError(
                    f"the llm classifier run failed: {type(exc).__name__}: {exc}"
                ) from exc
            raise
    return ShardResult(records, violations, {"setup_s": setup_s, **timings}, qhat)
