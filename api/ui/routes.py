"""The reviewer UI's pages and forms: login, queue, case, decisions, corrections, dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, cast
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from agent.corrections import correct_cause
from api.auth import runtime_of
from api.ui import casepage, confirmation
from api.ui.csrf import checked_form, session_of
from api.ui.dashboard import build_dashboard
from api.ui.eligibility import permissions, progress_text
from api.ui.export import csv_response, dashboard_csv, queue_csv
from api.ui.queue import QueueFilter, facets, load_queue, matches, queue_counts
from api.ui.rendering import back_to, formatter, render, reviewer, safe_return
from core.approvals import ApprovalRecord, ApprovalStatus, VoteDecision
from core.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PolicyRefusal
from core.principals import Principal
from core.store import approvals as approval_store
from core.store import identity, sessions
from core.store.search import find_cases
from policies.votes import check_vote

router = APIRouter(prefix="/ui", include_in_schema=False)
Reviewer = Annotated[Principal, Depends(reviewer)]
Form = Annotated[FormData, Depends(checked_form)]
# A case id is at most 128 characters; room is left for a pasted ref with spaces around it.
SearchText = Annotated[str | None, Query(max_length=200)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.get("")
@router.get("/")
async def home(q: SearchText = None) -> RedirectResponse:
    """Sends reviewers to the queue, with their search when the address carries one."""
    return RedirectResponse("/ui/queue" + (f"?{urlencode({'q': q})}" if q else ""), status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """Shows the login form."""
    expired = session_of(request).expired
    return render(request, "login.html", next=safe_return(next), expired=expired)


@router.post("/login", response_model=None)
async def login(request: Request, form: Form) -> Response:
    """Checks the password and starts a session with a fresh CSRF token."""
    username, target = _text(form, "username").strip(), safe_return(_text(form, "next"))
    max_age_s = request.app.state.ui_settings.session_max_age_s
    try:
        db = runtime_of(request).db
        async with db.transaction() as conn:
            record = await identity.password_record(conn, username)
        principal = await identity.check_password(record, _text(form, "password"))
        async with db.transaction() as conn:
            session_id = await sessions.open_session(conn, principal.name, max_age_s)
    except AuthenticationFailed:
        return render(
            request,
            "login.html",
            status=401,
            next=target,
            error="Unknown user or wrong password.",
            username=username,
        )
    session_of(request).login(principal.name, max_age_s, session_id)
    return back_to(request, target)


@router.post("/logout")
async def logout(request: Request, _form: Form) -> RedirectResponse:
    """Ends the session on the server too, so that a copy of the old cookie stops working."""
    session = session_of(request)
    if session.session_id:
        async with runtime_of(request).db.transaction() as conn:
            await sessions.revoke_session(conn, session.session_id)
    session.logout()
    return back_to(request, "/ui/login")


def _filters(
    site: str | None = None,
    workflow: str | None = None,
    cause: str | None = None,
    role: str | None = None,
    queue: str | None = None,
    q: SearchText = None,
) -> QueueFilter:
    """Reads the queue filters from the query string; an empty value means no filter."""
    text = (q or "").strip() or None
    return QueueFilter(
        site or None, workflow or None, cause or None, role or None, queue or None, text
    )


Filters = Annotated[QueueFilter, Depends(_filters)]


async def _queue_context(
    request: Request, me: Principal, wanted: QueueFilter, *, elsewhere: bool = True
) -> dict[str, Any]:
    async with runtime_of(request).db.transaction() as conn:
        rows = await load_queue(conn, datetime.now(UTC), runtime_of(request).deps.policy)
        found = await find_cases(conn, wanted.q) if wanted.q and elsewhere else []
    shown = [r for r in rows if matches(r, wanted, me)]
    queued = {r.case_id for r in rows}
    return {
        "rows": shown,
        "permitted": {r.approval.approval_id: permissions(r.approval, me) for r in rows},
        "progress": progress_text,
        # Cases the search finds that wait for no decision: resolved, triaging, or failed ones.
        "elsewhere": [f for f in found if f.case.case_id not in queued],
        "counts": queue_counts(rows, me),
        "facets": facets(rows),
        "filters": wanted,
        "return_to": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }


@router.get("/queue", response_class=HTMLResponse)
async def queue_page(request: Request, me: Reviewer, wanted: Filters) -> HTMLResponse:
    """Shows pending approvals and routed cases, most urgent first."""
    return render(request, "queue.html", me=me, **await _queue_context(request, me, wanted))


@router.get("/queue/rows", response_class=HTMLResponse)
async def queue_rows(request: Request, me: Reviewer, wanted: Filters) -> HTMLResponse:
    """Returns the queue's rows and counts alone, for htmx polling."""
    context = await _queue_context(request, me, wanted, elsewhere=False)
    context["return_to"] = "/ui/queue" + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "_queue_rows.html", me=me, partial=True, polled=True, **context)


@router.get("/queue.csv")
async def queue_export(request: Request, me: Reviewer, wanted: Filters) -> Response:
    """Downloads the queue as CSV, with the same filters and search as the page."""
    context = await _queue_context(request, me, wanted, elsewhere=False)
    return csv_response(queue_csv(context["rows"]), "queue", datetime.now(UTC))


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, me: Reviewer) -> HTMLResponse:
    """Shows one case: timeline, cause, proposals, approvals and the audit trail."""
    runtime = runtime_of(request)
    try:
        async with runtime.db.transaction() as conn:
            view = await casepage.load_case_view(conn, case_id, me)
    except NotFound as missing:
        return render(request, "error.html", me=me, status=404, message=missing.message)
    return _case_response(request, me, view)


def _case_response(
    request: Request,
    me: Principal,
    view: casepage.CaseView,
    *,
    status: int = 200,
    problem: casepage.EditProblem | None = None,
) -> HTMLResponse:
    return render(
        request,
        "case.html",
        me=me,
        status=status,
        view=view,
        causes=runtime_of(request).deps.taxonomy.cause_ids,
        param_text=casepage.param_text,
        source_text=casepage.source_text,
        edit_problem=problem,
    )


async def _edit_refused(
    request: Request, me: Principal, case_id: str, problem: casepage.EditProblem
) -> HTMLResponse:
    """Shows the case again (422) with the refused edit's error beside its field, as typed."""
    async with runtime_of(request).db.transaction() as conn:
        view = await casepage.load_case_view(conn, case_id, me)
    response = _case_response(request, me, view, status=422, problem=problem)
    # htmx would otherwise show the form's POST address as the page's URL.
    response.headers["HX-Replace-Url"] = f"/ui/cases/{quote(case_id, safe='')}"
    return response


@router.get("/approvals/{approval_id}/confirm", response_model=None)
async def confirm_page(
    request: Request, approval_id: str, me: Reviewer, return_to: str | None = None
) -> Response:
    """Asks to confirm an ERP posting: the action, its amount and its target, then approve."""
    runtime = runtime_of(request)
    try:
        async with runtime.db.transaction() as conn:
            view = await confirmation.load_confirm_view(
                conn,
                approval_id,
                me,
                runtime.deps.taxonomy,
                formatter(request),
                safe_return(return_to, ""),
            )
    except NotFound as missing:
        return render(request, "error.html", me=me, status=404, message=missing.message)
    if not view.record.posts_to_erp:  # only postings are confirmed; the rest decide on the case
        return back_to(request, view.return_to)
    return render(request, "confirm.html", me=me, view=view)


def _unconfirmed(record: ApprovalRecord, decision: str, form: FormData) -> bool:
    """Tells whether this is an ERP approval without a confirmation of the current parameters."""
    if decision != "approve" or not record.posts_to_erp:
        return False
    return _text(form, "confirm") != confirmation.params_digest(record)


def _ask_to_confirm(
    request: Request, record: ApprovalRecord, me: Principal, form: FormData, target: str
) -> RedirectResponse:
    """Sends an unconfirmed ERP approval to its confirmation page, unless the policy bars it."""
    check_vote(record, me, "approve", None)  # a refusal shows now, not after confirming
    if _text(form, "confirm"):
        session_of(request).set_flash("error", "The parameters changed since; check them again.")
    return back_to(request, confirmation.confirm_url(record, target))


@router.post("/approvals/{approval_id}", response_model=None)
async def decide(request: Request, approval_id: str, me: Reviewer, form: Form) -> Response:
    """Applies an approve, reject or edit from a plain HTML form, then redirects (PRG).

    An ERP approval counts only with the confirmation of the parameters the person saw; without
    it the person is sent to the confirmation page. A refused edit is the exception to PRG: the
    case page comes back at once (422) with the error beside the field and the typed values kept.
    """
    runtime, session = runtime_of(request), session_of(request)
    decision = _text(form, "decision")
    reason = _text(form, "reason").strip() or None
    try:
        async with runtime.db.transaction() as conn:
            record = await approval_store.get_approval(conn, approval_id)
    except NotFound as missing:
        session.set_flash("error", missing.message)
        return back_to(request, safe_return(_text(form, "return_to")))
    target = safe_return(_text(form, "return_to"), f"/ui/cases/{quote(record.case_id, safe='')}")
    typed = {k: _text(form, k) for k in form}
    params = casepage.edited_params(record.params, typed)
    try:
        if decision not in ("approve", "reject", "edit"):
            raise InvalidInput("choose approve, reject or edit", field="decision")
        if decision == "edit" and not params:
            raise InvalidInput("no parameter was changed", field="params")
        if _unconfirmed(record, decision, form):
            return _ask_to_confirm(request, record, me, form, target)
        # The desk re-checks under its lock that these are still the parameters confirmed.
        seen = record.params if decision == "approve" and record.posts_to_erp else None
        vote = cast("VoteDecision", decision)
        decided = await runtime.desk.decide(
            approval_id, me, vote, reason, params or None, seen_params=seen
        )
    except PolicyRefusal as refusal:
        session.set_flash("refusal", refusal.message, rule=refusal.rule)
    except InvalidInput as error:
        if decision != "edit":
            session.set_flash("error", _error_text(error))
            return back_to(request, target)
        kept = {k: v for k, v in typed.items() if k.startswith("param.") or k == "reason"}
        problem = casepage.edit_problem(approval_id, error.field, _error_text(error), kept)
        return await _edit_refused(request, me, record.case_id, problem)
    except Conflict as error:
        session.set_flash("error", _error_text(error))
    else:
        session.set_flash("ok", _done_text(decision, decided))
    return back_to(request, target)


def _error_text(error: InvalidInput | Conflict) -> str:
    if isinstance(error, InvalidInput) and error.field == "reason":
        return "A rejection needs a reason: say why in the reason field."
    return error.message[:1].upper() + error.message[1:] + "."


def _done_text(decision: str, record: ApprovalRecord) -> str:
    """Returns what the decision did; a first of two approvals is not called approved."""
    where = f"{record.action} on {record.case_id}"
    if decision == "approve" and record.status is ApprovalStatus.pending:
        return f"Your approval of {where} is recorded: {progress_text(record)}."
    verb = {"approve": "Approved", "reject": "Rejected", "edit": "Edited"}[decision]
    return f"{verb} {where}."


@router.post("/cases/{case_id}/correction")
async def correct(request: Request, case_id: str, me: Reviewer, form: Form) -> RedirectResponse:
    """Records the true cause a reviewer set, with a comment."""
    session = session_of(request)
    try:
        await correct_cause(
            runtime_of(request).deps, case_id, _text(form, "cause"), _text(form, "comment"), me
        )
    except (InvalidInput, NotFound, PolicyRefusal) as error:
        session.set_flash("error", error.message)
    else:
        session.set_flash("ok", f"Cause of {case_id} corrected to {_text(form, 'cause')}.")
    return back_to(request, f"/ui/cases/{quote(case_id, safe='')}")


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, me: Reviewer, days: Annotated[int, Query(ge=1, le=90)] = 14
) -> HTMLResponse:
    """Shows volumes, SLA breaches, automation rates and classifier accuracy."""
    async with runtime_of(request).db.transaction() as conn:
        board = await build_dashboard(conn, datetime.now(UTC), days)
    return render(request, "dashboard.html", me=me, board=board)


@router.get("/dashboard.csv")
async def dashboard_export(
    request: Request,
    _me: Reviewer,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
    chart: str | None = None,
) -> Response:
    """Downloads the dashboard's figures as CSV: all of them, or one chart's."""
    now = datetime.now(UTC)
    async with runtime_of(request).db.transaction() as conn:
        board = await build_dashboard(conn, now, days)
    slugs = [ch.slug for ch in board.charts]
    if chart and chart not in slugs:
        raise InvalidInput(f"chart must be one of {', '.join(slugs)}", field="chart")
    stem = f"dashboard-{chart}" if chart else "dashboard"
    return csv_response(dashboard_csv(board, chart or None), f"{stem}-{days}d", now)
