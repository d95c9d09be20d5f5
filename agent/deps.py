"""The dependencies the graph's nodes act through, built once from Settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from agent.classifiers.base import Classifier
from core.approvals import ApprovalRecord
from core.faults import FaultPoints
from core.models import Case, ResolvedCase
from core.results import Classification, MatchedMessage, ProposedAction
from core.store.context import HistorySource
from core.store.db import Database
from core.taxonomy import Taxonomy
from policies.config import PolicyConfig
from tools.actions.base import ActionRunner
from tools.retrieval.base import ContextIndex


class ApprovalNotifier(Protocol):
    """Tells reviewers about approvals; writes only outbox rows inside the caller's transaction."""

    async def approvals_opened(
        self, conn: AsyncConnection, case: Case, approvals: list[ApprovalRecord]
    ) -> None:
        """Queues notifications for newly opened approvals."""
        ...

    async def case_changed(self, conn: AsyncConnection, case_id: str, status: str) -> None:
        """Queues a status update for a case that reviewers were notified about."""
        ...


class SilentNotifier:
    """The notifier used when no reviewer channel is configured."""

    async def approvals_opened(
        self, conn: AsyncConnection, case: Case, approvals: list[ApprovalRecord]
    ) -> None:
        """Does nothing."""

    async def case_changed(self, conn: AsyncConnection, case_id: str, status: str) -> None:
        """Does nothing."""


class HistoryMemory(Protocol):
    """The one writer of resolved history: the store, the retrieval index and a retrain."""

    async def remember(self, items: Sequence[ResolvedCase], *, source: HistorySource) -> None:
        """Adds resolved cases to history and schedules a retrain."""
        ...


class ForgetfulMemory:
    """The memory of a graph that learns nothing (tests of single nodes)."""

    async def remember(self, items: Sequence[ResolvedCase], *, source: HistorySource) -> None:
        """Does nothing."""


class ClassifierSlot:
    """Holds the classifier in use, so a retrained model can replace it between cases."""

    def __init__(self, classifier: Classifier) -> None:
        self.current = classifier

    def replace(self, classifier: Classifier) -> None:
        """Swaps in a new classifier."""
        self.current = classifier


class Proposer(Protocol):
    """Proposes catalogue actions for a diagnosed case; None means "use the playbook"."""

    async def propose(
        self, case: Case, classification: Classification, messages: Sequence[MatchedMessage]
    ) -> list[ProposedAction] | None:
        """Returns the proposals, or None when it has no usable answer."""
        ...


@dataclass
class AgentDeps:
    """Everything a node needs; nodes never read settings or environment variables."""

    db: Database
    taxonomy: Taxonomy
    policy: PolicyConfig
    index: ContextIndex
    classifiers: ClassifierSlot
    actions: ActionRunner
    notifier: ApprovalNotifier = field(default_factory=SilentNotifier)
    history_k: int = 5
    message_k: int = 5
    min_message_similarity: float = 0.6
    learn_from_outcomes: bool = True
    memory: HistoryMemory = field(default_factory=lambda: ForgetfulMemory())
    proposer: Proposer | None = None
    faults: FaultPoints = field(default_factory=FaultPoints)
