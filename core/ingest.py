"""Parses JSON arrays or JSONL into validated models, reporting each bad record by its line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class LineError:
    """A record that failed validation: its line (or array position), the field and why."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class Parsed(Generic[T]):
    """The valid records of an input and the errors of the invalid ones."""

    items: list[tuple[int, T]] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def describe(exc: ValidationError) -> tuple[str, str]:
    """Returns the dotted field path and message of a validation error's first problem."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"]) or "(record)"
    return path, first["msg"]


def _validate(model: type[T], raw: object, line: int, parsed: Parsed[T]) -> None:
    try:
        parsed.items.append((line, model.model_validate(raw)))
    except ValidationError as exc:
        path, message = describe(exc)
        parsed.errors.append(LineError(line, path, message))


def parse_records(text: str, model: type[T]) -> Parsed[T]:
    """Parses a JSON array (positions count as lines), one JSON object, or JSON Lines into models."""
    parsed: Parsed[T] = Parsed()
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            parsed.errors.append(LineError(exc.lineno, "(json)", exc.msg))
            return parsed
        for position, raw in enumerate(records, start=1):
            _validate(model, raw, position, parsed)
        return parsed
    if stripped.startswith("{"):
        try:
            single = json.loads(stripped)
        except json.JSONDecodeError:
            single = None  # not one object spread over lines: read it as JSON Lines below
        if isinstance(single, dict):
            _validate(model, single, 1, parsed)
            return parsed
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.errors.append(LineError(number, "(json)", exc.msg))
            continue
        _validate(model, raw, number, parsed)
    return parsed
