"""The policy gate: decides per proposed action whether it runs, waits for people, or is denied."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput, PolicyRefusal
from core.models import Case, canonical_digest
from core.parameters import screen_params
from core.results import Classification, Outcome, PolicyDecision, ProposedAction
from core.taxonomy import Taxonomy
from policies.amounts import posting_amount
from policies.config import ExtraRule, PolicyConfig

_RANK: dict[Outcome, int] = {"auto": 0, "needs_approval": 1, "deny": 2}
# Own evidence (agent/grounding.py) that sits only in messages: the case's own messages and the
# loose ones matched by its refs.
MESSAGE_EVIDENCE = frozenset({"cue:message"})
# Own evidence that only restates the symptom: a cue in the stalled step, and the unacknowledged
# PO that a supplier-confirmation stall is.
SYMPTOM_EVIDENCE = frozenset({"cue:case", "fact:po_ack_missing"})


@dataclass(frozen=True)
class PolicyContext:
    """What the gate may look at besides the case and the action: never untrusted text."""

    config: PolicyConfig
    taxonomy: Taxonomy
    cause: str
    confidence: float
    prediction_set: tuple[str, ...]
    # Kinds of evidence for the cause in the case's own documents (agent/grounding.py). Read from
    # text, it can only hold an action back when empty: with it the gate decides as it would
    # without this rule.
    own_evidence: tuple[str, ...] = ()
    # What in the case's own documents says the cause's condition does not hold. It too can only
    # hold an action back: empty, the gate decides as it would without the rule.
    counter_evidence: tuple[str, ...] = ()

    @classmethod
    def from_classification(
        cls, config: PolicyConfig, taxonomy: Taxonomy, classification: Classification
    ) -> PolicyContext:
        """Builds a context from a classification result."""
        return cls(
            config=config,
            taxonomy=taxonomy,
            cause=classification.cause,
            confidence=classification.confidence,
            prediction_set=tuple(classification.prediction_set),
            own_evidence=tuple(classification.own_evidence),
            counter_evidence=tuple(classification.counter_evidence),
        )


@dataclass
class _Verdict:
    outcome: Outcome = "auto"
    required: int = 0
    rules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def tighten(self, outcome: Outcome, required: int, rule: str, reason: str) -> None:
        if _RANK[outcome] > _RANK[self.outcome]:
            self.outcome = outcome
        self.required = max(self.required, required)
        self.rules.append(rule)
        self.reasons.append(reason)


def _amount_or_refusal(
    case: Case, proposal: ProposedAction, context: PolicyContext
) -> tuple[float | None, str | None]:
    try:
        return posting_amount(
            context.taxonomy.action_index.get(proposal.action),
            proposal.params,
            case_amount=case.amount.value if case.amount else 0.0,
            case_currency=case.amount.currency if case.amount else None,
            config=context.config,
        ), None
    except PolicyRefusal as refusal:
        return None, refusal.message


def _params_problem(case: Case, proposal: ProposedAction, context: PolicyContext) -> str | None:
    spec = context.taxonomy.action_index.get(proposal.action)
    if spec is None:
        return None
    try:
        _kept, dropped = screen_params(spec, proposal.params, now=case.detected_at)
    except InvalidInput as problem:
        return problem.message
    return dropped[0].message if dropped else None


def policy_inputs(case: Case, proposal: ProposedAction, context: PolicyContext) -> dict[str, Any]:
    """Returns exactly the inputs the gate decides on, for logging and digesting."""
    amount, amount_refusal = _amount_or_refusal(case, proposal, context)
    return {
        "case_id": case.case_id,
        "workflow": case.workflow.value,
        "site": case.site,
        "amount": amount,
        "amount_refusal": amount_refusal,
        "params_problem": _params_problem(case, proposal, context),
        "currency": case.amount.currency if case.amount else None,
        "action": proposal.action,
        "params": proposal.params,
        "cause": context.cause,
        "confidence": round(context.confidence, 6),
        "prediction_set": sorted(context.prediction_set),
        "policy_version": context.config.version,
        "four_eyes_amount": context.config.four_eyes_amount,
        "confidence_threshold": context.config.confidence_threshold,
        "auto_floor": context.config.auto_floor(proposal.action),
        "own_evidence": sorted(context.own_evidence),
        "require_own_evidence": context.config.require_own_evidence,
        "require_record_evidence": context.config.require_record_evidence,
        "require_cause_evidence": context.config.require_cause_evidence,
        "counter_evidence": sorted(context.counter_evidence),
        "hold_on_counter_evidence": context.config.hold_on_counter_evidence,
    }


def evaluate(case: Case, proposal: ProposedAction, context: PolicyContext) -> PolicyDecision:
    """Decides one proposed action; the result depends only on structured inputs."""
    inputs = policy_inputs(case, proposal, context)
    verdict = _Verdict()
    spec = context.taxonomy.action_index.get(proposal.action)
    role = context.config.approver_role(context.taxonomy, proposal.action)
    if spec is None:
        verdict.tighten(
            "deny", 0, "catalogue", f"{proposal.action!r} is not in the action catalogue"
        )
    else:
        _apply_invariants(verdict, spec.posts_to_erp, role, inputs, context)
    for rule in context.config.rules:
        if _matches(rule, inputs):
            _apply_extra_rule(verdict, rule)
    if verdict.outcome == "needs_approval":
        verdict.required = max(verdict.required, 1)
    if verdict.outcome != "needs_approval":
        verdict.required = 0
    digest = canonical_digest(inputs)
    return PolicyDecision(
        decision_id="PD-" + digest[:24],
        case_id=case.case_id,
        action=proposal.action,
        outcome=verdict.outcome,
        required_approvals=verdict.required,
        approver_role=role,
        rules_fired=verdict.rules,
        reasons=verdict.reasons,
        policy_version=context.config.version,
        inputs_digest=digest,
    )


def _apply_invariants(
    verdict: _Verdict,
    posts_to_erp: bool,
    role: str | None,
    inputs: dict[str, Any],
    context: PolicyContext,
) -> None:
    if inputs["params_problem"]:
        verdict.tighten("deny", 0, "params-schema", inputs["params_problem"])
    if posts_to_erp:
        verdict.tighten(
            "needs_approval", 1, "erp-needs-person", "ERP postings need a person's approval"
        )
        if inputs["amount"] is None:
            verdict.tighten("deny", 0, "currency-conversion", inputs["amount_refusal"])
        elif inputs["amount"] > context.config.four_eyes_amount:
            verdict.tighten(
                "needs_approval",
                2,
                "four-eyes",
                f"amount {inputs['amount']:,.2f} exceeds {context.config.four_eyes_amount:,.2f}: "
                "two different approvers",
            )
    if role:
        verdict.tighten("needs_approval", 1, "approver-role", f"needs approval by role {role}")
    uncertain = _uncertainty(context)
    if uncertain:
        verdict.tighten("needs_approval", 1, "uncertain-cause", uncertain)
    # Written as `not >=` so that a NaN confidence stays below every floor.
    elif not context.confidence >= inputs["auto_floor"]:
        verdict.tighten(
            "needs_approval",
            1,
            "auto-floor",
            f"confidence {context.confidence:.2f} below the floor {inputs['auto_floor']:.2f} "
            f"for running {inputs['action']} with no person",
        )
    elif inputs["require_own_evidence"] and not inputs["own_evidence"]:
        verdict.tighten(
            "needs_approval",
            1,
            "no-own-evidence",
            f"nothing in the case's own documents points at {context.cause}: "
            "a person checks before anything runs",
        )
    elif inputs["require_record_evidence"] and _only(inputs["own_evidence"], MESSAGE_EVIDENCE):
        verdict.tighten(
            "needs_approval",
            1,
            "messages-only-evidence",
            f"only messages point at {context.cause}; no stalled step, event, code or attribute "
            "of the case does: a person checks before anything runs",
        )
    elif inputs["require_cause_evidence"] and _only(inputs["own_evidence"], SYMPTOM_EVIDENCE):
        verdict.tighten(
            "needs_approval",
            1,
            "symptom-only-evidence",
            f"only the symptom points at {context.cause} (where the workflow is stuck: "
            f"{', '.join(inputs['own_evidence'])}), not why: a person checks before anything runs",
        )
    elif inputs["hold_on_counter_evidence"] and inputs["counter_evidence"]:
        verdict.tighten(
            "needs_approval",
            1,
            "counter-evidence",
            f"{_against(context.cause, inputs['counter_evidence'])}: a person checks before "
            "anything runs",
        )


def _only(own_evidence: list[str], kinds: frozenset[str]) -> bool:
    """Tells whether there is own evidence and all of it is of the given kinds."""
    return bool(own_evidence) and kinds.issuperset(own_evidence)


def _against(cause: str, found: list[str]) -> str:
    """Says what the case's own documents hold against the decided cause, by kind."""
    undetermined = [item for item in found if item.startswith("undetermined:")]
    conflicting = [item for item in found if item.startswith("conflict:")]
    first = [item for item in found if item.startswith("ruled_out:")]
    ruled_out = [item for item in found if item not in {*undetermined, *conflicting, *first}]
    said = []
    if ruled_out:
        said.append(f"say the condition of {cause} does not hold ({', '.join(ruled_out)})")
    if first:
        said.append(f"ruled out the cause scored first ({', '.join(first)})")
    if undetermined:
        said.append(f"say nobody has established the cause ({', '.join(undetermined)})")
    if conflicting:
        said.append(f"hold a fact that settles another cause ({', '.join(conflicting)})")
    return "the case's own documents " + " and ".join(said)


def _uncertainty(context: PolicyContext) -> str | None:
    if context.cause not in context.taxonomy.known_causes:
        return f"cause {context.cause!r} is unknown: a person decides"
    # Written as `not >=` so that a NaN confidence counts as not confident.
    if not context.confidence >= context.config.confidence_threshold:
        return (
            f"confidence {context.confidence:.2f} below threshold "
            f"{context.config.confidence_threshold:.2f}"
        )
    if len(context.prediction_set) != 1:
        return f"conformal set holds {len(context.prediction_set)} causes, not exactly one"
    if context.cause not in context.prediction_set:
        return f"conformal set {list(context.prediction_set)} does not hold the cause"
    return None


def _matches(rule: ExtraRule, inputs: dict[str, Any]) -> bool:
    checks = (
        (rule.actions, inputs["action"]),
        (rule.workflows, inputs["workflow"]),
        (rule.sites, inputs["site"]),
        (rule.causes, inputs["cause"]),
    )
    if any(allowed and value not in allowed for allowed, value in checks):
        return False
    # An amount that cannot be converted matches every threshold: the stricter reading.
    amount = inputs["amount"]
    return rule.amount_above is None or amount is None or amount > rule.amount_above


def _apply_extra_rule(verdict: _Verdict, rule: ExtraRule) -> None:
    reason = rule.description or rule.id
    if rule.effect == "deny":
        verdict.tighten("deny", 0, rule.id, reason)
    elif rule.effect == "require_two_approvals":
        verdict.tighten("needs_approval", 2, rule.id, reason)
    else:
        verdict.tighten("needs_approval", 1, rule.id, reason)
