"""Propose: catalogue actions for the diagnosed cause, with parameters taken from the evidence."""

from __future__ import annotations

from typing import Any

from agent.deps import AgentDeps
from agent.proposing.parameters import propose_parameters
from agent.proposing.playbook import select_actions
from agent.state import TriageNode, TriageState, case_of
from core.models import Case
from core.results import Classification, MatchedMessage, ProposedAction


def _from_playbook(
    deps: AgentDeps, action: str, case: Case, messages: list[MatchedMessage], cause: str
) -> ProposedAction:
    params, provenance = propose_parameters(deps.taxonomy.action(action), case, messages)
    return ProposedAction(
        action=action,
        params=params,
        provenance=provenance,
        posts_to_erp=False,
        rationale=f"playbook for {cause}",
    )


def make_propose(deps: AgentDeps) -> TriageNode:
    """Builds the propose node."""

    async def propose(state: TriageState) -> dict[str, Any]:
        case = case_of(state)
        classification = Classification.model_validate(state["classification"])
        messages = [MatchedMessage.model_validate(m) for m in state.get("messages", [])]
        cause = deps.taxonomy.cause(classification.cause)
        chosen: list[ProposedAction] | None = None
        if deps.proposer is not None and cause.id != deps.taxonomy.unknown_cause:
            chosen = await deps.proposer.propose(case, classification, messages)
        if chosen:
            source = "llm"
        else:
            source = "playbook"
            chosen = [
                _from_playbook(deps, action, case, messages, cause.id)
                for action in select_actions(cause, case)
            ]
        proposals = []
        for proposal in chosen:
            spec = deps.taxonomy.action(proposal.action)
            rationale = proposal.rationale
            if source == "llm":
                rationale = (
                    f"llm for {cause.id}: {rationale}" if rationale else f"llm for {cause.id}"
                )
            proposals.append(
                proposal.model_copy(
                    update={
                        # Whatever proposed the action, the catalogue and the policy decide these.
                        "posts_to_erp": spec.posts_to_erp,
                        "approver_role": deps.policy.approver_role(deps.taxonomy, proposal.action),
                        "rationale": rationale,
                    }
                ).model_dump(mode="json")
            )
        return {"proposals": proposals}

    return propose
