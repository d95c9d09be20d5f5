"""Value types of the intake models: text, numbers, instants and ids that every store can hold."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Characters that end or escape a URL path segment, and control characters (C0, DEL, C1).
_ID_FORBIDDEN = re.compile(r"[/?#%\\\x00-\x1f\x7f-\x9f]")


def refuse_nul(value: str) -> str:
    """Returns the text unchanged, refusing a NUL byte that PostgreSQL text cannot hold."""
    if "\x00" in value:
        raise PydanticCustomError("nul_byte", "text must not contain NUL (\\u0000) characters")
    return value


def _url_safe_id(value: str) -> str:
    if (found := _ID_FORBIDDEN.search(value)) is not None:
        raise PydanticCustomError(
            "id_character",
            "case ids must not contain {character}: it breaks the case's URL path segment",
            {"character": repr(found.group())},
        )
    return value


def _storable_instant(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_range", "timestamp is out of range once converted to UTC"
        ) from None
    return value


Text = Annotated[str, AfterValidator(refuse_nul)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Instant = Annotated[AwareDatetime, AfterValidator(_storable_instant)]
CaseId = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_url_safe_id)
]

Scalar = str | int | float | bool | None
_SCALARS_SCHEMA = TypeAdapter(Scalar | list[Scalar]).json_schema()


def _check_scalar(value: Any) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        refuse_nul(value)
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise PydanticCustomError("int_range", "integers must fit in signed 64 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise PydanticCustomError("finite_number", "numbers must be finite")
    else:
        raise TypeError


def _scalars_validator(owner: str) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        try:
            for item in value if isinstance(value, list) else [value]:
                _check_scalar(item)
        except TypeError:
            raise PydanticCustomError(
                "scalar_or_scalars",
                "{owner} hold scalars (string, number, boolean or null) or lists of scalars",
                {"owner": owner},
            ) from None
        return value

    return validate


# Both refuse a nested object or list in one error at its key, instead of one per union member.
AttributeValue = Annotated[
    Any, PlainValidator(_scalars_validator("attributes")), WithJsonSchema(_SCALARS_SCHEMA)
]
ExtraRefValue = Annotated[
    Any, PlainValidator(_scalars_validator("extra refs")), WithJsonSchema(_SCALARS_SCHEMA)
]
