"""Turns Settings into the running parts: store, index, tools, classifier, graph and service."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Durability

from agent.classifiers.llm import LlmClassifier
from agent.classifiers.untrained import UntrainedClassifier
from agent.deps import AgentDeps, ApprovalNotifier, ClassifierSlot, SilentNotifier
from agent.graph import build_graph
from agent.learning import Learner, LearningParts
from agent.proposing.llm import PROMPT_NAME, LlmProposer
from app.checkpointing import open_checkpointer
from app.llm_factory import SlotFallback, build_chat_model, build_llm_classifier
from app.metrics import PrometheusTelemetry
from core.errors import ConfigurationError
from core.faults import FaultPoints
from core.sealed_secrets import SecretBox, load_secret_box
from core.settings import Settings
from core.store.db import Database
from core.taxonomy import Taxonomy, load_taxonomy
from notify.slack.notifier import SlackDelivery, SlackWiring, build_slack
from notify.slack.reminders import SlackReminders
from policies import PolicyConfig, load_policy
from prompts import load_prompt
from tools.actions.base import ActionRunner
from tools.actions.recording import RecordingActions
from tools.embedding.base import Embedder
from tools.embedding.hashing import HashingEmbedder
from tools.embedding.wordllama_embed import WordLlamaEmbedder
from tools.erp.base import ErpPoster
from tools.erp.http import HttpErp
from tools.erp.sandbox import SandboxErp
from tools.llm.base import ChatModel
from tools.llm.metered import MeteredChatModel
from tools.retrieval.base import ContextIndex
from tools.retrieval.chroma import ChromaContextIndex
from tools.wakeups.postgres import PostgresListener
from tools.webhooks.base import WebhookSender
from tools.webhooks.http import HttpWebhooks
from workflow.callbacks import CallbackDelivery
from workflow.expiry import ApprovalExpiry
from workflow.intake import TriageService
from workflow.outbox import Outbox
from workflow.pruning import CheckpointPruner
from workflow.review_desk import ReviewDesk
from workflow.worker import Worker


@dataclass
class Runtime:
    """The assembled service, ready to triage cases."""

    settings: Settings
    db: Database
    deps: AgentDeps
    graph: CompiledStateGraph[Any, Any, Any, Any]
    service: TriageService
    desk: ReviewDesk
    learner: Learner
    outbox: Outbox
    worker: Worker
    webhooks: WebhookSender
    expiry: ApprovalExpiry
    box: SecretBox
    slack: SlackWiring | None = None
    metrics: PrometheusTelemetry | None = None
    reminders: SlackReminders | None = None


@dataclass
class Overrides:
    """Components a caller supplies instead of the configured ones (tests and evals)."""

    erp: ErpPoster | None = None
    actions: ActionRunner | None = None
    index: ContextIndex | None = None
    embedder: Embedder | None = None
    notifier: ApprovalNotifier | None = None
    chat: ChatModel | None = None
    llm_replay_dir: Path | None = None
    webhooks: WebhookSender | None = None


def build_erp(settings: Settings, db: Database) -> ErpPoster:
    """Returns the configured ERP adapter."""
    if settings.erp_adapter == "sandbox":
        return SandboxErp(db)
    if not settings.erp_url:
        raise ConfigurationError("TRIAGE_ERP_URL is required when TRIAGE_ERP_ADAPTER=http")
    return HttpErp(
        settings.erp_url, timeout_s=settings.erp_timeout_s, max_attempts=settings.erp_max_attempts
    )


def build_embedder(settings: Settings) -> Embedder:
    """Returns the configured embedder: offline WordLlama vectors by default, hashing or OpenAI by choice."""
    if settings.embedder == "wordllama":
        # Loads nothing yet: the weights are verified and read on the first embed, once per process.
        return WordLlamaEmbedder()
    if settings.embedder == "hashing":
        return HashingEmbedder()
    from tools.embedding.openai_embed import OpenAiEmbedder  # the OpenAI SDK only when asked for

    return OpenAiEmbedder(
        model=settings.embedding_model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_key,
        timeout_s=settings.llm_timeout_s,
        max_attempts=settings.llm_max_attempts,
    )


def load_rules(settings: Settings) -> tuple[Taxonomy, PolicyConfig]:
    """Loads the taxonomy and the policy named by the settings."""
    taxonomy = load_taxonomy(settings.taxonomy_file)
    return taxonomy, load_policy(settings.policy_file, taxonomy)


def _build_outbox(
    settings: Settings,
    db: Database,
    given: Overrides,
    policy: PolicyConfig,
    faults: FaultPoints,
    box: SecretBox,
) -> tuple[Outbox, WebhookSender, SlackWiring | None]:
    """Returns the outbox with its deliveries registered: the ERP, callbacks and Slack."""
    outbox = Outbox(
        db,
        given.erp or build_erp(settings, db),
        policy,
        worker_id=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}",
        lease_s=settings.outbox_lease_s,
        max_attempts=settings.outbox_max_attempts,
        max_backoff_s=settings.outbox_max_backoff_s,
        faults=faults,
    )
    webhooks = given.webhooks or HttpWebhooks(
        timeout_s=settings.webhook_timeout_s, allow_private=settings.callback_allow_private
    )
    outbox.register("webhook", CallbackDelivery(db, webhooks, box))
    slack = build_slack(settings)  # None without a bot token or webhook: no Slack at all
    if slack is not None:
        outbox.register("slack", SlackDelivery(slack.api, db))
    return outbox, webhooks, slack


def _build_llm(
    settings: Settings,
    given: Overrides,
    taxonomy: Taxonomy,
    metrics: PrometheusTelemetry,
    local_slot: ClassifierSlot,
) -> tuple[LlmClassifier | None, LlmProposer | None]:
    """Returns the LLM classifier and proposer when the settings ask for them, else None each."""
    if settings.active_classifier != "llm":
        return None, None
    llm = build_llm_classifier(
        settings,
        SlotFallback(local_slot),
        settings.data_dir,
        taxonomy=taxonomy,
        # Replays answer from recordings and call no model, so they are not metered.
        chat=None
        if given.llm_replay_dir is not None
        else MeteredChatModel(given.chat or build_chat_model(settings), metrics),
        replay_dir=given.llm_replay_dir,
    )
    # Proposals use the live model only: recorded and replayed runs (evals) keep the playbook,
    # so a replay reproduces its recording exactly.
    if given.llm_replay_dir is not None or settings.llm_cache_dir is not None:
        return llm, None
    chat = MeteredChatModel(given.chat or build_chat_model(settings), metrics)
    return llm, LlmProposer(chat, taxonomy, load_prompt(PROMPT_NAME))


def _build_worker(
    settings: Settings,
    deps: AgentDeps,
    outbox: Outbox,
    service: TriageService,
    saver: BaseCheckpointSaver[Any],
    slack: SlackWiring | None,
) -> tuple[Worker, ApprovalExpiry, SlackReminders | None]:
    """Returns the worker with its timed jobs and, on PostgreSQL, the wake-ups of other processes."""
    expiry = ApprovalExpiry(deps.db, deps.notifier, deps.policy.approval_expiry_hours)
    worker = Worker(
        deps.db,
        outbox,
        service,
        expiry,
        poll_s=settings.outbox_poll_s,
        recover_every_s=settings.recovery_poll_s,
        pruner=CheckpointPruner(deps.db, saver, retention_days=settings.checkpoint_retention_days),
        expire_every_s=settings.approval_timers_poll_s,
        # Only a running worker listens (`Worker.run`): an API-only process opens no connection.
        wakeups=PostgresListener(deps.db.url) if settings.is_postgres else None,
    )
    reminders = SlackReminders(deps.db, slack.notifier, expiry) if slack else None
    if reminders is not None:
        worker.every("slack reminders", settings.approval_timers_poll_s, reminders.check_sla)
    return worker, expiry, reminders


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    overrides: Overrides | None = None,
    *,
    durability: Durability = "async",
) -> AsyncIterator[Runtime]:
    """Builds every dependency once, yields the runtime and releases it afterwards."""
    given = overrides or Overrides()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    box = load_secret_box(settings)  # before anything starts: a missing key is a start-up error
    db = Database(settings.resolved_database_url)
    await asyncio.to_thread(db.migrate, box)
    metrics = PrometheusTelemetry(db)  # this runtime's own registry, never a global one
    taxonomy, policy = load_rules(settings)
    index = given.index or ChromaContextIndex(
        settings.chroma_dir, given.embedder or build_embedder(settings), url=settings.chroma_url
    )
    faults = FaultPoints(settings.crash_at, settings.crash_after, settings.crash_case)
    outbox, webhooks, slack = _build_outbox(settings, db, given, policy, faults, box)
    local_slot = ClassifierSlot(UntrainedClassifier(taxonomy))
    llm, proposer = _build_llm(settings, given, taxonomy, metrics, local_slot)
    learner = Learner(
        LearningParts(db, index, taxonomy),
        settings.model_dir / "local.pkl",
        alpha=settings.conformal_alpha,
        slot=local_slot,
        retrain_delay_s=settings.retrain_debounce_s,
        train_in_child=settings.train_in_child,
        max_cases=settings.train_max_cases,
        faults=faults,
    )
    deps = AgentDeps(
        db=db,
        taxonomy=taxonomy,
        policy=policy,
        index=index,
        classifiers=ClassifierSlot(llm) if llm else local_slot,
        actions=given.actions or RecordingActions(db),
        notifier=given.notifier or (slack.notifier if slack else SilentNotifier()),
        learn_from_outcomes=settings.learn_from_outcomes,
        history_k=settings.history_neighbours,
        message_k=settings.message_neighbours,
        min_message_similarity=settings.message_min_similarity,
        proposer=proposer,
        faults=faults,
        memory=learner,
    )
    await learner.ensure_index()
    await learner.load_or_train()
    try:
        async with open_checkpointer(db.url, settings.checkpoint_path) as saver:
            graph = build_graph(deps, saver)
            service = TriageService(
                deps,
                graph,
                durability=durability,
                run_lease_s=settings.run_lease_s,
                telemetry=metrics,
            )
            worker, expiry, reminders = _build_worker(settings, deps, outbox, service, saver, slack)
            yield Runtime(
                settings=settings,
                db=db,
                deps=deps,
                graph=graph,
                service=service,
                desk=ReviewDesk(deps, wake=worker.wake, telemetry=metrics),
                learner=learner,
                outbox=outbox,
                worker=worker,
                webhooks=webhooks,
                expiry=expiry,
                box=box,
                slack=slack,
                metrics=metrics,
                reminders=reminders,
            )
            await service.drain()
            await learner.cancel_pending()
    finally:
        if llm is not None:
            await llm.aclose()
        if proposer is not None and given.chat is None:
            await proposer.chat.aclose()
        await db.dispose()
