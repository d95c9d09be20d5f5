"""The LLM classifier's prompt: the answer schema and the case rendered as fenced, untrusted data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from agent.classifiers.base import ClassifierInput
from core.models import Case
from core.results import MatchedMessage, SimilarCase
from core.taxonomy import Taxonomy
from prompts import Prompt
from tools.llm.base import strict_json_schema

DATA_TAG = "case_data"
SCHEMA_NAME = "cause_verdict"
MAX_TEXT_CHARS = 2_000


class CauseProbability(BaseModel):
    """The model's probability for one cause."""

    cause: str
    probability: float


class Citations(BaseModel):
    """The items of the data the model says support its top cause."""

    event_indices: list[int]
    message_indices: list[int]
    history_case_ids: list[str]
    loose_message_ids: list[str]


class CauseVerdict(BaseModel):
    """The JSON object the model must answer with."""

    probabilities: list[CauseProbability]
    top_cause: str
    rationale: str
    evidence: Citations


@dataclass(frozen=True)
class RenderedPrompt:
    """The two messages sent to the model, and how many texts were shortened to fit."""

    system: str
    user: str
    truncated: int


def verdict_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    """Returns the strict JSON schema of CauseVerdict with causes limited to the taxonomy."""
    schema = strict_json_schema(CauseVerdict)
    causes = list(taxonomy.cause_ids)
    schema["$defs"]["CauseProbability"]["properties"]["cause"]["enum"] = causes
    schema["properties"]["top_cause"]["enum"] = causes
    return schema


def render_classify(
    prompt: Prompt, taxonomy: Taxonomy, item: ClassifierInput, max_text_chars: int = MAX_TEXT_CHARS
) -> RenderedPrompt:
    """Renders the system and user messages; every case text sits inside the data tag."""
    clipper = _Clipper(max_text_chars)
    values = {
        "causes": taxonomy.causes,
        "actions": taxonomy.actions,
        "unknown_cause": taxonomy.unknown_cause,
        "data_tag": DATA_TAG,
        "case_data": fence_safe_json(case_data(item, clipper)),
    }
    return RenderedPrompt(
        system=prompt.render("system", **values),
        user=prompt.render("user", **values),
        truncated=clipper.count,
    )


def fence_safe_json(data: Any) -> str:
    """Returns data as JSON in which no text can open or close a tag."""
    text = json.dumps(data, indent=1, ensure_ascii=False)
    # In JSON, \u003c is the same character as "<" to any reader, but it cannot form a closing
    # tag: whatever a supplier writes, the data block ends only where the template ends it.
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def case_data(item: ClassifierInput, clip: _Clipper) -> dict[str, Any]:
    """Returns the case and its retrieved context as plain JSON data, items numbered for citing."""
    case = item.case
    return {
        **_case_header(case, clip),
        "events": [
            {
                "index": i,
                "at": e.at.isoformat(),
                "system": e.system.value,
                "type": clip(e.type),
                "code": e.code,
                "detail": clip(e.detail),
            }
            for i, e in enumerate(case.events)
        ],
        "messages": [
            {
                "index": i,
                "at": m.at.isoformat(),
                "channel": m.channel.value,
                "direction": m.direction.value,
                "party": m.party.value,
                "sender": clip(m.sender),
                "subject": clip(m.subject),
                "body": clip(m.body),
            }
            for i, m in enumerate(case.messages)
        ],
        "similar_history": [_similar(s, clip) for s in item.similar],
        "loose_messages": [_loose(m, clip) for m in item.messages],
        # Shares only a supplier, customer or carrier with the case: background, not evidence.
        "party_context": [_loose(m, clip) for m in item.party_context],
    }


def _case_header(case: Case, clip: _Clipper) -> dict[str, Any]:
    return {
        "workflow": case.workflow.value,
        "stalled_step": clip(case.stalled_step),
        "site": clip(case.site),
        "detected_at": case.detected_at.isoformat(),
        "sla_due_at": case.sla_due_at.isoformat() if case.sla_due_at else None,
        "refs": case.refs.model_dump(mode="json", exclude_none=True),
        "amount": case.amount.model_dump(mode="json") if case.amount else None,
        "attributes": case.attributes,
    }


def _similar(similar: SimilarCase, clip: _Clipper) -> dict[str, Any]:
    return {
        "case_id": similar.case_id,
        "similarity": round(similar.similarity, 3),
        "cause": similar.cause,
        "actions": similar.actions,
        "outcome": clip(similar.outcome),
        "summary": clip(similar.summary),
    }


def _loose(message: MatchedMessage, clip: _Clipper) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "matched_by": message.matched_by,
        "party": message.party,
        "at": message.at.isoformat(),
        "subject": clip(message.subject),
        "body": clip(message.body),
    }


class _Clipper:
    """Shortens long texts so one huge message cannot crowd the rest out of the prompt."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def __call__(self, text: str | None) -> str | None:
        if text is None or len(text) <= self.limit:
            return text
        self.count += 1
        return f"{text[: self.limit]} [... {len(text) - self.limit} more characters]"
