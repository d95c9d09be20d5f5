"""The non-ERP action interface: TMS, WMS, CRM, email and queue actions, once per key."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from core.taxonomy import ActionSpec


class ActionRequest(BaseModel):
    """One approved or auto-approved catalogue action that does not write to the ERP."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    action: str
    target: str
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    authorized_by: str
    # An ERP write travels only as a sealed ApprovedPosting: this type cannot carry one.
    posts_to_erp: Literal[False] = False

    @classmethod
    def of(cls, spec: ActionSpec, **fields: Any) -> ActionRequest:
        """Returns the request for a catalogue action; raises TypeError for one that posts to the ERP."""
        if spec.posts_to_erp:
            raise TypeError(
                f"{spec.id} posts to the ERP; it travels as an ApprovedPosting through an ErpPoster"
            )
        return cls(action=spec.id, target=spec.target, **fields)


class ActionReceipt(BaseModel):
    """What an action runner reports once an action was carried out (or found already done)."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    reference: str
    duplicate: bool = False


class ActionRunner(Protocol):
    """Carries out non-ERP actions, exactly once per idempotency key."""

    async def run(self, request: ActionRequest) -> ActionReceipt:
        """Runs one action and returns its receipt."""
        ...
