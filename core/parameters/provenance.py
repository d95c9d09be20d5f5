"""Where a proposed parameter value came from: the kind of source, its position and its text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SourceKind = Literal["event", "message", "attribute", "refs", "case", "history", "person", "model"]


class ParamSource(BaseModel):
    """One parameter's source: an event or case message index, a loose message id, keys, a span."""

    kind: SourceKind
    index: int | None = None
    message_id: str | None = None
    keys: list[str] = Field(default_factory=list)
    span: str | None = None
