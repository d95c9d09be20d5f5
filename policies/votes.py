"""Who may approve, reject or edit an approval, and when an approval is complete."""

from __future__ import annotations

from core.approvals import ApprovalRecord, ApprovalStatus, VoteDecision
from core.errors import Conflict, InvalidInput, PolicyRefusal
from core.principals import Principal


def check_vote(
    record: ApprovalRecord, voter: Principal, decision: VoteDecision, reason: str | None
) -> None:
    """Raises PolicyRefusal (or InvalidInput, Conflict) unless the voter may cast this decision."""
    if record.status is not ApprovalStatus.pending:
        raise Conflict(f"approval {record.approval_id} is already {record.status.value}")
    if not voter.is_person:
        raise PolicyRefusal(
            f"{voter.label} is not a person; only people can decide on approvals",
            rule="person-only",
        )
    if decision == "reject" and not (reason and reason.strip()):
        raise InvalidInput("a rejection needs a reason", field="reason")
    if record.approver_role and record.approver_role not in voter.roles:
        raise PolicyRefusal(
            f"{voter.name} does not hold the role {record.approver_role} that {record.action} needs",
            rule="approver-role",
        )
    if decision != "approve":
        return
    if _is_one_of(voter.name, voter.kind.value, {record.proposed_by}):
        raise PolicyRefusal(
            f"{voter.name} submitted this proposal and cannot approve it (segregation of duties)",
            rule="segregation-of-duties",
        )
    if _is_one_of(voter.name, voter.kind.value, set(record.edited_by)):
        raise PolicyRefusal(
            f"{voter.name} edited this proposal and cannot approve it (segregation of duties)",
            rule="segregation-of-duties",
        )
    if voter.name in record.approvers():
        raise PolicyRefusal(
            f"{voter.name} already approved; a second, different person must approve",
            rule="four-eyes",
        )


def approvals_missing(record: ApprovalRecord) -> int:
    """Returns how many more distinct eligible approvals the record needs."""
    return max(0, record.required_approvals - len(_eligible_approvers(record)))


def _is_one_of(name: str, kind: str, barred: set[str]) -> bool:
    """Tells whether an actor appears in a set that may hold bare names or `kind:name` labels."""
    return name in barred or f"{kind}:{name}" in barred


def _eligible_approvers(record: ApprovalRecord) -> list[str]:
    barred = {record.proposed_by, *record.edited_by}
    eligible: list[str] = []
    for vote in record.approving_votes():
        if vote.actor_kind.value != "person" or _is_one_of(
            vote.actor, vote.actor_kind.value, barred
        ):
            continue
        if record.approver_role and record.approver_role not in vote.actor_roles:
            continue
        if vote.actor not in eligible:
            eligible.append(vote.actor)
    return eligible


def eligible_approvers(record: ApprovalRecord) -> tuple[str, ...]:
    """Returns the distinct approvers who satisfy role and segregation of duties."""
    return tuple(_eligible_approvers(record))
