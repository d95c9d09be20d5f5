"""Deletes the graph checkpoints of closed cases after a retention period; audits stay."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from core.logs import bound_case
from core.store import audit
from core.store.db import Database, utcnow
from core.store.retention import prunable_cases

log = logging.getLogger(__name__)
ACTOR = "retention"


class CheckpointPruner:
    """Removes checkpoints of resolved and rejected cases older than the retention period."""

    def __init__(
        self,
        db: Database,
        checkpointer: BaseCheckpointSaver[Any],
        *,
        retention_days: float,
        batch: int = 200,
    ) -> None:
        self.db = db
        self.checkpointer = checkpointer
        self.retention = timedelta(days=retention_days)
        self.batch = batch

    async def prune(self) -> int:
        """Deletes one batch of expired checkpoints and audits each deletion; returns how many."""
        async with self.db.transaction() as conn:
            due = await prunable_cases(conn, utcnow() - self.retention, self.batch)
        for case_id in due:
            with bound_case(case_id):
                # Deleted before the audit row is written: a crash between the two repeats a
                # deletion, which finds nothing, rather than leaving a checkpoint marked gone.
                await self.checkpointer.adelete_thread(case_id)
                async with self.db.transaction() as conn:
                    await audit.record(
                        conn,
                        case_id=case_id,
                        actor=ACTOR,
                        kind="checkpoint.pruned",  # PRUNED, spelled out for the catalogue's scan
                        retention_days=self.retention.total_seconds() / 86400,
                    )
        if due:
            log.info("pruned the checkpoints of %d closed cases", len(due))
        return len(due)
