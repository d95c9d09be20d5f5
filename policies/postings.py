"""Issues ApprovedPosting values: the one path from an approval record to an ERP posting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import sealing
from core.approvals import ApprovalRecord, ApprovalStatus
from core.errors import InvalidInput, PolicyRefusal
from core.parameters import validate_params
from core.postings import ApprovedPosting
from policies.amounts import posting_amount
from policies.config import PolicyConfig
from policies.votes import approvals_missing, eligible_approvers


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
        seal=sealing.POSTING_SEAL,
    )
