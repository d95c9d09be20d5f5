"""The embedded default ERP: postings land in the `sandbox_postings` table, once per key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from core.store.db import Database, utcnow
from core.store.ledger import posting_record, sandbox_postings_of
from core.store.tables import sandbox_postings
from policies.postings import ApprovedPosting
from tools.erp.base import PostingReceipt, require_approved_posting


class SandboxErp:
    """Records approved postings in the local database instead of a real ERP."""

    name = "sandbox"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def post(self, posting: ApprovedPosting) -> PostingReceipt:
        """Inserts the posting unless its idempotency key is already recorded."""
        require_approved_posting(posting)
        existing = await self._find(posting.idempotency_key)
        if existing is not None:
            return _receipt(existing, duplicate=True)
        try:
            async with self._db.transaction() as conn:
                result = await conn.execute(
                    insert(sandbox_postings)
                    .values(
                        idempotency_key=posting.idempotency_key,
                        case_id=posting.case_id,
                        action=posting.action,
                        payload=posting.payload(),
                        approvers=list(posting.approvers),
                        posted_at=utcnow(),
                    )
                    .returning(sandbox_postings.c.posting_id)
                )
                posting_id = result.scalar_one()
        except IntegrityError:
            # A concurrent caller inserted the same key between our read and our write.
            existing = await self._find(posting.idempotency_key)
            if existing is None:
                raise
            return _receipt(existing, duplicate=True)
        return PostingReceipt(
            idempotency_key=posting.idempotency_key, reference=str(posting_id), attempts=1
        )

    async def list_postings(self, case_id: str | None = None) -> list[dict[str, Any]]:
        """Returns the recorded postings, oldest first, optionally for one case."""
        async with self._db.transaction() as conn:
            return await sandbox_postings_of(conn, case_id)

    async def _find(self, idempotency_key: str) -> dict[str, Any] | None:
        query = select(sandbox_postings).where(
            sandbox_postings.c.idempotency_key == idempotency_key
        )
        async with self._db.transaction() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else posting_record(row)


def _receipt(row: dict[str, Any], *, duplicate: bool) -> PostingReceipt:
    return PostingReceipt(
        idempotency_key=row["idempotency_key"],
        reference=str(row["posting_id"]),
        attempts=1,
        duplicate=duplicate,
    )
