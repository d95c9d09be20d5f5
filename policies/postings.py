"""Issues ApprovedPosting values: the one path from an approval record to an ERP posting."""

from __future__ import annotations

from core import sealing
from core.approvals import ApprovalRecord, ApprovalStatus
from core.errors import PolicyRefusal
from core.postings import ApprovedPosting
from policies.config import PolicyConfig
from policies.gate import params_amount
from policies.votes import approvals_missing, eligible_approvers


def authorize_posting(
    record: ApprovalRecord, *, idempotency_key: str, amount: float, config: PolicyConfig
) -> ApprovedPosting:
    """Re-checks a complete approval record against the invariants and seals the posting."""
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
    required = max(record.required_approvals, 1)
    if max(amount, params_amount(record.params)) > config.four_eyes_amount:
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
        params=dict(record.params),
        idempotency_key=idempotency_key,
        approval_id=record.approval_id,
        approvers=approvers,
        policy_version=config.version,
        seal=sealing.POSTING_SEAL,
    )
