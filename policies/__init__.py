"""The policy gate: pure functions over structured inputs, with no framework imports."""

from policies.amounts import amount_at_stake, convert, posting_amount
from policies.config import PolicyConfig, load_policy
from policies.gate import PolicyContext, evaluate
from policies.postings import authorize_posting
from policies.votes import approvals_missing, check_vote, eligible_approvers

__all__ = [
    "PolicyConfig",
    "PolicyContext",
    "amount_at_stake",
    "approvals_missing",
    "authorize_posting",
    "check_vote",
    "convert",
    "eligible_approvers",
    "evaluate",
    "load_policy",
    "posting_amount",
]
