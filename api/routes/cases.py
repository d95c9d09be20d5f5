"""Case intake and reads: POST /v1/cases, GET /v1/cases, GET /v1/cases/{id}, its audit."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from api.access import CaseReader, Submitter, sees_case
from api.auth import runtime_of
from api.pages import Cursor, Limit, Page
from core.errors import Conflict, NotFound
from core.models import Case
from core.principals import Principal
from core.results import CaseStatus, TriageResult
from core.store import audit
from core.store import cases as case_store
from core.store.audit import AuditEntry
from core.store.cases import StoredCase

router = APIRouter(prefix="/v1/cases", tags=["cases"])


class CasePage(BaseModel):
    """One page of cases and the cursor of the next."""

    items: list[TriageResult]
    next_cursor: str | None


def _readable(caller: Principal, stored: StoredCase) -> StoredCase:
    """Returns the case if the caller may read it; to others it does not exist."""
    if not sees_case(caller, stored.submitted_by):
        raise NotFound(f"case {stored.case.case_id!r} not found")
    return stored


def view(stored: StoredCase) -> TriageResult:
    """Returns the triage result of a stored case, with its current status and timestamps."""
    base = stored.result or TriageResult(case_id=stored.case.case_id, status=stored.status)
    return base.model_copy(
        update={
            "status": stored.status,
            "submitted_by": stored.submitted_by,
            "created_at": stored.created_at,
            "updated_at": stored.updated_at,
        }
    )


@router.post(
    "",
    response_model=TriageResult,
    status_code=201,
    responses={200: {"model": TriageResult}, 202: {"model": TriageResult}, 409: {}, 413: {}},
)
async def submit_case(
    case: Case, request: Request, response: Response, caller: Submitter, wait: bool = True
) -> TriageResult:
    """Takes a stalled case; the same id and body again returns the same triage."""
    stored, created = await runtime_of(request).service.submit(case, caller, wait=wait)
    if not created and not sees_case(caller, stored.submitted_by):
        # Replaying another key's case must not hand its triage over.
        raise Conflict(f"case {case.case_id!r} was submitted by another caller")
    if not wait and created:
        response.status_code = 202
        # Case ids are free text; a header must be Latin-1, so the id is percent-encoded.
        response.headers["Location"] = f"/v1/cases/{quote(case.case_id, safe='')}"
    elif not created:
        response.status_code = 200
    return view(stored)


@router.get("", response_model=CasePage)
async def list_cases(
    request: Request,
    caller: CaseReader,
    status: CaseStatus | None = None,
    site: str | None = None,
    cause: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> CasePage:
    """Lists cases newest first, filtered by status, site, cause and an id or ref (`q`, exact or
    prefix, any case); a page may come up short."""
    async with runtime_of(request).db.transaction() as conn:
        page, next_cursor = await case_store.list_cases(
            conn,
            status=status.value if status else None,
            site=site,
            cause=cause,
            limit=limit,
            cursor=cursor,
            q=(q or "").strip() or None,
        )
    # Orchestrator keys see their own cases only; filtering each stored page keeps the cursor
    # exact, at the price of pages shorter than `limit`.
    items = [view(s) for s in page if sees_case(caller, s.submitted_by)]
    return CasePage(items=items, next_cursor=next_cursor)


@router.get("/{case_id}", response_model=TriageResult)
async def get_case(case_id: str, request: Request, caller: CaseReader) -> TriageResult:
    """Returns one case's triage."""
    return view(_readable(caller, await runtime_of(request).service.get(case_id)))


@router.get("/{case_id}/audit", response_model=Page[AuditEntry])
async def get_audit(
    case_id: str, request: Request, caller: CaseReader, limit: Limit = 100, cursor: Cursor = None
) -> Page[AuditEntry]:
    """Pages through the case's audit trail in the order it was written."""
    runtime = runtime_of(request)
    async with runtime.db.transaction() as conn:
        _readable(caller, await case_store.get_case(conn, case_id))
        items, next_cursor = await audit.entries_page(conn, case_id, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
