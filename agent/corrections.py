"""Reviewers' corrections of the classified cause, which history and the classifier learn from."""

from __future__ import annotations

from agent.deps import AgentDeps
from core.errors import InvalidInput, PolicyRefusal
from core.models import Resolution, ResolvedCase
from core.principals import Principal
from core.results import CaseStatus
from core.store import audit
from core.store import cases as case_store
from core.store.cases import StoredCase

MAX_COMMENT = 2000


async def correct_cause(
    deps: AgentDeps, case_id: str, cause: str, comment: str, by: Principal
) -> StoredCase:
    """Records a person's true cause for a case, audits it, and fixes the history of a closed case."""
    if not by.is_person:
        raise PolicyRefusal(
            f"{by.label} is not a person; only people correct causes", rule="person-only"
        )
    deps.taxonomy.cause(cause)  # raises InvalidInput naming `cause` and the allowed values
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"the comment is longer than {MAX_COMMENT} characters", field="comment")
    relearned: ResolvedCase | None = None
    async with deps.db.transaction() as conn:
        stored = await case_store.get_case(conn, case_id)
        previous = stored.corrected_cause or _classified(stored)
        await case_store.set_correction(conn, case_id, cause, by.label, comment)
        await audit.record(
            conn,
            case_id=case_id,
            actor=by.label,
            kind="case.corrected",
            cause=cause,
            previous=previous,
            comment=comment,
        )
        # A closed case already entered the history with the agent's cause; relabel it there.
        if stored.status is CaseStatus.resolved and cause != deps.taxonomy.unknown_cause:
            relearned = _relabelled(stored, cause)
        updated = await case_store.get_case(conn, case_id)
    if relearned is not None:
        await deps.memory.remember([relearned], source="feedback")
    return updated


def _classified(stored: StoredCase) -> str | None:
    classification = stored.result.classification if stored.result else None
    return classification.cause if classification else None


def _relabelled(stored: StoredCase, cause: str) -> ResolvedCase:
    """Returns a closed case as history with the corrected cause, as the close node records it."""
    executed = stored.result.executed if stored.result else []
    return ResolvedCase(
        **stored.case.model_dump(),
        resolution=Resolution(
            cause=cause,
            actions=executed,
            outcome=f"closed by triage: {', '.join(executed) or 'no action'}; cause corrected",
            resolved_at=stored.updated_at,
        ),
    )
