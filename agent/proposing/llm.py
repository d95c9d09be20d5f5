"""The LLM proposer: asks a chat model which catalogue actions fit the diagnosed cause, then checks it.

The model only chooses among catalogue actions and suggests parameters. Whether an action posts to
the ERP and who must approve it always come from the catalogue and the policy; parameters the
extractor derived from the evidence always win over the model's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.classifiers.base import ClassifierInput
from agent.classifiers.llm_prompt import MAX_TEXT_CHARS, _Clipper, case_data, fence_safe_json
from agent.proposing.parameters import propose_parameters
from core.models import Case
from core.parameters import screen_params
from core.parameters.provenance import ParamSource
from core.results import Classification, MatchedMessage, ProposedAction
from core.taxonomy import ActionSpec, Taxonomy
from prompts import Prompt
from tools.llm.base import ChatModel, LlmFailure, strict_json_schema

logger = logging.getLogger(__name__)

DATA_TAG = "case_data"
SCHEMA_NAME = "action_proposal"
PROMPT_NAME = "propose"
RATIONALE_CHARS = 300
LLM_SOURCE = "llm"


class ParamValue(BaseModel):
    """One parameter the model suggests; strict schemas allow no open objects, so pairs it is."""

    name: str
    value: str | float


class ActionChoice(BaseModel):
    """One catalogue action the model proposes."""

    action: str
    params: list[ParamValue]
    rationale: str


class ActionProposal(BaseModel):
    """The JSON object the model must answer with."""

    actions: list[ActionChoice]


@dataclass
class ProposerStats:
    """Counts what was thrown away from the model's answers, for audits and tests."""

    calls: int = 0
    failures: int = 0
    unknown_dropped: int = 0
    duplicates_dropped: int = 0


def proposal_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    """Returns the strict JSON schema of ActionProposal with actions limited to the catalogue."""
    schema = strict_json_schema(ActionProposal)
    schema["$defs"]["ActionChoice"]["properties"]["action"]["enum"] = list(taxonomy.action_index)
    return schema


class LlmProposer:
    """Proposes catalogue actions with a chat model; returns None whenever the model fails."""

    def __init__(
        self,
        chat: ChatModel,
        taxonomy: Taxonomy,
        prompt: Prompt,
        *,
        max_text_chars: int = MAX_TEXT_CHARS,
    ) -> None:
        self.chat = chat
        self.taxonomy = taxonomy
        self.prompt = prompt
        self.max_text_chars = max_text_chars
        self.schema = proposal_schema(taxonomy)
        self.stats = ProposerStats()

    async def propose(
        self, case: Case, classification: Classification, messages: Sequence[MatchedMessage]
    ) -> list[ProposedAction] | None:
        """Returns the checked proposals, or None when the model gave no usable answer."""
        self.stats.calls += 1
        try:
            system, user = self.render(case, classification, messages)
            reply = await self.chat.complete_json(
                system=system, user=user, schema=self.schema, schema_name=SCHEMA_NAME
            )
            answer = ActionProposal.model_validate(reply.content)
        except (LlmFailure, ValidationError) as exc:
            self.stats.failures += 1
            logger.warning("LLM proposal failed for %s: %s", case.case_id, exc)
            return None
        return self._checked(answer, case, messages)

    def render(
        self, case: Case, classification: Classification, messages: Sequence[MatchedMessage]
    ) -> tuple[str, str]:
        """Renders the system and user messages; every case text sits inside the data tag."""
        cause = self.taxonomy.cause(classification.cause)
        item = ClassifierInput(case=case, messages=list(messages))
        values = {
            "cause": cause,
            "actions": self.taxonomy.actions,
            "data_tag": DATA_TAG,
            "case_data": fence_safe_json(case_data(item, _Clipper(self.max_text_chars))),
        }
        return self.prompt.render("system", **values), self.prompt.render("user", **values)

    def _checked(
        self, answer: ActionProposal, case: Case, messages: Sequence[MatchedMessage]
    ) -> list[ProposedAction]:
        catalogue = self.taxonomy.action_index
        seen: set[str] = set()
        proposals: list[ProposedAction] = []
        unknown = duplicates = 0
        for choice in answer.actions:
            spec = catalogue.get(choice.action)
            if spec is None:
                unknown += 1
                continue
            if choice.action in seen:
                duplicates += 1
                continue
            seen.add(choice.action)
            params, provenance = checked_params(spec, case, messages, choice.params)
            proposals.append(
                ProposedAction(
                    action=spec.id,
                    params=params,
                    provenance=provenance,
                    # Never the model's word: the catalogue decides; the node applies the policy.
                    posts_to_erp=spec.posts_to_erp,
                    approver_role=spec.approver_role,
                    rationale=choice.rationale.strip()[:RATIONALE_CHARS],
                )
            )
        if unknown or duplicates:
            logger.warning(
                "LLM proposal for %s: dropped %d action(s) outside the catalogue, %d duplicate(s)",
                case.case_id,
                unknown,
                duplicates,
            )
        self.stats.unknown_dropped += unknown
        self.stats.duplicates_dropped += duplicates
        return proposals


def checked_params(
    spec: ActionSpec, case: Case, messages: Sequence[MatchedMessage], suggested: list[ParamValue]
) -> tuple[dict[str, Any], dict[str, ParamSource]]:
    """Returns the extractor's params with the model's schema-valid suggestions in its gaps."""
    extracted, provenance = propose_parameters(spec, case, messages)
    # Dates must come from evidence the extractor can trace to this case's own documents.
    timed = {name for name, p in spec.params.items() if p.type in ("date", "datetime")}
    offered = {p.name: p.value for p in suggested if p.name not in timed}
    merged, _dropped = screen_params(spec, merge_params(extracted, offered), now=case.detected_at)
    for name, value in merged.items():
        if value is not None and name not in provenance:
            provenance[name] = ParamSource(kind="model", span=str(value)[:RATIONALE_CHARS])
    return merged, provenance


def merge_params(extracted: dict[str, Any], suggested: dict[str, Any]) -> dict[str, Any]:
    """Fills only the keys the extractor left None; evidence-derived values always win."""
    merged = dict(extracted)
    for key, value in extracted.items():
        if value is None and suggested.get(key) is not None:
            merged[key] = suggested[key]
    return merged
