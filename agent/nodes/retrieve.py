"""Retrieve: similar resolved history and the loose messages about the case."""

from __future__ import annotations

import asyncio
from typing import Any

from agent.deps import AgentDeps
from agent.state import TriageNode, TriageState, case_of
from core.models import LooseMessage
from core.results import MatchedBy, MatchedMessage, SimilarCase
from core.store import context as context_store

# A party-only match ranks below every document or similarity match.
PARTY_SCORE = 0.1


def _matched(message_id: str, message: LooseMessage, by: MatchedBy, score: float) -> dict[str, Any]:
    return MatchedMessage(
        message_id=message_id,
        matched_by=by,
        score=round(score, 4),
        party=message.party.value,
        at=message.at,
        subject=message.subject,
        body=message.body,
        document_refs=message.refs.document_keys(),
    ).model_dump(mode="json")


def make_retrieve(deps: AgentDeps) -> TriageNode:
    """Builds the retrieve node."""

    async def retrieve(state: TriageState) -> dict[str, Any]:
        case = case_of(state)

        def search() -> tuple[list[SimilarCase], list[tuple[str, float]]]:
            # Both searches in one trip to a worker thread: each trip costs a loop wake-up.
            history = deps.index.similar_history(case, deps.history_k, {case.case_id})
            return history, deps.index.similar_messages(case, deps.message_k)

        similar, nearby = await asyncio.to_thread(search)
        async with deps.db.transaction() as conn:
            by_refs = await context_store.messages_by_refs(conn, case.refs)
            seen = {mid for mid, _ in by_refs}
            wanted = [m for m, s in nearby if m not in seen and s >= deps.min_message_similarity]
            by_id = await context_store.messages_by_ids(conn, wanted)
            by_party = await context_store.messages_by_party(
                conn, case.refs, exclude=[*seen, *by_id]
            )
        scores = dict(nearby)
        messages = [_matched(mid, msg, "refs", 1.0) for mid, msg in by_refs]
        messages += [
            _matched(mid, by_id[mid], "similarity", scores[mid]) for mid in wanted if mid in by_id
        ]
        messages += [_matched(mid, msg, "party", PARTY_SCORE) for mid, msg in by_party]
        return {"similar": [s.model_dump(mode="json") for s in similar], "messages": messages}

    return retrieve
