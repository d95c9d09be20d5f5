"""The ERP posting interface: one sealed ApprovedPosting in, one PostingReceipt out."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from policies.postings import ApprovedPosting


class PostingReceipt(BaseModel):
    """What an ERP adapter reports after a posting was accepted (or found already posted)."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    reference: str
    attempts: int = Field(ge=1)
    attempt_errors: list[str] = Field(default_factory=list)
    duplicate: bool = False


class ErpPoster(Protocol):
    """Posts approved actions to the system of record, exactly once per idempotency key."""

    name: str

    async def post(self, posting: ApprovedPosting) -> PostingReceipt:
        """Posts one approved action and returns the ERP's receipt."""
        ...


def require_approved_posting(posting: Any) -> ApprovedPosting:
    """Returns the posting unchanged, or raises TypeError when it is not a sealed ApprovedPosting."""
    # The type checker already enforces this; the runtime check stops duck-typed look-alikes.
    if not isinstance(posting, ApprovedPosting):
        raise TypeError(
            f"ERP adapters accept only an ApprovedPosting from the policy gate, "
            f"not {type(posting).__name__}"
        )
    return posting
