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
    by: str | None = None  # the person, for a value a reviewer typed

    def audit_form(self) -> dict[str, object]:
        """Returns the source without its empty fields, as the audit trail records it."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
