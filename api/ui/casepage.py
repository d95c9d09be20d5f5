"""The case page's view: timeline with cited evidence, cause, proposals with their approvals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from core.approvals import ApprovalRecord, ApprovalStatus
from core.errors import PolicyRefusal, TriageError
from core.models import Classification, PolicyDecision, ProposedAction
from core.principals import Principal
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.audit import AuditEntry
from core.store.cases import StoredCase
from policies.votes import check_vote, eligible_approvers


@dataclass(frozen=True)
class TimelineItem:
    """One event or message of the case, in time order, flagged when the classifier cited it."""

    at: datetime
    kind: str
    index: int
    source: str
    title: str
    text: str
    cited: bool


@dataclass(frozen=True)
class ActionView:
    """One proposed action with its policy decision and, when people must decide, its approval."""

    proposal: ProposedAction
    decision: PolicyDecision | None
    approval: ApprovalRecord | None
    approvers: tuple[str, ...]
    my_refusal: str | None

    @property
    def pending(self) -> bool:
        """Tells whether people can still decide on this action."""
        return self.approval is not None and self.approval.status is ApprovalStatus.pending

    @property
    def approval_status(self) -> str:
        """Returns the four-eyes progress, e.g. `1 of 2 approvals`."""
        if self.approval is None:
            return ""
        return f"{len(self.approvers)} of {self.approval.required_approvals} approvals"


@dataclass(frozen=True)
class CaseView:
    """Everything the case page shows."""

    stored: StoredCase
    classification: Classification | None
    timeline: list[TimelineItem]
    alternatives: list[tuple[str, float]]
    actions: list[ActionView]
    audit: list[AuditEntry]


def timeline(stored: StoredCase, classification: Classification | None) -> list[TimelineItem]:
    """Returns the case's events and messages merged in time order, cited ones flagged."""
    evidence = classification.evidence if classification else None
    cited_events = set(evidence.event_indices) if evidence else set()
    cited_messages = set(evidence.message_indices) if evidence else set()
    items = [
        TimelineItem(
            at=e.at,
            kind="event",
            index=i,
            source=e.system.value,
            title=e.type + (f" [{e.code}]" if e.code else ""),
            text=e.detail or "",
            cited=i in cited_events,
        )
        for i, e in enumerate(stored.case.events)
    ]
    items += [
        TimelineItem(
            at=m.at,
            kind="message",
            index=i,
            source=f"{m.party.value} · {m.channel.value} · {m.direction.value}",
            title=" — ".join(x for x in (m.sender, m.subject) if x),
            text=m.body,
            cited=i in cited_messages,
        )
        for i, m in enumerate(stored.case.messages)
    ]
    return sorted(items, key=lambda item: (item.at, item.kind, item.index))


def alternatives(classification: Classification | None, top: int = 3) -> list[tuple[str, float]]:
    """Returns the most probable causes, highest first."""
    if classification is None:
        return []
    ranked = sorted(classification.probabilities.items(), key=lambda kv: -kv[1])
    return ranked[:top]


def _refusal_for(record: ApprovalRecord | None, me: Principal) -> str | None:
    """Returns why the viewer could not approve, so the page can say so before they try."""
    if record is None or record.status is not ApprovalStatus.pending:
        return None
    try:
        check_vote(record, me, "approve", None)
    except PolicyRefusal as refusal:
        return refusal.message
    except TriageError:
        return None
    return None


def action_views(
    stored: StoredCase, records: list[ApprovalRecord], me: Principal
) -> list[ActionView]:
    """Pairs each proposal with its policy decision and approval record."""
    result = stored.result
    if result is None:
        return []
    decisions = {d.action: d for d in result.decisions}
    by_action = {r.action: r for r in records}
    views = []
    for proposal in result.proposals:
        record = by_action.get(proposal.action)
        views.append(
            ActionView(
                proposal=proposal.model_copy(update={"params": record.params})
                if record
                else proposal,
                decision=decisions.get(proposal.action),
                approval=record,
                approvers=eligible_approvers(record) if record else (),
                my_refusal=_refusal_for(record, me),
            )
        )
    return views


async def load_case_view(conn: AsyncConnection, case_id: str, me: Principal) -> CaseView:
    """Reads a case, its approvals and its audit trail into the page's view."""
    stored = await case_store.get_case(conn, case_id)
    records = await approval_store.list_approvals(conn, case_id=case_id)
    classification = stored.result.classification if stored.result else None
    return CaseView(
        stored=stored,
        classification=classification,
        timeline=timeline(stored, classification),
        alternatives=alternatives(classification),
        actions=action_views(stored, records, me),
        audit=await audit.entries(conn, case_id),
    )


def param_text(value: Any) -> str:
    """Returns a parameter as the text of its form field: strings bare, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def parse_param(original: Any, text: str) -> Any:
    """Returns an edited parameter with the type of its original value where the text allows."""
    if isinstance(original, str) or (original is None and not text.strip()):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def edited_params(current: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """Returns the parameters whose submitted text differs from the current value."""
    changed = {}
    for key, value in current.items():
        text = form.get(f"param.{key}")
        if text is not None and text != param_text(value):
            changed[key] = parse_param(value, text)
    return changed
