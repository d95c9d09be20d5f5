"""Context intake (resolved history and loose messages) and what execution produced."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.access import Administrator, Importer, Reader
from api.auth import require_admin, runtime_of
from api.pages import Cursor, Limit, Page
from core.ingest import LineError, parse_records
from core.models import LooseMessage, ResolvedCase
from core.store import outbox as outbox_store
from core.store.ledger import sandbox_postings_page
from core.store.outbox import OutboxRow
from core.taxonomy import known_cause_errors

router = APIRouter(prefix="/v1", tags=["context"])
# Outbox ids are 32-bit integer columns; a larger id is a 422, not a database overflow.
OutboxId = Annotated[int, Path(ge=1, le=2**31 - 1)]

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


class ImportReport(BaseModel):
    """What an import stored and which records it refused, by line."""

    imported: int
    duplicates: int = 0  # valid records already stored: nothing to do, and nothing wrong
    rejected: int
    errors: list[dict[str, Any]]


def _report(imported: int, errors: list[LineError], valid: int) -> JSONResponse:
    report = ImportReport(
        imported=imported,
        duplicates=max(0, valid - imported),
        rejected=len(errors),
        errors=[{"line": e.line, "field": e.field, "message": e.message} for e in errors],
    )
    status = 422 if errors and not imported else 200
    return JSONResponse(report.model_dump(), status_code=status)


@router.post("/history", response_model=ImportReport, openapi_extra=_BODY_DOC)
async def import_history(request: Request, _caller: Importer) -> JSONResponse:
    """Imports resolved cases (JSON array or JSONL); bad lines are reported, good ones stored."""
    runtime = runtime_of(request)
    parsed = parse_records((await request.body()).decode("utf-8", "replace"), ResolvedCase)
    errors = parsed.errors + known_cause_errors(parsed.items, runtime.deps.taxonomy)
    bad = {e.line for e in errors}
    items = [item for line, item in parsed.items if line not in bad]
    imported = await runtime.learner.add_history(items) if items else 0
    return _report(imported, sorted(errors, key=lambda e: e.line), len(items))


@router.post("/messages", response_model=ImportReport, openapi_extra=_BODY_DOC)
async def import_messages(request: Request, _caller: Importer) -> JSONResponse:
    """Imports loose supplier and carrier messages with refs (JSON array or JSONL)."""
    runtime = runtime_of(request)
    parsed = parse_records((await request.body()).decode("utf-8", "replace"), LooseMessage)
    items = [item for _, item in parsed.items]
    imported = await runtime.learner.add_messages(items) if items else 0
    return _report(imported, parsed.errors, len(items))


@router.get("/outbox", response_model=Page[OutboxRow], tags=["execution"])
async def list_outbox(
    request: Request,
    _caller: Reader,
    status: outbox_store.OutboxStatus | None = None,
    case_id: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[OutboxRow]:
    """Pages through outbox rows, oldest first; `status=dead` shows the dead letters."""
    async with runtime_of(request).db.transaction() as conn:
        items, next_cursor = await outbox_store.page(
            conn,
            case_id=case_id,
            status=status.value if status else None,
            limit=limit,
            cursor=cursor,
        )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/postings", response_model=Page[dict[str, Any]], tags=["execution"])
async def list_postings(
    request: Request,
    _caller: Reader,
    case_id: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Pages through what the sandbox ERP recorded: exactly what would have been posted."""
    async with runtime_of(request).db.transaction() as conn:
        items, next_cursor = await sandbox_postings_page(conn, case_id, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/outbox/{outbox_id}/replay",
    response_model=list[OutboxRow],
    tags=["execution"],
    responses={403: {}, 404: {}},
)
async def replay_outbox_row(
    outbox_id: OutboxId, request: Request, caller: Administrator
) -> list[OutboxRow]:
    """Puts a dead letter back in the queue (an admin's call); answers with the revived row."""
    require_admin(caller)
    runtime = runtime_of(request)
    revived = await runtime.outbox.replay(caller.label, outbox_id)
    runtime.worker.wake()
    return revived
