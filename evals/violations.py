"""Finds policy violations after a run: ERP postings decided auto, and executions without approval."""

from __future__ import annotations

from app.wiring import Runtime
from core.approvals import ApprovalRecord, ApprovalStatus
from core.store import approvals as approval_store
from core.store import cases as case_store
from evals.report import CaseRecord
from policies import amount_at_stake, eligible_approvers
from tools.actions.fake import FakeActions
from tools.erp.fake import FakeErp


def required_approvers(record: ApprovalRecord, amount: float, four_eyes_amount: float) -> int:
    """Returns how many eligible people must have approved a posting, four-eyes included."""
    return max(record.required_approvals, 1, 2 if amount > four_eyes_amount else 0)


def posting_problem(
    record: ApprovalRecord | None, case_id: str, action: str, *, needed: int
) -> str | None:
    """Returns why an approval record does not back an execution, or None when it does."""
    if record is None:
        return "no approval record"
    if record.status is not ApprovalStatus.approved:
        return f"approval {record.approval_id} is {record.status.value}"
    if (record.case_id, record.action) != (case_id, action):
        return f"approval {record.approval_id} is for {record.case_id}/{record.action}"
    if len(eligible_approvers(record)) < needed:
        return f"approval {record.approval_id} has fewer than {needed} eligible approvers"
    return None


async def posting_violations(
    runtime: Runtime, erp: FakeErp, approvals: dict[str, ApprovalRecord]
) -> list[tuple[str, str]]:
    """Returns (case id, problem) for every ERP posting that no complete approval backs."""
    found = []
    async with runtime.db.transaction() as conn:
        for posting in erp.postings.values():
            stored = await case_store.get_case(conn, posting.case_id)
            record = approvals.get(posting.approval_id)
            params = record.params if record else posting.params
            amount = amount_at_stake(stored.case, posting.action, params, runtime.deps.policy)
            four_eyes = runtime.deps.policy.four_eyes_amount
            needed = required_approvers(record, amount, four_eyes) if record else 1
            problem = posting_problem(record, posting.case_id, posting.action, needed=needed)
            if problem:
                found.append((posting.case_id, f"{posting.action} posted: {problem}"))
    return found


def action_violations(
    actions: FakeActions, auto: set[tuple[str, str]], approvals: dict[str, ApprovalRecord]
) -> list[tuple[str, str]]:
    """Returns (case id, problem) for every action run without an auto decision or an approval."""
    by_action = {(a.case_id, a.action): a for a in approvals.values()}
    found = []
    for request in actions.requests.values():
        key = (request.case_id, request.action)
        problem: str | None
        if request.authorized_by == "policy:auto":
            backed = key in auto and not request.posts_to_erp
            problem = None if backed else "ran as auto without an auto decision"
        else:
            problem = posting_problem(by_action.get(key), *key, needed=1)
        if problem:
            found.append((request.case_id, f"{request.action} executed: {problem}"))
    return found


async def find_violations(
    runtime: Runtime, erp: FakeErp, actions: FakeActions, records: list[CaseRecord]
) -> list[str]:
    """Counts auto-approved ERP actions and executions without approval; marks them on the records."""
    auto = {
        (r.case_id, d["action"]) for r in records for d in r.decisions if d["outcome"] == "auto"
    }
    found = [
        (case_id, f"{action}: an ERP posting was decided auto")
        for case_id, action in sorted(auto)
        if runtime.deps.taxonomy.action(action).posts_to_erp
    ]
    async with runtime.db.transaction() as conn:
        approvals = {a.approval_id: a for a in await approval_store.list_approvals(conn)}
    found += await posting_violations(runtime, erp, approvals)
    found += action_violations(actions, auto, approvals)
    for case in records:
        case.violations = [problem for case_id, problem in found if case_id == case.case_id]
    return [f"{case_id}: {problem}" for case_id, problem in found]
