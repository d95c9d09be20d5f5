"""An in-memory ERP for tests and evals: idempotent by key, with scriptable failures."""

from __future__ import annotations

from policies.postings import ApprovedPosting
from tools.erp.base import PostingReceipt, require_approved_posting
from tools.failure_script import FailureScript


class FakeErp:
    """Keeps postings in a dict and fails on demand, like an ERP that has bad days."""

    name = "fake"

    def __init__(self, *, fail_times: int = 0, permanent: bool = False) -> None:
        self.postings: dict[str, ApprovedPosting] = {}
        self.calls: list[str] = []
        self._references: dict[str, str] = {}
        self._failures = FailureScript("ERP")
        self._failures.add(fail_times, permanent=permanent)

    def fail_next(self, times: int = 1, *, permanent: bool = False) -> None:
        """Makes the next `times` calls raise a retryable (or permanent) integration error."""
        self._failures.add(times, permanent=permanent)

    async def post(self, posting: ApprovedPosting) -> PostingReceipt:
        """Records the posting once per key, or raises the next scripted failure."""
        require_approved_posting(posting)
        key = posting.idempotency_key
        self.calls.append(key)
        self._failures.raise_next()
        duplicate = key in self.postings
        if not duplicate:
            self.postings[key] = posting
            self._references[key] = f"FAKE-{len(self.postings):06d}"
        return PostingReceipt(
            idempotency_key=key, reference=self._references[key], attempts=1, duplicate=duplicate
        )
