"""The non-ERP action interface: TMS, WMS, CRM, email and queue actions, once per key."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class ActionRequest(BaseModel):
    """One approved or auto-approved catalogue action that does not write to the ERP."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    action: str
    target: str
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    authorized_by: str
    posts_to_erp: bool = False


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


def refuse_erp_actions(request: ActionRequest) -> ActionRequest:
    """Returns the request unchanged, or raises TypeError when it claims to post to the ERP."""
    # ERP writes must travel as a sealed ApprovedPosting through an ErpPoster, never through here.
    if request.posts_to_erp:
        raise TypeError(
            f"{request.action} posts to the ERP; send it through an ErpPoster with an "
            "ApprovedPosting"
        )
    return request
