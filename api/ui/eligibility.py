"""What a reviewer may do on an approval, in the policy's own terms, and how far four-eyes got.

The rules stay in policies.votes: this module asks check_vote about each decision and only turns
its refusal into a short sentence for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.approvals import ApprovalRecord, ApprovalStatus, VoteDecision
from core.errors import PolicyRefusal, TriageError
from core.principals import Principal
from policies.votes import check_vote, eligible_approvers

_ORDINALS = {2: "second", 3: "third", 4: "fourth"}


@dataclass(frozen=True)
class Permissions:
    """The decisions a reviewer may take on one approval, and why approving is not one of them."""

    approve: bool = False
    reject: bool = False
    edit: bool = False
    why_not: str | None = None


def refusal_text(refusal: PolicyRefusal, record: ApprovalRecord) -> str:
    """Returns a policy refusal as the sentence a reviewer reads beside the approval."""
    if refusal.rule == "approver-role" and record.approver_role:
        return f"Needs the {record.approver_role} role."
    if refusal.rule == "segregation-of-duties":
        return (
            "You proposed or edited this action, so you cannot approve it (segregation of duties)."
        )
    if refusal.rule == "four-eyes":
        return "You already approved this; a second, different person must approve."
    return refusal.message[:1].upper() + refusal.message[1:] + "."


def _refusal(record: ApprovalRecord, me: Principal, decision: VoteDecision) -> str | None:
    """Returns why the policy would refuse this decision by this reviewer, or None if it allows it."""
    try:
        # A rejection's reason is typed later; only who may reject matters here.
        check_vote(record, me, decision, "reason" if decision == "reject" else None)
    except PolicyRefusal as refusal:
        return refusal_text(refusal, record)
    except TriageError as error:
        return error.message
    return None


def permissions(record: ApprovalRecord | None, me: Principal) -> Permissions:
    """Returns what the reviewer may do on a pending approval; nothing once it is decided."""
    if record is None or record.status is not ApprovalStatus.pending:
        return Permissions()
    why_not = _refusal(record, me, "approve")
    return Permissions(
        approve=why_not is None,
        reject=_refusal(record, me, "reject") is None,
        edit=_refusal(record, me, "edit") is None,
        why_not=why_not,
    )


def progress_text(record: ApprovalRecord) -> str:
    """Returns the four-eyes progress, e.g. `1 of 2 approvals; waiting for a second approver`."""
    done, needed = len(eligible_approvers(record)), record.required_approvals
    count = f"{done} of {needed} approvals"
    if record.status is ApprovalStatus.pending:
        missing = needed - done
        if done == 0 or missing <= 0:
            return count
        if missing == 1:
            return f"{count}; waiting for a {_ORDINALS.get(done + 1, 'further')} approver"
        return f"{count}; waiting for {missing} more approvers"
    return f"{count}; {record.status.value}"
