"""CSRF defence for the UI's forms: a per-session token that every POST must echo."""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.datastructures import FormData

from api.ui.sessions import Session

FIELD = "csrf_token"
HEADER = "x-csrf-token"


class CsrfRejected(Exception):
    """Raised when a UI form arrives without the session's CSRF token; rendered as a 403 page."""


def session_of(request: Request) -> Session:
    """Returns the session the middleware attached to this UI request."""
    session: Session = request.state.session
    return session


def csrf_token(request: Request) -> str:
    """Returns the token that this session's forms must carry."""
    return session_of(request).csrf


async def checked_form(request: Request) -> FormData:
    """Returns the posted form after checking its CSRF token (field or htmx header)."""
    form = await request.form()
    sent = form.get(FIELD) or request.headers.get(HEADER) or ""
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfRejected("the form's security token is missing or out of date")
    return form
