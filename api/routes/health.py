"""Liveness, readiness and metrics: what operators and orchestration platforms poll."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from api.access import Access, authorized
from api.auth import current_principal, runtime_of
from app.metrics import CONTENT_TYPE
from app.readiness import check_readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Tells that the service is up; needs no authentication."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "A check failed; the body names it."}},
)
async def readyz(request: Request) -> JSONResponse:
    """Checks the database, the index and a worker's heartbeat; needs no authentication."""
    checks = await check_readiness(runtime_of(request))
    failing = [name for name, state in checks.items() if state["status"] != "ok"]
    body: dict[str, Any] = {"status": "failing" if failing else "ready", "checks": checks}
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=503 if failing else 200)


async def metrics_reader(request: Request) -> None:
    """Lets anyone through when TRIAGE_METRICS_PUBLIC is set, else a read or admin key or a person."""
    if runtime_of(request).settings.metrics_public:
        return
    caller = await current_principal(request)
    await authorized(Access.read_metrics)(caller)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
)
async def metrics(request: Request, _: Annotated[None, Depends(metrics_reader)]) -> Response:
    """Returns the service's metrics in the Prometheus text format."""
    runtime = runtime_of(request)
    if runtime.metrics is None:
        return Response(status_code=404)
    return Response(await runtime.metrics.render(), media_type=CONTENT_TYPE)
