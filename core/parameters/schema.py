"""The declared shape of one action parameter: its type, unit, bounds and rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ParamType = Literal[
    "string",
    "integer",
    "number",
    "date",
    "datetime",
    "currency",
    "enum",
    "string_list",
    "id",
    "map",
]
_ORDERED = {"integer", "number"}
_TIMED = {"date", "datetime"}


class ParamSpec(BaseModel):
    """One parameter of a catalogue action, as the taxonomy file declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParamType
    required: bool = False
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    nonzero: bool = False
    values: list[str] = Field(default_factory=list)
    max_length: int = Field(default=500, ge=1)
    future: bool = False
    max_days_ahead: int | None = Field(default=None, ge=0)
    currency_param: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _check_rules_fit_the_type(self) -> ParamSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum parameter needs values")
        if self.values and self.type not in ("enum", "string_list", "currency"):
            raise ValueError(f"values do not apply to a {self.type} parameter")
        if (self.min is not None or self.max is not None or self.nonzero) and (
            self.type not in _ORDERED
        ):
            raise ValueError(f"min, max and nonzero do not apply to a {self.type} parameter")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        if (self.future or self.max_days_ahead is not None) and self.type not in _TIMED:
            raise ValueError(f"date rules do not apply to a {self.type} parameter")
        if self.currency_param and self.type != "number":
            raise ValueError("only a number parameter can name its currency parameter")
        return self
