"""The triage service: intake, graph runs under a lease, resumption and recovery of every state."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability, StateSnapshot

from agent.deps import AgentDeps
from core import case_status
from core.approvals import ApprovalStatus
from core.errors import Conflict
from core.logs import bound_case
from core.models import Case
from core.principals import Principal
from core.results import CaseStatus, TriageResult
from core.store import approvals as approval_store
from core.store import audit, identity
from core.store import cases as case_store
from core.store.cases import StoredCase
from core.telemetry import NoTelemetry, Telemetry

log = logging.getLogger(__name__)
ACTOR = "triage-service"


class CaseBusy(Conflict):
    """Raised when another live process holds the lease on running a case's graph."""


class LeaseLost(CaseBusy):
    """Raised into a run whose lease another process took: that process carries the case on."""


def _config(case_id: str) -> RunnableConfig:
    return RunnableConfig(configurable={"thread_id": case_id})


def _state_after_gate(stored: StoredCase, result: TriageResult) -> dict[str, Any]:
    """Returns the graph state the policy gate left, rebuilt from the case's stored result."""
    state: dict[str, Any] = {
        "case": stored.case.model_dump(mode="json"),
        "submitted_by": stored.submitted_by,
        "similar": [s.model_dump(mode="json") for s in result.similar_cases],
        "messages": [m.model_dump(mode="json") for m in result.matched_messages],
        "proposals": [p.model_dump(mode="json") for p in result.proposals],
        "decisions": [d.model_dump(mode="json") for d in result.decisions],
        "approval_ids": list(result.approval_ids),
        "status": stored.status.value,
    }
    if result.classification is not None:
        state["classification"] = result.classification.model_dump(mode="json")
    return state


class TriageService:
    """Runs cases through the graph, resumes them when people have decided, and recovers them."""

    def __init__(
        self,
        deps: AgentDeps,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        *,
        durability: Durability = "async",
        run_lease_s: float = 120.0,
        owner: str | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.deps = deps
        self.telemetry = telemetry or NoTelemetry()
        self.graph = graph
        self.durability: Durability = durability
        self.run_lease_s = run_lease_s
        self.owner = owner or f"run-{uuid.uuid4().hex[:12]}"
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._keepers: set[asyncio.Task[None]] = set()

    def _lock(self, case_id: str) -> asyncio.Lock:
        return self._locks.setdefault(case_id, asyncio.Lock())

    @asynccontextmanager
    async def _run(self, case_id: str, *, claimed: bool = False) -> AsyncIterator[None]:
        """Holds the case's graph for this process: a local lock and the database lease."""
        async with self._lock(case_id):
            if not claimed:
                async with self.deps.db.transaction() as conn:
                    got = await case_store.claim_run(conn, case_id, self.owner, self.run_lease_s)
                if not got:
                    raise CaseBusy(f"case {case_id} is being run by another process")
            run = asyncio.current_task()
            lost, ended = asyncio.Event(), asyncio.Event()
            keeper = asyncio.ensure_future(self._keep_lease(case_id, run, lost, ended))
            self._keepers.add(keeper)
            keeper.add_done_callback(self._keepers.discard)
            try:
                yield
            except asyncio.CancelledError:
                if not lost.is_set() or run is None:
                    raise
                run.uncancel()  # the keeper's cancel, not the caller's: answer it as a conflict
                raise LeaseLost(f"case {case_id}: another process took over its run") from None
            finally:
                ended.set()  # before any await: the keeper never cancels a run that has ended
                async with self.deps.db.transaction() as conn:
                    await case_store.release_run(conn, case_id, self.owner)

    async def _keep_lease(
        self, case_id: str, run: asyncio.Task[Any] | None, lost: asyncio.Event, ended: asyncio.Event
    ) -> None:
        """Renews a run's lease while it lasts, so a long run (a slow model, its retries) is not
        taken for a dead one; stops the run when another process has taken the lease after all."""
        while not ended.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), self.run_lease_s / 3)
            if ended.is_set():
                return
            try:
                async with self.deps.db.transaction() as conn:
                    held = await case_store.renew_run(conn, case_id, self.owner, self.run_lease_s)
            except Exception:  # a store hiccup: two thirds of the lease are left to try again
                log.warning("could not renew the run lease of %s", case_id, exc_info=True)
                continue
            if not held and not ended.is_set():
                log.error("another process took the run lease of %s; stopping this run", case_id)
                lost.set()
                if run is not None:
                    run.cancel()
                return

    async def submit(
        self, case: Case, submitter: Principal, *, wait: bool = True
    ) -> tuple[StoredCase, bool]:
        """Stores a case (idempotently) and triages it; returns the stored case and whether it is new."""
        with bound_case(case.case_id):
            return await self._submit(case, submitter, wait=wait)

    async def _submit(
        self, case: Case, submitter: Principal, *, wait: bool
    ) -> tuple[StoredCase, bool]:
        async with self.deps.db.transaction() as conn:
            if case.callback_url is not None:
                # Only a target the key allows: else any caller could make the server POST anywhere.
                await identity.check_case_callback(conn, submitter.label, str(case.callback_url))
            created = await case_store.insert_case(conn, case, submitter.label)
            if created:
                # The lease is taken with the insert: a crash before the run leaves it to expire.
                await case_store.claim_run(conn, case.case_id, self.owner, self.run_lease_s)
                await audit.record(
                    conn,
                    case_id=case.case_id,
                    actor=submitter.label,
                    kind="case.received",
                    digest=case.digest(),
                )
        if created:
            self.deps.faults.reach("intake.stored", case.case_id)
            log.info("case received from %s", submitter.label)
            run = self._triage(case, submitter, claimed=True)
            if wait:
                if not await run:
                    await self._settled(case.case_id)
            else:
                self._spawn(run)
        elif wait:
            await self._settled(case.case_id)
        return await self.get(case.case_id, body=case), created

    async def _triage(self, case: Case, submitter: Principal, *, claimed: bool = False) -> bool:
        """Runs a new case's graph; returns False when another process took the run over."""
        with bound_case(case.case_id):  # a run spawned in the background keeps its case id
            try:
                async with self._run(case.case_id, claimed=claimed):
                    started = time.perf_counter()
                    await self._invoke(
                        case.case_id,
                        {"case": case.model_dump(mode="json"), "submitted_by": submitter.label},
                    )
                    self.telemetry.triage_finished(time.perf_counter() - started)
            except LeaseLost:
                return False
            return True

    async def _invoke(self, case_id: str, payload: Any) -> None:
        """Runs the graph from a payload; a failure marks the case failed and voids its approvals."""
        try:
            await self.graph.ainvoke(payload, _config(case_id), durability=self.durability)
        except Exception as exc:
            log.exception("graph run of %s failed", case_id)
            await self._mark_failed(case_id, exc)

    async def _mark_failed(self, case_id: str, exc: Exception) -> None:
        async with self.deps.db.transaction() as conn:
            await case_status.lock(conn, case_id)
            voided = await approval_store.void_open(conn, case_id)
            await case_status.move(
                conn,
                case_id,
                CaseStatus.failed,
                actor=ACTOR,
                error=f"{type(exc).__name__}: {exc}",
                voided_approvals=voided,
            )

    async def _settled(self, case_id: str, timeout_s: float = 30.0) -> None:
        """Waits until no run of this case is in flight here, and its triage has an answer."""
        async with self._lock(case_id):
            pass
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            stored = await self.get(case_id)
            if stored.status is not CaseStatus.triaging:
                return
            await asyncio.sleep(
                0.05
            )  # another process is triaging it; recovery finishes a dead one

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def get(self, case_id: str, *, body: Case | None = None) -> StoredCase:
        """Returns a stored case; `body` is its already parsed body, when the caller holds it."""
        async with self.deps.db.transaction() as conn:
            return await case_store.get_case(conn, case_id, body)

    async def resume(self, case_id: str) -> bool:
        """Resumes a case whose approvals are all decided; returns False when it is not waiting."""
        with bound_case(case_id):
            async with self._run(case_id):
                return await self._resume_held(case_id)

    async def _resume_held(self, case_id: str) -> bool:
        snapshot = await self._to_rest(case_id)
        if "await_approval" not in (snapshot.next or ()):
            return False
        async with self.deps.db.transaction() as conn:
            records = await approval_store.list_approvals(conn, case_id=case_id)
        if any(r.status is ApprovalStatus.pending for r in records):
            return False
        if any(r.status in (ApprovalStatus.expired, ApprovalStatus.void) for r in records):
            return False  # expired approvals route the case to a person; nothing may run on them
        decided = {r.approval_id: r.status.value for r in records}
        await self._invoke(case_id, Command(resume=decided))
        return True

    async def _to_rest(self, case_id: str) -> StateSnapshot:
        """Takes an unfinished case's graph from wherever a crash left it to its wait or its end.

        A run cut short runs on from its checkpoint; one with no checkpoint, or one holding only
        its input (no node's status in it), is triaged again from the stored body. Without this a decision taken before recovery
        came would find nothing to resume, and be lost.
        """
        snapshot = await self.graph.aget_state(_config(case_id))
        if snapshot.next and "await_approval" not in snapshot.next:
            await self._invoke(case_id, None)
        elif not snapshot.next:
            stored = await self.get(case_id)
            if stored.status not in case_status.UNFINISHED:
                return snapshot  # a finished case, perhaps with its checkpoints pruned
            if "status" in snapshot.values:
                return snapshot  # a finished graph; an executing case waits for its postings
            # No checkpoint, or one holding only the input: the run's writes died with it.
            if stored.result is not None and stored.result.decisions:
                # The gate had committed, and people may have decided on its approvals: carry on
                # from its stored decision. Triaging again could decide afresh (history has grown)
                # and open approvals nobody is asked about.
                await self.graph.aupdate_state(
                    _config(case_id),
                    _state_after_gate(stored, stored.result),
                    as_node="policy_gate",
                )
                await self._invoke(case_id, None)
            else:
                await self._invoke(
                    case_id,
                    {
                        "case": stored.case.model_dump(mode="json"),
                        "submitted_by": stored.submitted_by,
                    },
                )
        else:
            return snapshot
        return await self.graph.aget_state(_config(case_id))

    async def recover(self, *, all_leases: bool = False) -> int:
        """Finishes every unfinished case whose run is not held by a live process; returns how many."""
        if all_leases:
            async with self.deps.db.transaction() as conn:
                await case_store.expire_all_runs(conn)
        async with self.deps.db.transaction() as conn:
            candidates = await case_store.recovery_candidates(conn, case_status.UNFINISHED)
        recovered = 0
        for stored in candidates:
            recovered += await self._recover_one(stored)
        return recovered

    async def _recover_one(self, stored: StoredCase) -> int:
        case_id = stored.case.case_id
        try:
            with bound_case(case_id):
                async with self._run(case_id):
                    return await self._continue(stored)
        except CaseBusy:
            return 0

    async def _continue(self, stored: StoredCase) -> int:
        """Takes a case to its wait or its end, and past the wait once every approval is decided."""
        before = await self.graph.aget_state(_config(stored.case.case_id))
        resumed = await self._resume_held(stored.case.case_id)
        after = await self.graph.aget_state(_config(stored.case.case_id))
        return int(resumed or after.config != before.config)

    async def result(self, case_id: str) -> TriageResult | None:
        """Returns the stored triage result of a case."""
        return (await self.get(case_id)).result

    async def drain(self) -> None:
        """Waits for background triage runs to finish."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
