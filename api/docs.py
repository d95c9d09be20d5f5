"""Serves the OpenAPI schema and Swagger UI behind authentication, from vendored assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.access import DocsReader

SWAGGER_DIR = Path(__file__).parent / "static" / "swagger-ui"


def install_docs(app: FastAPI) -> None:
    """Adds /openapi.json and /docs; both need the same authentication as the API."""
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_caller: DocsReader) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(_caller: DocsReader) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="data:,",
        )
