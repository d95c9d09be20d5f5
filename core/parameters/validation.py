"""Checks an action's parameters against the schema the taxonomy declares for it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import InvalidInput
from core.parameters.values import read_value

if TYPE_CHECKING:
    from core.taxonomy import ActionSpec


def _field(name: object) -> str:
    return f"params.{name}"


def _mapping(spec: ActionSpec, params: Any) -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise InvalidInput(f"the parameters of {spec.id} must be an object", field="params")
    return params


def _read(spec: ActionSpec, name: Any, value: Any, now: datetime | None) -> Any:
    declared = spec.params.get(name) if isinstance(name, str) else None
    if declared is None:
        allowed = ", ".join(spec.params) or "none"
        raise InvalidInput(
            f"{spec.id} has no parameter {str(name)[:60]!r}; allowed: {allowed}", field=_field(name)
        )
    try:
        return read_value(declared, value, now)
    except ValueError as exc:
        raise InvalidInput(f"{spec.id} parameter {name}: {exc}", field=_field(name)) from exc


def validate_params(
    spec: ActionSpec, params: Mapping[str, Any], *, now: datetime | None
) -> dict[str, Any]:
    """Returns the canonical typed parameters, or raises InvalidInput naming the first bad field."""
    given = _mapping(spec, params)
    values = {name: _read(spec, name, value, now) for name, value in given.items()}
    canonical = {name: values.get(name) for name in spec.params}
    for name, declared in spec.params.items():
        if declared.required and canonical[name] is None:
            raise InvalidInput(f"{spec.id} needs a value for {name}", field=_field(name))
    return canonical


def screen_params(
    spec: ActionSpec, params: Mapping[str, Any], *, now: datetime | None
) -> tuple[dict[str, Any], list[InvalidInput]]:
    """Returns the parameters with every unknown key and bad value dropped, and why each was."""
    canonical: dict[str, Any] = dict.fromkeys(spec.params)
    dropped: list[InvalidInput] = []
    for name, value in _mapping(spec, params).items():
        try:
            canonical[name] = _read(spec, name, value, now)
        except InvalidInput as problem:
            dropped.append(problem)
    return canonical, dropped
