"""Page rendering for the UI: the autoescaping Jinja2 environment, the login gate, safe headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from api.auth import runtime_of
from api.ui.csrf import csrf_token, session_of
from api.ui.formatting import (
    TZ_COOKIE,
    Formatter,
    label,
    nested,
    reviewer_locale,
    reviewer_zone,
    sentences,
)
from api.ui.queue import sla_text
from core.principals import Principal
from core.store import sessions

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Scripts and styles come only from /ui/static: an injected inline script or handler never runs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """Raised when a UI page is asked for without a valid session; answered by a redirect."""


def formatter(request: Request) -> Formatter:
    """Returns the reviewer's formatter: Accept-Language for the locale, the tz cookie for times."""
    return Formatter(
        reviewer_locale(request.headers.get("accept-language")),
        reviewer_zone(unquote(request.cookies.get(TZ_COOKIE) or "")),
    )


def _fmt(context: Context) -> Formatter:
    found = context.get("fmt")
    return found if isinstance(found, Formatter) else Formatter()


@pass_context
def _when(context: Context, value: datetime | None) -> str:
    return _fmt(context).when(value)


@pass_context
def _moment(context: Context, value: datetime | None) -> Markup:
    return _fmt(context).moment(value)


@pass_context
def _plain(context: Context, value: Any, key: str | None = None) -> str:
    return _fmt(context).value(value, key)


@pass_context
def _money(context: Context, value: float | None, currency: str | None = None) -> str:
    return _fmt(context).money(value, currency)


@pass_context
def _number(context: Context, value: float | None) -> str:
    return _fmt(context).number(value)


@pass_context
def _percent(context: Context, value: float | None) -> str:
    return _fmt(context).percent(value)


def _segment(value: str) -> str:
    return quote(value, safe="")


def make_templates() -> Jinja2Templates:
    """Returns the templates, with autoescaping on for every file whatever its extension."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Every value a page shows is written by these filters, in the reviewer's locale and zone.
    env.filters.update(
        when=_when,
        moment=_moment,
        plain=_plain,
        money=_money,
        number=_number,
        percent=_percent,
        label=label,
        sla=sla_text,
        segment=_segment,
    )
    env.tests.update(nested=nested, sentences=sentences)
    return Jinja2Templates(env=env)


async def reviewer(request: Request) -> Principal:
    """Returns the person logged in to this UI session, or raises LoginRequired."""
    session_id = getattr(request.state, "session_id", None)
    if session_id:
        async with runtime_of(request).db.transaction() as conn:
            principal = await sessions.session_person(conn, session_id)
        if principal is not None:
            return principal
    raise LoginRequired()


def login_redirect(request: Request) -> RedirectResponse:
    """Returns the redirect to the login page that brings the reviewer back afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
    if request.headers.get("hx-request"):
        response.headers["HX-Redirect"] = response.headers["location"]
    return response


def safe_return(target: str | None, default: str = "/ui/queue") -> str:
    """Returns a local UI path to go back to; anything else (other hosts, schemes) gives the default."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def render(
    request: Request,
    name: str,
    *,
    me: Principal | None = None,
    status: int = 200,
    partial: bool = False,
    **context: Any,
) -> HTMLResponse:
    """Renders a page with the session's user, CSRF token and pending message (kept for partials)."""
    templates: Jinja2Templates = request.app.state.ui_templates
    session = session_of(request)
    base = {
        "me": me,
        "csrf_token": csrf_token(request),
        "flash": None if partial else session.pop_flash(),
        "now": datetime.now(UTC),
        "timedelta": timedelta,
        "path": request.url.path,
        "fmt": formatter(request),
    }
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def back_to(request: Request, target: str) -> RedirectResponse:
    """Returns the redirect of post-redirect-get."""
    response = RedirectResponse(target, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response
