"""The reviewer UI: server-rendered pages under /ui, enhanced by vendored htmx."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.ui.csrf import CsrfRejected
from api.ui.rendering import LoginRequired, login_redirect, make_templates, render
from api.ui.routes import router
from api.ui.sessions import SessionCodec, SessionMiddleware, load_secret
from core.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def install_ui(app: FastAPI, settings: Settings) -> None:
    """Mounts the UI's routes, static files and session middleware on the app."""
    app.state.ui_templates = make_templates()
    app.state.ui_settings = settings
    codec = SessionCodec(load_secret(settings), settings.session_max_age_s)
    app.add_middleware(
        SessionMiddleware, codec=codec, force_secure=settings.public_url.startswith("https://")
    )
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    app.include_router(router)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def _root(request: Request) -> RedirectResponse:
        # The quick start points people at the bare address; the UI lives under /ui.
        return RedirectResponse(f"{request.scope.get('root_path', '')}/ui", status_code=307)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        return login_redirect(request)

    @app.exception_handler(CsrfRejected)
    async def _csrf_rejected(request: Request, exc: CsrfRejected) -> HTMLResponse:
        message = f"Refused: {exc}. Reload the page and try again."
        return render(request, "error.html", status=403, message=message)
