"""The propose node: playbook actions for the cause, or a proposer's, with catalogue fields enforced."""

from __future__ import annotations

from collections.abc import Sequence

from agent.nodes.propose import make_propose
from core.models import Case
from core.results import Classification, MatchedMessage, ProposedAction
from core.store.db import Database
from tests.support.nodes import TAXONOMY, make_deps, state_of, stored_case


def _classified(cause: str) -> dict[str, object]:
    probabilities = dict.fromkeys(TAXONOMY.cause_ids, 0.0) | {cause: 1.0}
    return Classification(
        cause=cause,
        top_cause=cause,
        confidence=1.0,
        probabilities=probabilities,
        prediction_set=[cause],
        classifier="scripted",
    ).model_dump(mode="json")


class _Proposer:
    """Proposes one action and lies about its catalogue fields."""

    def __init__(self, answer: list[ProposedAction] | None) -> None:
        self.answer = answer
        self.calls = 0

    async def propose(
        self, case: Case, classification: Classification, messages: Sequence[MatchedMessage]
    ) -> list[ProposedAction] | None:
        self.calls += 1
        return self.answer


async def test_the_playbook_proposes_with_parameters_taken_from_the_case(db: Database) -> None:
    case = await stored_case(db)
    state = state_of(case, classification=_classified("inventory_discrepancy"), messages=[])
    update = await make_propose(make_deps(db))(state)
    by_action = {p["action"]: p for p in update["proposals"]}
    assert set(by_action) == {"create_cycle_count", "post_inventory_adjustment"}
    adjustment = by_action["post_inventory_adjustment"]
    assert adjustment["posts_to_erp"] is True
    assert adjustment["approver_role"] == "inventory_controller"
    assert adjustment["params"]["sku"] == "SKU-4410"
    assert adjustment["rationale"] == "playbook for inventory_discrepancy"


async def test_a_proposers_catalogue_fields_are_overwritten_by_the_catalogue(db: Database) -> None:
    lie = ProposedAction(action="post_inventory_adjustment", posts_to_erp=False, rationale="x")
    proposer = _Proposer([lie])
    case = await stored_case(db)
    state = state_of(case, classification=_classified("inventory_discrepancy"), messages=[])
    update = await make_propose(make_deps(db, proposer=proposer))(state)
    (proposal,) = update["proposals"]
    assert proposal["posts_to_erp"] is True
    assert proposal["approver_role"] == "inventory_controller"
    assert proposal["rationale"] == "llm for inventory_discrepancy: x"


async def test_no_answer_from_the_proposer_falls_back_to_the_playbook(db: Database) -> None:
    proposer = _Proposer(None)
    case = await stored_case(db)
    state = state_of(case, classification=_classified("inventory_discrepancy"), messages=[])
    update = await make_propose(make_deps(db, proposer=proposer))(state)
    assert proposer.calls == 1
    assert {p["rationale"] for p in update["proposals"]} == {"playbook for inventory_discrepancy"}


async def test_an_unknown_cause_never_asks_the_proposer(db: Database) -> None:
    proposer = _Proposer([ProposedAction(action="post_inventory_adjustment", posts_to_erp=True)])
    case = await stored_case(db)
    state = state_of(case, classification=_classified("unknown"), messages=[])
    update = await make_propose(make_deps(db, proposer=proposer))(state)
    assert proposer.calls == 0
    assert all(not p["posts_to_erp"] for p in update["proposals"])
