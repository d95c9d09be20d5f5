"""Reads one raw parameter value as its declared type and returns the canonical value."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.parameters.schema import ParamSpec

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/#+\-]{0,79}$")
_INTEGER_TEXT = re.compile(r"^[+-]?\d{1,15}$")
_NUMBER_TEXT = re.compile(r"^[+-]?\d{1,15}(?:\.\d{1,6})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAP_ITEMS = 50

Reader = Callable[[ParamSpec, Any, datetime | None], Any]


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be {what}, not {type(value).__name__}")
    return value.strip()


def _read_string(spec: ParamSpec, value: Any, _now: datetime | None) -> str:
    text = _text(value, "text")
    if len(text) > spec.max_length:
        raise ValueError(f"must be at most {spec.max_length} characters")
    return text


def _read_id(_spec: ParamSpec, value: Any, _now: datetime | None) -> str:
    text = _text(value, "an identifier")
    if not _ID.match(text):
        raise ValueError(f"{text[:40]!r} is not an identifier (letters, digits and ._:/#+-)")
    return text


def _number(value: Any, pattern: re.Pattern[str], what: str) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"must be {what}, not a boolean")
    if isinstance(value, str):
        text = value.strip()
        if not pattern.match(text):
            raise ValueError(f"{text[:40]!r} is not {what}")
        return int(text) if pattern is _INTEGER_TEXT or "." not in text else float(text)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"must be a finite {what}")
        return value
    raise ValueError(f"must be {what}, not {type(value).__name__}")


def _check_bounds(spec: ParamSpec, value: float) -> None:
    if spec.min is not None and value < spec.min:
        raise ValueError(f"must be at least {spec.min:g}")
    if spec.max is not None and value > spec.max:
        raise ValueError(f"must be at most {spec.max:g}")
    if spec.nonzero and value == 0:
        raise ValueError("must not be zero")


def _read_integer(spec: ParamSpec, value: Any, _now: datetime | None) -> int:
    number = _number(value, _INTEGER_TEXT, "a whole number")
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError(f"{number!r} is not a whole number")
        number = int(number)
    _check_bounds(spec, number)
    return number


def _read_number(spec: ParamSpec, value: Any, _now: datetime | None) -> int | float:
    number = _number(value, _NUMBER_TEXT, "a number")
    _check_bounds(spec, number)
    return number


def _check_horizon(spec: ParamSpec, day: date, now: datetime | None) -> None:
    if now is None:
        return  # the relative rules need the case's detection time; without it only the form counts
    today = now.astimezone(UTC).date()
    if spec.future and day < today:
        raise ValueError(f"{day.isoformat()} is in the past (the case was detected {today})")
    if spec.max_days_ahead is not None and day > today + timedelta(days=spec.max_days_ahead):
        raise ValueError(f"{day.isoformat()} is more than {spec.max_days_ahead} days ahead")


def _read_date(spec: ParamSpec, value: Any, now: datetime | None) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        text = _text(value, "a date YYYY-MM-DD")
        if not _ISO_DATE.match(text):
            raise ValueError(f"{text[:40]!r} is not a date YYYY-MM-DD")
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a calendar date") from exc
    _check_horizon(spec, day, now)
    return day.isoformat()


def _read_datetime(spec: ParamSpec, value: Any, now: datetime | None) -> str:
    if isinstance(value, datetime):
        moment = value
    else:
        text = _text(value, "an ISO 8601 timestamp")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{text[:40]!r} is not an ISO 8601 timestamp") from exc
    if moment.tzinfo is None:
        raise ValueError("must carry a time zone offset")
    moment = moment.astimezone(UTC)
    if spec.future and now is not None and moment < now:
        raise ValueError(f"{moment.isoformat()} is before the case was detected")
    _check_horizon(spec.model_copy(update={"future": False}), moment.date(), now)
    return moment.isoformat().replace("+00:00", "Z")


def _read_currency(spec: ParamSpec, value: Any, _now: datetime | None) -> str:
    text = _text(value, "an ISO 4217 currency code")
    if not _CURRENCY.match(text):
        raise ValueError(f"{text[:40]!r} is not an ISO 4217 currency code")
    if spec.values and text not in spec.values:
        raise ValueError(f"{text!r} is not one of {', '.join(spec.values)}")
    return text


def _read_enum(spec: ParamSpec, value: Any, _now: datetime | None) -> str:
    text = _text(value, "one of the allowed values")
    if text not in spec.values:
        raise ValueError(f"{text[:40]!r} is not one of {', '.join(spec.values)}")
    return text


def _read_string_list(spec: ParamSpec, value: Any, _now: datetime | None) -> list[str]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"must be a list of text, not {type(value).__name__}")
    if len(value) > spec.max_length:
        raise ValueError(f"must hold at most {spec.max_length} items")
    items = [_text(item, "text") for item in value]
    if any(not item for item in items):
        raise ValueError("must not hold empty items")
    if spec.values and (odd := [i for i in items if i not in spec.values]):
        raise ValueError(f"{odd[0][:40]!r} is not one of {', '.join(spec.values)}")
    return list(dict.fromkeys(items))


def _read_map(_spec: ParamSpec, value: Any, _now: datetime | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"must be an object, not {type(value).__name__}")
    if len(value) > _MAP_ITEMS:
        raise ValueError(f"must hold at most {_MAP_ITEMS} entries")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError("keys must be non-empty text")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValueError(f"entry {key[:40]!r} must be a scalar")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"entry {key[:40]!r} must be finite")
    return dict(value)


READERS: dict[str, Reader] = {
    "string": _read_string,
    "id": _read_id,
    "integer": _read_integer,
    "number": _read_number,
    "date": _read_date,
    "datetime": _read_datetime,
    "currency": _read_currency,
    "enum": _read_enum,
    "string_list": _read_string_list,
    "map": _read_map,
}


def read_value(spec: ParamSpec, value: Any, now: datetime | None) -> Any:
    """Returns the canonical value, None for an empty one, or raises ValueError saying what is wrong."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return READERS[spec.type](spec, value, now)
