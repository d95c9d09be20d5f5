"""The approved-posting value: the only thing an ERP adapter accepts, built only by the gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import sealing


@dataclass(frozen=True)
class ApprovedPosting:
    """An ERP posting that the policy gate checked against a complete approval record."""

    case_id: str
    action: str
    params: dict[str, Any]
    idempotency_key: str
    approval_id: str
    approvers: tuple[str, ...]
    policy_version: str
    seal: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seal is not sealing.POSTING_SEAL:
            raise TypeError("an ApprovedPosting can only be issued by the policy gate")
        if not self.approvers:
            raise TypeError("an ApprovedPosting needs at least one approver")

    def payload(self) -> dict[str, Any]:
        """Returns the JSON body sent to the ERP."""
        return {
            "case_id": self.case_id,
            "action": self.action,
            "params": self.params,
            "approval_id": self.approval_id,
            "approved_by": list(self.approvers),
            "policy_version": self.policy_version,
        }
