"""The outbox dispatcher: delivers committed rows with retries and a dead-letter state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import IntegrationError, PolicyRefusal, RetryableIntegrationError
from core.models import CaseStatus
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store import outbox as outbox_store
from core.store.db import Database
from core.store.outbox import OutboxRow, OutboxStatus
from policies import PolicyConfig, authorize_posting
from tools.erp.base import ErpPoster

log = logging.getLogger(__name__)

RowHandler = Callable[[OutboxRow], Awaitable[dict[str, object]]]


class OutboxDispatcher:
    """Delivers outbox rows: ERP postings through the gate's seal, other kinds through handlers."""

    def __init__(
        self,
        db: Database,
        erp: ErpPoster,
        policy: PolicyConfig,
        *,
        max_attempts: int = 8,
        max_backoff_s: float = 300.0,
    ) -> None:
        self.db = db
        self.erp = erp
        self.policy = policy
        self.max_attempts = max_attempts
        self.max_backoff_s = max_backoff_s
        self.handlers: dict[str, RowHandler] = {}
        self._lock = asyncio.Lock()

    def register(self, kind: str, handler: RowHandler) -> None:
        """Adds a delivery handler for another kind of row (e.g. Slack messages)."""
        self.handlers[kind] = handler

    async def deliver(self, case_id: str | None = None) -> int:
        """Delivers every due row (of one case, or all) and returns how many were delivered."""
        async with self._lock:
            async with self.db.transaction() as conn:
                rows = await outbox_store.due(conn, case_id=case_id, limit=200)
            delivered = 0
            for row in rows:
                delivered += await self._deliver_one(row)
            return delivered

    async def run_forever(self, poll_s: float, stop: asyncio.Event) -> None:
        """Delivers due rows until asked to stop."""
        while not stop.is_set():
            try:
                await self.deliver()
            except Exception:  # the loop must outlive one bad row or a passing database error
                log.exception("outbox delivery round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_s)

    async def _post_to_erp(self, row: OutboxRow) -> dict[str, object]:
        async with self.db.transaction() as conn:
            record = await approval_store.get_approval(conn, row.approval_id or "")
            _status, case_amount, _corrected = await case_store.case_facts(conn, row.case_id)
        # authorize_posting takes the larger of this and any amount in the parameters.
        posting = authorize_posting(
            record, idempotency_key=row.idempotency_key, amount=case_amount, config=self.policy
        )
        receipt = await self.erp.post(posting)
        return {
            "adapter": self.erp.name,
            "reference": receipt.reference,
            "attempts": receipt.attempts,
            "attempt_errors": receipt.attempt_errors,
            "duplicate": receipt.duplicate,
            "approvers": list(posting.approvers),
        }

    async def _deliver_one(self, row: OutboxRow) -> int:
        attempts = row.attempts + 1
        try:
            if row.kind == "erp":
                detail = await self._post_to_erp(row)
            else:
                detail = await self.handlers[row.kind](row)
        except (IntegrationError, PolicyRefusal, KeyError) as exc:
            await self._record_failure(row, attempts, exc)
            return 0
        async with self.db.transaction() as conn:
            await outbox_store.mark_delivered(conn, row.outbox_id, attempts)
            await audit.record(
                conn,
                case_id=row.case_id,
                actor="dispatcher",
                kind=f"{row.kind}.delivered",
                action=row.action,
                idempotency_key=row.idempotency_key,
                outbox_attempt=attempts,
                **detail,
            )
            if row.kind == "erp":
                await self._settle_case(conn, row.case_id)
        return 1

    async def _record_failure(self, row: OutboxRow, attempts: int, exc: Exception) -> None:
        retryable = isinstance(exc, RetryableIntegrationError)
        dead = not retryable or attempts >= self.max_attempts
        retry_in = None if dead else min(self.max_backoff_s, 2.0**attempts)
        if isinstance(exc, RetryableIntegrationError) and exc.retry_after and retry_in:
            retry_in = max(retry_in, exc.retry_after)
        message = getattr(exc, "message", str(exc))
        async with self.db.transaction() as conn:
            await outbox_store.mark_failed(
                conn, row.outbox_id, attempts=attempts, error=message, retry_in_s=retry_in
            )
            await audit.record(
                conn,
                case_id=row.case_id,
                actor="dispatcher",
                kind=f"{row.kind}.dead_lettered" if dead else f"{row.kind}.retry_scheduled",
                action=row.action,
                idempotency_key=row.idempotency_key,
                outbox_attempt=attempts,
                error=message,
                retry_in_s=retry_in,
            )
            if dead and row.kind == "erp":
                await case_store.set_status(conn, row.case_id, CaseStatus.failed)

    async def _settle_case(self, conn: AsyncConnection, case_id: str) -> None:
        """Marks a case resolved when its last pending posting was delivered after it closed."""
        status, _amount, _corrected = await case_store.case_facts(conn, case_id)
        if status is not CaseStatus.executing:
            return
        pending = await outbox_store.rows(conn, case_id=case_id, status=OutboxStatus.pending.value)
        if not any(r.kind == "erp" for r in pending):
            await case_store.set_status(conn, case_id, CaseStatus.resolved)
            await audit.record(
                conn, case_id=case_id, actor="dispatcher", kind="case.status", status="resolved"
            )
