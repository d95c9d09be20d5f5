"""Issues ApprovedPosting values: the one path from an approval record to an ERP posting."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.approvals import ApprovalRecord, ApprovalStatus
from core.errors import InvalidInput, PolicyRefusal
from core.models import canonical_digest
from core.parameters import validate_params
from policies.amounts import posting_amount
from policies.config import PolicyConfig
from policies.votes import approvals_missing, eligible_approvers

# The seal is private to this module: only authorize_posting below passes it, so only the
# policy code can make an ApprovedPosting. tests/policies/test_seal_privacy.py bans the name
# everywhere else in the tree.
_SEAL = object()


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
        if seal is not _SEAL:
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


def checked_params(
    record: ApprovalRecord, config: PolicyConfig, now: datetime | None = None
) -> dict[str, Any]:
    """Returns the record's parameters as validated typed values, or raises PolicyRefusal."""
    spec = config.catalogue.get(record.action)
    if spec is None:
        raise PolicyRefusal(
            f"{record.action} has no parameter schema in the policy's catalogue",
            rule="params-schema",
        )
    try:
        return validate_params(spec, record.params, now=now)
    except InvalidInput as problem:
        raise PolicyRefusal(
            f"approval {record.approval_id}: {problem.message}",
            rule="params-schema",
            field=problem.field,
        ) from problem


def authorize_posting(
    record: ApprovalRecord,
    *,
    idempotency_key: str,
    amount: float,
    config: PolicyConfig,
    case_currency: str | None = None,
    now: datetime | None = None,
) -> ApprovedPosting:
    """Re-checks a complete approval record and seals a posting of its validated typed parameters.

    `amount` is the case amount; pass `case_currency` so an action's own amount in another
    currency is converted, and `now` (the case's detected_at) so date rules are applied too.
    """
    if record.status is not ApprovalStatus.approved:
        raise PolicyRefusal(
            f"approval {record.approval_id} is {record.status.value}, not approved", rule="approved"
        )
    if not record.posts_to_erp:
        raise PolicyRefusal(f"{record.action} does not post to the ERP", rule="catalogue")
    if not record.approver_role:
        raise PolicyRefusal(
            f"approval {record.approval_id} names no approver role for an ERP posting",
            rule="approver-role",
        )
    params = checked_params(record, config, now)
    required = max(record.required_approvals, 1)
    at_stake = posting_amount(
        config.catalogue[record.action],
        params,
        case_amount=amount,
        case_currency=case_currency,
        config=config,
    )
    if at_stake > config.four_eyes_amount:
        required = max(required, 2)
    approvers = eligible_approvers(record)
    if len(approvers) < required or approvals_missing(record) > 0:
        raise PolicyRefusal(
            f"approval {record.approval_id} has {len(approvers)} eligible approvers of {required}",
            rule="four-eyes" if required > 1 else "erp-needs-person",
        )
    return ApprovedPosting(
        case_id=record.case_id,
        action=record.action,
        params=params,
        idempotency_key=idempotency_key,
        approval_id=record.approval_id,
        approvers=approvers,
        policy_version=config.version,
        seal=_SEAL,
    )
