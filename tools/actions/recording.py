"""The embedded default action runner: records each action in `action_log` instead of sending it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.store.db import Database, as_utc, utcnow
from core.store.tables import action_log
from tools.actions.base import ActionReceipt, ActionRequest

# Built once: every action runs them, and rebuilding a statement costs more than executing it.
_BY_KEY = select(action_log).where(action_log.c.idempotency_key == bindparam("key"))
_INSERT_NEW = {
    name: dialect_insert(action_log)
    .on_conflict_do_nothing(index_elements=[action_log.c.idempotency_key])
    .returning(action_log.c.entry_id)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


class RecordingActions:
    """Writes one `action_log` row per idempotency key so users see exactly what would be sent."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def run(self, request: ActionRequest) -> ActionReceipt:
        """Records the action unless its idempotency key is already in the log."""
        values = {
            "idempotency_key": request.idempotency_key,
            "case_id": request.case_id,
            "action": request.action,
            "target": request.target,
            "params": request.params,
            "at": utcnow(),
        }
        async with self._db.transaction() as conn:
            # The key conflict answers "already logged" in the same statement as the write; a
            # concurrent caller's row is then read back in the same transaction.
            inserted = (await conn.execute(_INSERT_NEW[conn.dialect.name], values)).first()
            if inserted is None:
                row = (await conn.execute(_BY_KEY, {"key": request.idempotency_key})).mappings()
                return _receipt(_as_dict(row.one()), duplicate=True)
        return ActionReceipt(idempotency_key=request.idempotency_key, reference=str(inserted[0]))

    async def list_entries(self, case_id: str | None = None) -> list[dict[str, Any]]:
        """Returns the logged actions, oldest first, optionally for one case."""
        query = select(action_log).order_by(action_log.c.entry_id)
        if case_id is not None:
            query = query.where(action_log.c.case_id == case_id)
        async with self._db.transaction() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_as_dict(row) for row in rows]


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
