"""The FastAPI application: create_app() builds the runtime once in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.docs import install_docs
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.openapi import install_openapi
from api.request_ids import RequestIds
from api.routes import approvals, cases, context, events, health
from api.slack_setup import install_slack
from api.ui import install_ui
from api.url_text import refuse_nul_in_url
from app.wiring import Overrides, open_runtime
from core.credentials import VerifiedCredentials
from core.logs import configure_logging
from core.settings import Settings


def create_app(
    settings: Settings | None = None,
    overrides: Overrides | None = None,
    *,
    with_worker: bool = True,
) -> FastAPI:
    """Returns the service's ASGI app; with_worker runs the background worker in the process."""
    config = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(config, overrides) as runtime:
            app.state.runtime = runtime
            stop = asyncio.Event()
            worker = None
            if with_worker:
                await runtime.worker.start()
                # One process alone uses an embedded store: leases left by a killed run are void.
                await runtime.service.recover(all_leases=runtime.db.is_sqlite)
                worker = asyncio.create_task(runtime.worker.run(stop))
            try:
                yield
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    if worker is not None:
                        await worker
                        await runtime.worker.stop()

    app = FastAPI(
        title="exception-triage",
        version="0.1.0",
        description="AI-assisted triage of stalled distribution workflows, with a policy gate.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Every route, the UI's included, refuses NUL in its parameters before anything runs.
        dependencies=[Depends(refuse_nul_in_url)],
    )
    app.state.verified_credentials = VerifiedCredentials(config.basic_auth_cache_ttl_s)
    app.add_middleware(BodySizeLimit)
    install_error_handlers(app)
    install_openapi(app)
    install_ui(app, config)
    # Added last so that it runs first: the session middleware must see the forwarded scheme.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=config.trusted_proxies)
    install_docs(app)

    # Outermost of all: every log line of a request, the proxy's and the UI's included, has its id.
    app.add_middleware(RequestIds)
    for module in (health, cases, approvals, context, events):
        app.include_router(module.router)
    install_slack(app, config)
    return app


def create_api_only_app() -> FastAPI:
    """Returns the app of one of several API processes: settings from the environment, no worker."""
    settings = Settings()
    configure_logging(settings.log_format)  # each process is spawned afresh, logging included
    return create_app(settings, with_worker=False)
