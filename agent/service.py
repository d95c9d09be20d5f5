"""The triage service: intake, graph runs, resumption after approvals, and recovery on start."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability

from agent.deps import AgentDeps
from core.models import Case, CaseStatus, TriageResult
from core.principals import Principal
from core.store import approvals as approval_store
from core.store import audit
from core.store import cases as case_store
from core.store.cases import StoredCase

log = logging.getLogger(__name__)


def _config(case_id: str) -> RunnableConfig:
    return RunnableConfig(configurable={"thread_id": case_id})


class TriageService:
    """Runs cases through the graph and resumes them when people have decided."""

    def __init__(
        self,
        deps: AgentDeps,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        *,
        durability: Durability = "async",
    ) -> None:
        self.deps = deps
        self.graph = graph
        self.durability: Durability = durability
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def _lock(self, case_id: str) -> asyncio.Lock:
        return self._locks.setdefault(case_id, asyncio.Lock())

    async def submit(
        self, case: Case, submitter: Principal, *, wait: bool = True
    ) -> tuple[StoredCase, bool]:
        """Stores a case (idempotently) and triages it; returns the stored case and whether it is new."""
        async with self.deps.db.transaction() as conn:
            created = await case_store.insert_case(conn, case, submitter.label)
            if created:
                await audit.record(
                    conn,
                    case_id=case.case_id,
                    actor=submitter.label,
                    kind="case.received",
                    digest=case.digest(),
                )
        if created:
            run = self._triage(case, submitter)
            if wait:
                await run
            else:
                self._spawn(run)
        elif wait:
            await self._settled(case.case_id)
        return await self.get(case.case_id), created

    async def _triage(self, case: Case, submitter: Principal) -> None:
        async with self._lock(case.case_id):
            try:
                await self.graph.ainvoke(
                    {"case": case.model_dump(mode="json"), "submitted_by": submitter.label},
                    _config(case.case_id),
                    durability=self.durability,
                )
            except Exception as exc:
                log.exception("triage of %s failed", case.case_id)
                await self._mark_failed(case.case_id, exc)

    async def _mark_failed(self, case_id: str, exc: Exception) -> None:
        async with self.deps.db.transaction() as conn:
            await case_store.set_status(conn, case_id, CaseStatus.failed)
            await audit.record(
                conn,
                case_id=case_id,
                actor="triage-service",
                kind="case.failed",
                error=f"{type(exc).__name__}: {exc}",
            )

    async def _settled(self, case_id: str) -> None:
        """Waits until no run of this case is in flight in this process."""
        async with self._lock(case_id):
            return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def get(self, case_id: str) -> StoredCase:
        """Returns a stored case."""
        async with self.deps.db.transaction() as conn:
            return await case_store.get_case(conn, case_id)

    async def resume(self, case_id: str) -> None:
        """Resumes a case whose approvals are all decided; a no-op when it is not waiting."""
        async with self._lock(case_id):
            snapshot = await self.graph.aget_state(_config(case_id))
            if "await_approval" not in (snapshot.next or ()):
                return
            async with self.deps.db.transaction() as conn:
                records = await approval_store.list_approvals(conn, case_id=case_id)
            if any(r.status.value == "pending" for r in records):
                return
            if any(r.status.value == "expired" for r in records):
                return  # expired approvals route the case to a person; nothing may run on them
            decided = {r.approval_id: r.status.value for r in records}
            try:
                await self.graph.ainvoke(
                    Command(resume=decided), _config(case_id), durability=self.durability
                )
            except Exception as exc:
                log.exception("resuming %s failed", case_id)
                await self._mark_failed(case_id, exc)

    async def recover(self) -> int:
        """Finishes work interrupted by a stop: unfinished triage and decided-but-unresumed cases."""
        recovered = 0
        for status in (
            CaseStatus.triaging,
            CaseStatus.pending_approval,
            CaseStatus.routed,
            CaseStatus.executing,
        ):
            cursor: str | None = None
            while True:
                async with self.deps.db.transaction() as conn:
                    page, cursor = await case_store.list_cases(
                        conn, status=status.value, limit=200, cursor=cursor
                    )
                for stored in page:
                    recovered += await self._recover_one(stored)
                if cursor is None:
                    break
        await self.deps.delivery.deliver()
        return recovered

    async def _recover_one(self, stored: StoredCase) -> int:
        case_id = stored.case.case_id
        if stored.status is CaseStatus.triaging:
            snapshot = await self.graph.aget_state(_config(case_id))
            if snapshot.next and "await_approval" not in snapshot.next:
                await self.graph.ainvoke(None, _config(case_id), durability=self.durability)
            elif not snapshot.values:
                submitter = Principal.model_validate(
                    {
                        "name": stored.submitted_by.split(":", 1)[-1],
                        "kind": stored.submitted_by.split(":", 1)[0],
                    }
                )
                await self._triage(stored.case, submitter)
            return 1
        await self.resume(case_id)
        return 1

    async def result(self, case_id: str) -> TriageResult | None:
        """Returns the stored triage result of a case."""
        return (await self.get(case_id)).result

    async def drain(self) -> None:
        """Waits for background triage runs to finish."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
