"""Single graph nodes on the fakes: agent dependencies, a scripted classifier and stored cases."""

from __future__ import annotations

from typing import Any

from agent.classifiers.base import CauseScores, ClassifierInput
from agent.deps import AgentDeps, ClassifierSlot
from agent.nodes.classify import make_classify
from agent.nodes.policy_gate import make_policy_gate
from agent.nodes.propose import make_propose
from agent.nodes.retrieve import make_retrieve
from agent.state import TriageState
from core.models import Case
from core.store import cases as case_store
from core.store.db import Database
from core.taxonomy import load_taxonomy
from policies import load_policy
from tests.support.cases import make_inventory_case
from tools.actions.fake import FakeActions
from tools.embedding.fake import FakeEmbedder
from tools.retrieval.fake import FakeContextIndex

TAXONOMY = load_taxonomy()
SUBMITTER = "api_key:test"


class ScriptedClassifier:
    """Answers with a fixed distribution and keeps every input it was asked about."""

    name = "scripted"

    def __init__(self, probabilities: dict[str, float]) -> None:
        self.probabilities = probabilities
        self.seen: list[ClassifierInput] = []

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Records the input and returns the scripted distribution."""
        self.seen.append(item)
        return CauseScores(probabilities=dict(self.probabilities), classifier=self.name)


def make_deps(db: Database, **over: Any) -> AgentDeps:
    """Returns agent dependencies on the fakes, sure of inventory_discrepancy; fields replaceable."""
    values: dict[str, Any] = {
        "db": db,
        "taxonomy": TAXONOMY,
        "policy": load_policy(None, TAXONOMY),
        "index": FakeContextIndex(FakeEmbedder()),
        "classifiers": ClassifierSlot(
            ScriptedClassifier({"inventory_discrepancy": 0.95, "unknown": 0.05})
        ),
        "actions": FakeActions(),
        "learn_from_outcomes": False,
    }
    return AgentDeps(**{**values, **over})


async def stored_case(db: Database, **over: Any) -> Case:
    """Stores an inventory-discrepancy case (status triaging) and returns it."""
    case = Case.model_validate({**make_inventory_case(), **over})
    async with db.transaction() as conn:
        await case_store.insert_case(conn, case, SUBMITTER)
    return case


def state_of(case: Case, **over: Any) -> TriageState:
    """Returns the graph state of a case as the intake hands it over, plus node outputs."""
    state: dict[str, Any] = {"case": case.model_dump(mode="json"), "submitted_by": SUBMITTER}
    return {**state, **over}  # type: ignore[typeddict-item]


async def through_gate(deps: AgentDeps, case: Case) -> TriageState:
    """Runs retrieve, classify, propose and the policy gate on a stored case; returns the state."""
    state = state_of(case)
    for node in (make_retrieve, make_classify, make_propose, make_policy_gate):
        state = {**state, **await node(deps)(state)}  # type: ignore[typeddict-item]
    return state
