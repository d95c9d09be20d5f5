"""The cause taxonomy and action catalogue, loaded from configuration."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from core.errors import ConfigurationError, InvalidInput
from core.ingest import LineError
from core.parameters.schema import ParamSpec

if TYPE_CHECKING:
    from core.models import ResolvedCase

DEFAULT_TAXONOMY_FILE = Path(__file__).parent / "defaults" / "taxonomy.toml"


Fact = Literal["customer", "order", "shipment", "sla", "overbilled", "short_stock"]


class ConditionalAction(BaseModel):
    """An action proposed for a cause only when the case shows the facts it requires."""

    action: str
    requires: list[Fact] = Field(default_factory=list)
    amount_above: float | None = None


class CauseSpec(BaseModel):
    """One cause of the taxonomy, with the actions a triager usually takes for it."""

    id: str
    meaning: str
    evidence: str = ""
    playbook: list[str] = Field(default_factory=list)
    conditional: list[ConditionalAction] = Field(default_factory=list)


class ActionSpec(BaseModel):
    """One action of the catalogue, with the typed parameters it takes."""

    id: str
    target: str
    posts_to_erp: bool
    approver_role: str | None = None
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    # The parameters whose product is the posting's own amount (absolute values), if any.
    posting_amount: list[str] = Field(default_factory=list)
    # The parameter naming that amount's currency; when it is empty the case currency applies.
    posting_currency: str | None = None

    @model_validator(mode="after")
    def _check_parameter_names(self) -> ActionSpec:
        for name in self.posting_amount:
            if name not in self.params or self.params[name].type not in ("integer", "number"):
                raise ValueError(f"action {self.id!r}: posting_amount names {name!r}, not a number")
        currencies = [self.posting_currency] + [p.currency_param for p in self.params.values()]
        for name in filter(None, currencies):
            if name not in self.params or self.params[name].type != "currency":
                raise ValueError(f"action {self.id!r}: {name!r} is not a currency parameter")
        if self.posts_to_erp and not self.params:
            raise ValueError(f"ERP action {self.id!r} declares no parameters")
        return self


class Taxonomy(BaseModel):
    """The causes and actions the agent may use; a deployment can replace both."""

    unknown_cause: str = "unknown"
    causes: list[CauseSpec]
    actions: list[ActionSpec]

    @model_validator(mode="after")
    def _check_consistency(self) -> Taxonomy:
        cause_ids = [c.id for c in self.causes]
        action_ids = [a.id for a in self.actions]
        if len(set(cause_ids)) != len(cause_ids) or len(set(action_ids)) != len(action_ids):
            raise ValueError("cause and action ids must be unique")
        if self.unknown_cause not in cause_ids:
            raise ValueError(f"unknown_cause {self.unknown_cause!r} is not a cause")
        for cause in self.causes:
            named = set(cause.playbook) | {c.action for c in cause.conditional}
            missing = named - set(action_ids)
            if missing:
                raise ValueError(
                    f"cause {cause.id!r} playbook names unknown actions {sorted(missing)}"
                )
        return self

    @cached_property
    def cause_ids(self) -> list[str]:
        """Returns every cause id, in file order."""
        return [c.id for c in self.causes]

    @cached_property
    def known_causes(self) -> list[str]:
        """Returns the cause ids a classifier can predict (all but the unknown cause)."""
        return [c for c in self.cause_ids if c != self.unknown_cause]

    @cached_property
    def action_index(self) -> dict[str, ActionSpec]:
        """Returns the catalogue by action id."""
        return {a.id: a for a in self.actions}

    def cause(self, cause_id: str) -> CauseSpec:
        """Returns one cause, or raises InvalidInput naming the allowed values."""
        for cause in self.causes:
            if cause.id == cause_id:
                return cause
        raise InvalidInput(
            f"unknown cause {cause_id!r}; allowed: {', '.join(self.cause_ids)}", field="cause"
        )

    def action(self, action_id: str) -> ActionSpec:
        """Returns one action, or raises InvalidInput naming the allowed values."""
        spec = self.action_index.get(action_id)
        if spec is None:
            allowed = ", ".join(self.action_index)
            raise InvalidInput(f"unknown action {action_id!r}; allowed: {allowed}", field="action")
        return spec


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Loads a taxonomy file, or the shipped default."""
    source = path or DEFAULT_TAXONOMY_FILE
    try:
        return Taxonomy.model_validate(tomllib.loads(source.read_text()))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"cannot load taxonomy {source}: {exc}") from exc


def known_cause_errors(
    items: Sequence[tuple[int, ResolvedCase]], taxonomy: Taxonomy
) -> list[LineError]:
    """Returns a line error for every resolved case whose cause is not in the taxonomy."""
    allowed = ", ".join(taxonomy.cause_ids)
    return [
        LineError(
            line, "resolution.cause", f"unknown cause {item.resolution.cause!r}; allowed: {allowed}"
        )
        for line, item in items
        if item.resolution.cause not in taxonomy.cause_ids
    ]
