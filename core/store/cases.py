"""Stored cases: idempotent intake, triage results, status and reviewer corrections."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from core.approvals import ApprovalStatus
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Case
from core.results import CaseStatus, Posting, TriageResult
from core.store import search
from core.store.db import as_utc, utcnow
from core.store.paging import decode_cursor, encode_cursor
from core.store.tables import approvals, cases

# The hot statements are built once; values travel as parameters.
_ID: BindParameter[str] = bindparam("id")
_DIGEST = select(cases.c.digest).where(cases.c.case_id == _ID)
# A concurrent intake of the same id waits for the other transaction and then inserts nothing,
# instead of failing on the primary key; the stored digest then decides between 200 and 409.
_INSERT_NEW = {
    name: dialect_insert(cases)
    .on_conflict_do_nothing(index_elements=[cases.c.case_id])
    .returning(cases.c.case_id)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_BY_ID = select(cases).where(cases.c.case_id == _ID)
_FACTS = select(cases.c.status, cases.c.amount_value, cases.c.corrected_cause).where(
    cases.c.case_id == _ID
)
_UPDATE = update(cases).where(cases.c.case_id == _ID)
_CLAIM_RUN = (
    update(cases)
    .where(
        cases.c.case_id == _ID,
        or_(
            cases.c.run_owner.is_(None),
            cases.c.run_owner == bindparam("owner"),
            cases.c.run_lease_until < bindparam("now"),
        ),
    )
    .values(run_owner=bindparam("owner"), run_lease_until=bindparam("until"))
)
_RENEW_RUN = (
    update(cases)
    .where(cases.c.case_id == _ID, cases.c.run_owner == bindparam("owner"))
    .values(run_lease_until=bindparam("until"))
)
_RELEASE_RUN = (
    update(cases)
    .where(cases.c.case_id == _ID, cases.c.run_owner == bindparam("owner"))
    .values(run_owner=None, run_lease_until=None)
)


@dataclass(frozen=True)
class StoredCase:
    """A case row: the original body, its current result and bookkeeping."""

    case: Case
    digest: str
    status: CaseStatus
    result: TriageResult | None
    submitted_by: str
    corrected_cause: str | None
    correction: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


def _to_stored(row: Any, body: Case | None = None) -> StoredCase:
    return StoredCase(
        case=body if body is not None else Case.model_validate(row["body"]),
        digest=row["digest"],
        status=CaseStatus(row["status"]),
        result=TriageResult.model_validate(row["result"]) if row["result"] else None,
        submitted_by=row["submitted_by"],
        corrected_cause=row["corrected_cause"],
        correction=row["correction"],
        created_at=as_utc(row["created_at"]) or utcnow(),
        updated_at=as_utc(row["updated_at"]) or utcnow(),
    )


async def insert_case(conn: AsyncConnection, case: Case, submitted_by: str) -> bool:
    """Stores a new case; returns False when the same body was already stored, raises on a clash."""
    digest = case.digest()
    now = utcnow()
    inserted = await conn.execute(
        _INSERT_NEW[conn.dialect.name],
        {
            "case_id": case.case_id,
            "digest": digest,
            "body": case.model_dump(mode="json"),
            "workflow": case.workflow.value,
            "site": case.site,
            "status": CaseStatus.triaging.value,
            "amount_value": case.amount.value if case.amount else None,
            "currency": case.amount.currency if case.amount else None,
            "sla_due_at": case.sla_due_at,
            "submitted_by": submitted_by,
            "callback_url": str(case.callback_url) if case.callback_url else None,
            "created_at": now,
            "updated_at": now,
        },
    )
    if inserted.first() is not None:
        return True
    existing = (await conn.execute(_DIGEST, {"id": case.case_id})).scalar_one()
    if existing != digest:
        raise Conflict(f"case {case.case_id} was already submitted with a different body")
    return False


async def get_case(conn: AsyncConnection, case_id: str, body: Case | None = None) -> StoredCase:
    """Returns one stored case or raises NotFound.

    `body` is the case as the caller already holds it, with the stored digest (intake checked
    it), so the stored body need not be parsed again.
    """
    row = (await conn.execute(_BY_ID, {"id": case_id})).mappings().first()
    if row is None:
        raise NotFound(f"case {case_id} not found")
    return _to_stored(row, body)


async def case_facts(conn: AsyncConnection, case_id: str) -> tuple[CaseStatus, float, str | None]:
    """Returns a case's status, amount and corrected cause without parsing its body."""
    row = (await conn.execute(_FACTS, {"id": case_id})).first()
    if row is None:
        raise NotFound(f"case {case_id} not found")
    return CaseStatus(row[0]), float(row[1] or 0.0), row[2]


async def claim_run(conn: AsyncConnection, case_id: str, owner: str, lease_s: float) -> bool:
    """Takes the lease on running a case's graph unless a live owner holds it; returns success."""
    now = utcnow()
    params = {"id": case_id, "owner": owner, "now": now, "until": now + timedelta(seconds=lease_s)}
    return bool((await conn.execute(_CLAIM_RUN, params)).rowcount)


async def renew_run(conn: AsyncConnection, case_id: str, owner: str, lease_s: float) -> bool:
    """Extends this owner's lease on a case's run; False when another owner has taken it."""
    params = {"id": case_id, "owner": owner, "until": utcnow() + timedelta(seconds=lease_s)}
    return bool((await conn.execute(_RENEW_RUN, params)).rowcount)


async def release_run(conn: AsyncConnection, case_id: str, owner: str) -> None:
    """Gives the lease on running a case's graph back, if this owner still holds it."""
    await conn.execute(_RELEASE_RUN, {"id": case_id, "owner": owner})


async def expire_all_runs(conn: AsyncConnection) -> None:
    """Expires every held run lease: only for a store one process alone may use (SQLite).

    The runs died with the previous process; an expired lease (not a cleared one) keeps them
    recoverable even where people are already deciding the case.
    """
    expired = utcnow() - timedelta(seconds=1)
    await conn.execute(
        update(cases).where(cases.c.run_lease_until.is_not(None)).values(run_lease_until=expired)
    )


async def recovery_candidates(
    conn: AsyncConnection, unfinished: Iterable[CaseStatus], limit: int = 500
) -> list[StoredCase]:
    """Returns unfinished cases whose run died, or that no run holds and no person is deciding."""
    now = utcnow()
    waiting_on_people = (
        select(approvals.c.approval_id)
        .where(
            approvals.c.case_id == cases.c.case_id,
            approvals.c.status == ApprovalStatus.pending.value,
        )
        .exists()
    )
    query = (
        select(cases)
        .where(
            cases.c.status.in_([s.value for s in unfinished]),
            # A lease left to expire is a run that died, perhaps before it reached its wait for
            # people (its automatic actions not run yet): pending approvals do not excuse it.
            or_(
                cases.c.run_lease_until < now,
                and_(cases.c.run_lease_until.is_(None), ~waiting_on_people),
            ),
        )
        .order_by(cases.c.updated_at)
        .limit(limit)
    )
    return [_to_stored(row) for row in (await conn.execute(query)).mappings()]


async def _locked_result(conn: AsyncConnection, case_id: str) -> dict[str, Any] | None:
    """Returns the case's stored result with its row locked, so two writers never lose an update."""
    query = select(cases.c.result).where(cases.c.case_id == case_id).with_for_update()
    row = (await conn.execute(query)).first()
    return row[0] if row and row[0] else None


async def record_executed(conn: AsyncConnection, case_id: str, actions: Sequence[str]) -> None:
    """Adds actions that have run to the case's stored result, so a waiting case shows them."""
    stored = await _locked_result(conn, case_id)
    if stored is None or not actions:
        return
    executed = list(stored.get("executed", []))
    executed += [action for action in actions if action not in executed]
    result = {**stored, "executed": executed}
    await conn.execute(_UPDATE, {"id": case_id, "result": result, "updated_at": utcnow()})


async def record_posted(conn: AsyncConnection, case_id: str, posting: Posting) -> None:
    """Adds a delivered ERP posting, with the ERP's reference, to the case's stored result."""
    stored = await _locked_result(conn, case_id)
    if stored is None:
        return
    known = {p.get("idempotency_key") for p in stored.get("postings", [])}
    if posting.idempotency_key in known:
        return
    executed = stored.get("executed", [])
    result = {
        **stored,
        "executed": executed if posting.action in executed else [*executed, posting.action],
        "postings": [*stored.get("postings", []), posting.model_dump(mode="json")],
    }
    await conn.execute(_UPDATE, {"id": case_id, "result": result, "updated_at": utcnow()})


async def postings_of(conn: AsyncConnection, case_id: str) -> list[Posting]:
    """Returns the delivered ERP postings recorded on a case's stored result."""
    row = (await conn.execute(select(cases.c.result).where(cases.c.case_id == case_id))).first()
    raw = row[0].get("postings", []) if row and row[0] else []
    return [Posting.model_validate(p) for p in raw]


async def set_correction(
    conn: AsyncConnection, case_id: str, cause: str, by: str, comment: str
) -> None:
    """Records a reviewer's correction of the cause."""
    correction = {"cause": cause, "by": by, "comment": comment, "at": utcnow().isoformat()}
    await conn.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(corrected_cause=cause, correction=correction, updated_at=utcnow())
    )


def _decode_case_cursor(cursor: str) -> tuple[datetime, str]:
    stamp, case_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(stamp), case_id
    except ValueError as exc:
        raise InvalidInput("cursor is not one this service issued", field="cursor") from exc


async def list_cases(
    conn: AsyncConnection,
    *,
    status: str | None = None,
    site: str | None = None,
    cause: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    q: str | None = None,
) -> tuple[list[StoredCase], str | None]:
    """Returns one page of cases, newest first, and the cursor of the next page.

    With `q`, only cases whose id or a ref value is it or starts with it are kept; the cursor
    still follows the rows read, so such a page may come up short.
    """
    query = select(cases).order_by(cases.c.created_at.desc(), cases.c.case_id.desc())
    for column, value in ((cases.c.status, status), (cases.c.site, site), (cases.c.cause, cause)):
        if value is not None:
            query = query.where(column == value)
    if q:
        query = query.where(search.candidates(q))
    if cursor:
        stamp, case_id = _decode_case_cursor(cursor)
        query = query.where(
            or_(
                cases.c.created_at < stamp,
                and_(cases.c.created_at == stamp, cases.c.case_id < case_id),
            )
        )
    rows = (await conn.execute(query.limit(limit + 1))).mappings().all()
    page = [_to_stored(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and page:
        next_cursor = encode_cursor(page[-1].created_at.isoformat(), page[-1].case.case_id)
    if q:
        page = [stored for stored in page if search.finds(stored.case, q)]
    return page, next_cursor
