"""The policy file: thresholds, extra roles and extra rules, all of which can only tighten."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from core.errors import ConfigurationError
from core.models import Currency
from core.taxonomy import ActionSpec, Taxonomy

DEFAULT_POLICY_FILE = Path(__file__).parent / "default_policy.toml"

Effect = Literal["require_approval", "require_two_approvals", "deny"]


class ExtraRule(BaseModel):
    """A configured rule that matches actions by their context and tightens the outcome."""

    id: str
    description: str = ""
    actions: list[str] = Field(default_factory=list)
    workflows: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    causes: list[str] = Field(default_factory=list)
    amount_above: float | None = None
    effect: Effect


class PolicyConfig(BaseModel):
    """The loaded policy file."""

    version: str
    four_eyes_amount: float = Field(default=10_000, ge=0)
    confidence_threshold: float = Field(default=0.6, ge=0, le=1)
    # A pending approval older than this expires and routes its case to a person.
    approval_expiry_hours: float = Field(default=48.0, gt=0, allow_inf_nan=False)
    roles: dict[str, str] = Field(default_factory=dict)
    # The least confidence at which an action may run with no person, per action; an action
    # not named here needs confidence_threshold. A floor below the threshold changes nothing.
    auto_floors: dict[str, float] = Field(default_factory=dict)
    # An action runs with no person only when the case's own documents hold a cue, code or
    # decisive fact for the decided cause, not when wording, neighbours or other documents alone
    # carry the decision.
    require_own_evidence: bool = True
    # Nor when messages alone hold that evidence: the stalled step, an event, a standard code or
    # a decisive attribute fact must hold it too. A message is someone's account, often a guess.
    require_record_evidence: bool = True
    # Nor when the only evidence is the symptom the orchestrator reported: a cue in the stalled
    # step (where the workflow is stuck, CONTRACT.md section 1) or a PO nobody acknowledged. They
    # say where the workflow stopped, not why.
    require_cause_evidence: bool = True
    # Nor when they say the decided cause's condition was checked and does not hold: stock agrees
    # between the ERP and the WMS, credit is in order, "customs released it".
    hold_on_counter_evidence: bool = True
    # The conformal prediction set is never narrower than this qhat gives (a cause joins the set
    # when 1 - p <= qhat). The classifier's own qhat comes from its training history; this one
    # from other authors' cases, so that sets keep their coverage on wording the history lacks.
    # It only widens sets: a wider set sends its case to a person. 0 leaves the classifier's own.
    conformal_qhat_floor: float = Field(default=0.0, ge=0, le=1)
    rules: list[ExtraRule] = Field(default_factory=list)
    # Value of one unit of each currency in a common base, to compare action and case amounts.
    rates: dict[Currency, float] = Field(default_factory=dict)
    # The taxonomy's catalogue, attached by load_policy so the posting seal can check parameters.
    catalogue: dict[str, ActionSpec] = Field(default_factory=dict)

    @field_validator("rates")
    @classmethod
    def _check_rates(cls, rates: dict[str, float]) -> dict[str, float]:
        bad = sorted(code for code, rate in rates.items() if not (rate > 0 and rate < math.inf))
        if bad:
            raise ValueError(f"rates must be positive finite numbers: {bad}")
        return rates

    @field_validator("auto_floors")
    @classmethod
    def _check_floors(cls, floors: dict[str, float]) -> dict[str, float]:
        bad = sorted(action for action, floor in floors.items() if not 0 <= floor <= 1)
        if bad:
            raise ValueError(f"auto_floors must lie in [0, 1]: {bad}")
        return floors

    def auto_floor(self, action: str) -> float:
        """Returns the confidence an action needs to run automatically: never below the threshold."""
        return max(self.confidence_threshold, self.auto_floors.get(action, 0.0))

    def approver_role(self, taxonomy: Taxonomy, action: str) -> str | None:
        """Returns the role that must approve an action: the catalogue's, unless config adds one."""
        spec = taxonomy.action_index.get(action)
        catalogue_role = spec.approver_role if spec else None
        return catalogue_role or self.roles.get(action)


def check_against_taxonomy(config: PolicyConfig, taxonomy: Taxonomy) -> None:
    """Raises ConfigurationError when the policy names unknown actions or relaxes an invariant."""
    known = set(taxonomy.action_index)
    named = set(config.roles) | set(config.auto_floors)
    named |= {a for rule in config.rules for a in rule.actions}
    if unknown := sorted(named - known):
        raise ConfigurationError(f"policy names unknown actions: {unknown}")
    for spec in taxonomy.actions:
        if spec.posts_to_erp and not spec.approver_role:
            raise ConfigurationError(f"ERP action {spec.id!r} has no approver role")


def load_policy(path: Path | None, taxonomy: Taxonomy) -> PolicyConfig:
    """Loads and checks a policy file, or the shipped default."""
    source = path or DEFAULT_POLICY_FILE
    try:
        data = tomllib.loads(source.read_text())
        if "catalogue" in data:
            raise ConfigurationError(f"policy {source}: the catalogue comes from the taxonomy")
        config = PolicyConfig.model_validate({**data, "catalogue": taxonomy.action_index})
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"cannot load policy {source}: {exc}") from exc
    check_against_taxonomy(config, taxonomy)
    return config
