"""The case page's view: timeline with cited evidence, cause, proposals with their approvals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from api.ui.eligibility import Permissions, permissions, progress_text
from core.approvals import ApprovalRecord, ApprovalStatus
from core.parameters.provenance import ParamSource
from core.principals import Principal
from core.results import Classification, PolicyDecision, Posting, ProposedAction
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.audit import AuditEntry
from core.store.cases import StoredCase
from policies.votes import eligible_approvers


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
    may: Permissions
    sources: dict[str, ParamSource]
    posting: Posting | None = None

    @property
    def pending(self) -> bool:
        """Tells whether people can still decide on this action."""
        return self.approval is not None and self.approval.status is ApprovalStatus.pending

    @property
    def approval_status(self) -> str:
        """Returns the four-eyes progress, e.g. `1 of 2 approvals; waiting for a second approver`."""
        return progress_text(self.approval) if self.approval else ""


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
            title=e.type + (f" · code {e.code}" if e.code else ""),
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


def action_views(
    stored: StoredCase, records: list[ApprovalRecord], me: Principal
) -> list[ActionView]:
    """Pairs each proposal with its policy decision and approval record."""
    result = stored.result
    if result is None:
        return []
    decisions = {d.action: d for d in result.decisions}
    by_action = {r.action: r for r in records}
    posted = {p.action: p for p in result.postings}
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
                may=permissions(record, me),
                sources=record.param_sources(proposal.provenance)
                if record
                else proposal.provenance,
                posting=posted.get(proposal.action),
            )
        )
    return views


def source_text(source: ParamSource, stored: StoredCase) -> str:
    """Returns where a parameter value came from, as a reviewer reads it beside the value."""
    case = stored.case
    if source.kind == "event" and source.index is not None and source.index < len(case.events):
        event = case.events[source.index]
        return f"event #{source.index} ({event.system.value} {event.type})"
    if source.kind == "message" and source.message_id:
        return f"partner message {source.message_id}"
    if source.kind == "message" and source.index is not None:
        return f"message #{source.index}"
    if source.kind == "person":
        return f"typed by {source.by or 'a reviewer'}"
    if source.kind == "model":
        return "proposed by the model"
    label = {"attribute": "attribute", "refs": "refs", "case": "case", "history": "history case"}
    return " ".join([label.get(source.kind, source.kind), ", ".join(source.keys)]).strip()


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


def _flat_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def param_text(value: Any) -> str:
    """Returns a parameter as the text of its form field: lists of text comma-separated, maps JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if _flat_list(value):
        return ", ".join(value)
    return json.dumps(value)


def parse_param(original: Any, text: str) -> Any:
    """Returns an edited parameter with the type of its original value where the text allows."""
    if isinstance(original, str) or (original is None and not text.strip()):
        return text
    if _flat_list(original):
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except ValueError:
        return text


def edited_params(current: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """Returns the parameters whose submitted text differs from the current value.

    A filled field the action does not declare is passed on too, so the schema refuses it by
    name instead of it vanishing without a word.
    """
    changed = {}
    for key, value in current.items():
        text = form.get(f"param.{key}")
        if text is not None and text != param_text(value):
            changed[key] = parse_param(value, text)
    for name, text in form.items():
        key = name.removeprefix("param.")
        if name.startswith("param.") and key not in current and text.strip():
            changed[key] = text
    return changed


@dataclass(frozen=True)
class EditProblem:
    """A refused edit shown inline: which approval, which parameter, why, and what was typed."""

    approval_id: str
    param: str | None
    message: str
    typed: dict[str, str]

    def value(self, name: str, current: Any) -> str:
        """Returns what the person typed into a parameter's field, else its current text."""
        return self.typed.get(f"param.{name}", param_text(current))


def edit_problem(
    approval_id: str, field: str | None, message: str, form: dict[str, str]
) -> EditProblem:
    """Returns the inline form of a refused edit; `params.x` names parameter x."""
    param = field.removeprefix("params.") if field and field.startswith("params.") else None
    return EditProblem(approval_id=approval_id, param=param, message=message, typed=form)
