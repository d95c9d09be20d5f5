"""The approved-posting value: the only thing an ERP adapter accepts, built only by the gate."""

from __future__ import annotations

import json
from typing import Any

from core import sealing
from core.models import canonical_digest


class ApprovedPosting:
    """An ERP posting that the policy gate checked against a complete approval record; immutable."""

    __slots__ = (
        "_approvers",
        "_digest",
        "_params_json",
        "action",
        "approval_id",
        "case_id",
        "idempotency_key",
        "policy_version",
    )
    case_id: str
    action: str
    idempotency_key: str
    approval_id: str
    policy_version: str
    _params_json: str
    _approvers: tuple[str, ...]
    _digest: str

    def __init__(
        self,
        *,
        case_id: str,
        action: str,
        params: dict[str, Any],
        idempotency_key: str,
        approval_id: str,
        approvers: tuple[str, ...],
        policy_version: str,
        seal: object,
    ) -> None:
        if seal is not sealing.POSTING_SEAL:
            raise TypeError("an ApprovedPosting can only be issued by the policy gate")
        if not approvers:
            raise TypeError("an ApprovedPosting needs at least one approver")
        setter = object.__setattr__
        setter(self, "case_id", case_id)
        setter(self, "action", action)
        # Parameters are kept as canonical JSON, so no caller can change them after the check.
        setter(self, "_params_json", json.dumps(params, sort_keys=True, default=str))
        setter(self, "idempotency_key", idempotency_key)
        setter(self, "approval_id", approval_id)
        setter(self, "_approvers", tuple(approvers))
        setter(self, "policy_version", policy_version)
        setter(self, "_digest", canonical_digest(self.payload()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("an ApprovedPosting cannot be changed")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("an ApprovedPosting cannot be changed")

    def __repr__(self) -> str:
        return f"ApprovedPosting({self.case_id!r}, {self.action!r}, approvers={self.approvers!r})"

    @property
    def params(self) -> dict[str, Any]:
        """Returns a fresh copy of the approved parameters."""
        value: dict[str, Any] = json.loads(self._params_json)
        return value

    @property
    def approvers(self) -> tuple[str, ...]:
        """Returns the people whose approvals the gate counted."""
        return self._approvers

    @property
    def digest(self) -> str:
        """Returns the digest of the approved content, for audit."""
        return self._digest

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
