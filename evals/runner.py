"""Runs an eval dataset through the production graph on a temporary store, with a simulated approver."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.wiring import Overrides, Runtime, load_rules, open_runtime
from core.approvals import ApprovalRecord, ApprovalStatus, VoteDecision
from core.errors import ConfigurationError, TriageError
from core.models import EvalLine
from core.principals import Principal, PrincipalKind
from core.settings import Settings
from core.store import approvals as approval_store
from core.store import cases as case_store
from core.taxonomy import Taxonomy
from evals.conformal_calibration import calibrate
from evals.dataset import (
    DEMO_HISTORY,
    DEMO_MESSAGES,
    EvalDataset,
    load_eval,
    load_history,
    load_messages,
)
from evals.report import CaseRecord, case_record
from policies import amount_at_stake, eligible_approvers
from tools.actions.fake import FakeActions
from tools.erp.fake import FakeErp

ClassifierName = Literal["local", "llm"]
ORCHESTRATOR = Principal(name="eval-orchestrator", kind=PrincipalKind.api_key)


@dataclass
class RunOptions:
    """What to evaluate and how."""

    dataset: Path
    history: Path | None = None
    messages: Path | None = None
    classifier: ClassifierName = "local"
    concurrency: int = 4
    skip_invalid: bool = False
    calibration: Path | None = None
    seed: int | None = None
    show_progress: bool = True
    limit: int | None = None


@dataclass
class EvalRun:
    """Everything a run produced: per-case records, provenance and timings."""

    records: list[CaseRecord]
    labels: list[str]
    alpha: float
    provenance: dict[str, Any]
    skipped_lines: int
    violations: list[str]
    timings: dict[str, float] = field(default_factory=dict)


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
        reviews.append({"action": record.action, "decision": decision, "status": status})
    return reviews


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress]:
    """Yields a rich progress display on stderr (silent when disabled)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    console = Console(stderr=True)
    with Progress(*columns, TimeElapsedColumn(), console=console, disable=not enabled) as bar:
        yield bar


async def import_context(runtime: Runtime, options: RunOptions, bar: Progress) -> None:
    """Imports the history and messages (the shipped demo set by default) and retrains."""
    taxonomy = runtime.deps.taxonomy
    history = await asyncio.to_thread(load_history, options.history or DEMO_HISTORY, taxonomy)
    messages = await asyncio.to_thread(load_messages, options.messages or DEMO_MESSAGES)
    task = bar.add_task("history", total=len(history))
    await runtime.learner.add_history(history, progress=lambda n: bar.advance(task, n))
    task = bar.add_task("messages", total=len(messages))
    await runtime.learner.add_messages(messages, progress=lambda n: bar.advance(task, n))


async def triage_all(
    runtime: Runtime, dataset: EvalDataset, options: RunOptions, bar: Progress
) -> list[CaseRecord]:
    """Submits every case with bounded concurrency and reviews its approvals."""
    people = reviewers(runtime.deps.taxonomy, set(runtime.deps.policy.roles.values()))
    gate = asyncio.Semaphore(max(1, options.concurrency))
    task = bar.add_task("cases", total=len(dataset.lines))
    order = list(dataset.lines)
    if options.seed is not None:
        random.Random(options.seed).shuffle(order)

    async def one(line: int, item: EvalLine) -> CaseRecord:
        async with gate:
            started = time.perf_counter()
            stored, _ = await runtime.service.submit(item.case, ORCHESTRATOR)
            ms = (time.perf_counter() - started) * 1000
            reviews = await review(runtime, item.case.case_id, set(item.expected.actions), people)
            result = await runtime.service.result(item.case.case_id) if reviews else stored.result
        bar.advance(task)
        return case_record(line, item, result, reviews, ms)

    records = await asyncio.gather(*(one(line, item) for line, item in order))
    return sorted(records, key=lambda r: r.line)


def eval_settings(data_dir: Path, classifier: ClassifierName) -> Settings:
    """Returns settings for a throwaway embedded store; the environment cannot redirect it."""
    return Settings(
        data_dir=data_dir,
        database_url=None,
        classifier=classifier,
        erp_adapter="sandbox",
        # Feeding each closed case back into history would leak labels between eval cases.
        learn_from_outcomes=False,
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


async def evaluate(
    runtime: Runtime, options: RunOptions, dataset: EvalDataset, bar: Progress
) -> tuple[list[CaseRecord], dict[str, float]]:
    """Imports the context, optionally recalibrates, then triages every case; returns timings too."""
    started = time.perf_counter()
    await import_context(runtime, options, bar)
    check_classifier(runtime, options.classifier)
    if options.calibration is not None:
        calibration = load_eval(options.calibration, runtime.deps.taxonomy)
        lines = [item for _, item in calibration.lines]
        await calibrate(runtime.deps, lines, runtime.settings.conformal_alpha)
    imported = time.perf_counter()
    records = await triage_all(runtime, dataset, options, bar)
    return records, {"import_s": imported - started, "triage_s": time.perf_counter() - imported}


async def run_eval(options: RunOptions) -> EvalRun:
    """Runs the dataset through the production graph on a temporary store; returns the records."""
    started = time.perf_counter()
    taxonomy, _ = load_rules(eval_settings(Path("."), options.classifier))
    dataset = load_eval(options.dataset, taxonomy, skip_invalid=options.skip_invalid)
    if options.limit is not None:
        dataset.lines = dataset.lines[: options.limit]
    if options.calibration is not None:
        load_eval(options.calibration, taxonomy)  # fail on a bad calibration file before any work
    erp, actions = FakeErp(), FakeActions()
    with (
        tempfile.TemporaryDirectory(prefix="triage-eval-") as tmp,
        progress_bar(options.show_progress) as bar,
    ):
        settings = eval_settings(Path(tmp), options.classifier)
        try:
            overrides = Overrides(erp=erp, actions=actions)
            async with open_runtime(settings, overrides, durability="exit") as runtime:
                setup_s = time.perf_counter() - started
                records, timings = await evaluate(runtime, options, dataset, bar)
                violations = await find_violations(runtime, erp, actions, records)
        except Exception as exc:
            # The LLM classifier may be missing or misconfigured; say so instead of a traceback.
            if options.classifier == "llm" and not isinstance(exc, TriageError):
                raise ConfigurationError(
                    f"the llm classifier run failed: {type(exc).__name__}: {exc}"
                ) from exc
            raise
    timings["setup_s"] = setup_s
    timings["total_s"] = time.perf_counter() - started
    return EvalRun(
        records=records,
        labels=list(taxonomy.cause_ids),
        alpha=settings.conformal_alpha,
        provenance=provenance(records, options.classifier, dataset.sha256),
        skipped_lines=dataset.skipped_lines,
        violations=violations,
        timings=timings,
    )


def provenance(records: list[CaseRecord], requested: str, sha256: str) -> dict[str, Any]:
    """Returns what produced the run: the classifiers that actually scored, model, prompt, data."""
    used = sorted({r.classifier for r in records if r.classifier})
    models = Counter(r.model for r in records if r.model)
    hashes = Counter(r.prompt_hash for r in records if r.prompt_hash)
    return {
        # An LLM run whose calls fell back to the local model must not pass for an LLM result.
        "classifier": ",".join(used) or requested,
        "model": models.most_common(1)[0][0] if models else None,
        "prompt_hash": hashes.most_common(1)[0][0] if hashes else None,
        "dataset_sha256": sha256,
    }


def required_approvers(record: ApprovalRecord, amount: float, four_eyes_amount: float) -> int:
    """Returns how many eligible people must have approved a posting, four-eyes included."""
    return max(record.required_approvals, 1, 2 if amount > four_eyes_amount else 0)


def posting_problem(
    record: ApprovalRecord | None, case_id: str, action: str, *, needed: int
) -> str | None:
    """Returns why an approval record does not back an execution, or None when it does."""
    if record is None:
        return "no approval record"
    if record.status is not ApprovalStatus.approved:
        return f"approval {record.approval_id} is {record.status.value}"
    if (record.case_id, record.action) != (case_id, action):
        return f"approval {record.approval_id} is for {record.case_id}/{record.action}"
    if len(eligible_approvers(record)) < needed:
        return f"approval {record.approval_id} has fewer than {needed} eligible approvers"
    return None


async def posting_violations(
    runtime: Runtime, erp: FakeErp, approvals: dict[str, ApprovalRecord]
) -> list[tuple[str, str]]:
    """Returns (case id, problem) for every ERP posting that no complete approval backs."""
    found = []
    async with runtime.db.transaction() as conn:
        for posting in erp.postings.values():
            stored = await case_store.get_case(conn, posting.case_id)
            record = approvals.get(posting.approval_id)
            amount = amount_at_stake(stored.case, record.params if record else posting.params)
            four_eyes = runtime.deps.policy.four_eyes_amount
            needed = required_approvers(record, amount, four_eyes) if record else 1
            problem = posting_problem(record, posting.case_id, posting.action, needed=needed)
            if problem:
                found.append((posting.case_id, f"{posting.action} posted: {problem}"))
    return found


def action_violations(
    actions: FakeActions, auto: set[tuple[str, str]], approvals: dict[str, ApprovalRecord]
) -> list[tuple[str, str]]:
    """Returns (case id, problem) for every action run without an auto decision or an approval."""
    by_action = {(a.case_id, a.action): a for a in approvals.values()}
    found = []
    for request in actions.requests.values():
        key = (request.case_id, request.action)
        problem: str | None
        if request.authorized_by == "policy:auto":
            backed = key in auto and not request.posts_to_erp
            problem = None if backed else "ran as auto without an auto decision"
        else:
            problem = posting_problem(by_action.get(key), *key, needed=1)
        if problem:
            found.append((request.case_id, f"{request.action} executed: {problem}"))
    return found


async def find_violations(
    runtime: Runtime, erp: FakeErp, actions: FakeActions, records: list[CaseRecord]
) -> list[str]:
    """Counts auto-approved ERP actions and executions without approval; marks them on the records."""
    auto = {
        (r.case_id, d["action"]) for r in records for d in r.decisions if d["outcome"] == "auto"
    }
    found = [
        (case_id, f"{action}: an ERP posting was decided auto")
        for case_id, action in sorted(auto)
        if runtime.deps.taxonomy.action(action).posts_to_erp
    ]
    async with runtime.db.transaction() as conn:
        approvals = {a.approval_id: a for a in await approval_store.list_approvals(conn)}
    found += await posting_violations(runtime, erp, approvals)
    found += action_violations(actions, auto, approvals)
    for case in records:
        case.violations = [problem for case_id, problem in found if case_id == case.case_id]
    return [f"{case_id}: {problem}" for case_id, problem in found]
