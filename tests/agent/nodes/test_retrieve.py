"""The retrieve node: similar history from the index, and loose messages by refs, similarity, party."""

from __future__ import annotations

from agent.nodes.retrieve import PARTY_SCORE, make_retrieve
from core.models import LooseMessage, ResolvedCase
from core.store import context as context_store
from core.store.db import Database
from tests.support.cases import make_inventory_case
from tests.support.nodes import make_deps, state_of, stored_case


def _resolved(case_id: str) -> ResolvedCase:
    body = {**make_inventory_case(), "case_id": case_id}
    resolution = {"cause": "inventory_discrepancy", "actions": ["create_cycle_count"]}
    return ResolvedCase.model_validate({**body, "resolution": {**resolution, "outcome": "fixed"}})


def _loose(body: str, **refs: str | list[str]) -> LooseMessage:
    return LooseMessage.model_validate(
        {
            "at": "2026-11-20T11:00:00Z",
            "channel": "email",
            "direction": "inbound",
            "party": "supplier",
            "body": body,
            "refs": refs,
        }
    )


async def test_similar_history_comes_from_the_index_and_never_the_case_itself(
    db: Database,
) -> None:
    deps = make_deps(db)
    case = await stored_case(db)
    deps.index.add_history([_resolved("H-1"), _resolved("H-2"), _resolved(case.case_id)])
    update = await make_retrieve(deps)(state_of(case))
    ids = {s["case_id"] for s in update["similar"]}
    assert ids == {"H-1", "H-2"}
    assert update["messages"] == []


async def test_a_message_sharing_a_document_ref_is_evidence_ranked_above_party_context(
    db: Database,
) -> None:
    deps = make_deps(db)
    case = await stored_case(db, refs={"order_id": "SO-7", "supplier_id": "SUP-7"})
    about_order = _loose("SO-7 short shipped, 4 of 16", order_id="SO-7")
    about_supplier = _loose("SUP-7 price list for 2027", supplier_id="SUP-7")
    unrelated = _loose("hello", order_id="SO-99")
    items = [(m.message_id(), m) for m in (about_order, about_supplier, unrelated)]
    async with db.transaction() as conn:
        await context_store.upsert_messages(conn, items)
    update = await make_retrieve(deps)(state_of(case))
    found = [(m["body"], m["matched_by"], m["score"]) for m in update["messages"]]
    assert found == [
        (about_order.body, "refs", 1.0),
        (about_supplier.body, "party", PARTY_SCORE),
    ]
