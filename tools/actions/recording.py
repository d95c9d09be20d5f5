"""The embedded default action runner: records each action in `action_log` instead of sending it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from core.store.db import Database, as_utc, utcnow
from core.store.tables import action_log
from tools.actions.base import ActionReceipt, ActionRequest


class RecordingActions:
    """Writes one `action_log` row per idempotency key so users see exactly what would be sent."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def run(self, request: ActionRequest) -> ActionReceipt:
        """Records the action unless its idempotency key is already in the log."""
        existing = await self._find(request.idempotency_key)
        if existing is not None:
            return _receipt(existing, duplicate=True)
        try:
            async with self._db.transaction() as conn:
                result = await conn.execute(
                    insert(action_log)
                    .values(
                        idempotency_key=request.idempotency_key,
                        case_id=request.case_id,
                        action=request.action,
                        target=request.target,
                        params=request.params,
                        at=utcnow(),
                    )
                    .returning(action_log.c.entry_id)
                )
                entry_id = result.scalar_one()
        except IntegrityError:
            # A concurrent caller logged the same key between our read and our write.
            existing = await self._find(request.idempotency_key)
            if existing is None:
                raise
            return _receipt(existing, duplicate=True)
        return ActionReceipt(idempotency_key=request.idempotency_key, reference=str(entry_id))

    async def list_entries(self, case_id: str | None = None) -> list[dict[str, Any]]:
        """Returns the logged actions, oldest first, optionally for one case."""
        query = select(action_log).order_by(action_log.c.entry_id)
        if case_id is not None:
            query = query.where(action_log.c.case_id == case_id)
        async with self._db.transaction() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_as_dict(row) for row in rows]

    async def _find(self, idempotency_key: str) -> dict[str, Any] | None:
        query = select(action_log).where(action_log.c.idempotency_key == idempotency_key)
        async with self._db.transaction() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _as_dict(row)


def _as_dict(row: Any) -> dict[str, Any]:
    entry = dict(row)
    entry["at"] = as_utc(entry["at"])
    return entry


def _receipt(entry: dict[str, Any], *, duplicate: bool) -> ActionReceipt:
    return ActionReceipt(
        idempotency_key=entry["idempotency_key"],
        reference=str(entry["entry_id"]),
        duplicate=duplicate,
    )
