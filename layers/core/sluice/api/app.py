"""The FastAPI app factory.

Run it locally with ``uvicorn --factory sluice.api.app:create_app`` (settings
from ``SLUICE_*``), or hand ``create_app(container)`` a container built by
``bootstrap`` (the CLI's ``serve``, the Lambda handler, tests with fakes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from sluice import __version__
from sluice.api.dependencies import Wiring
from sluice.api.errors import install_error_handlers
from sluice.api.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from sluice.api.routes import documents, feedback, health, query
from sluice.bootstrap import Container, bootstrap

STATIC_DIR = Path(__file__).parent / "static"
DESCRIPTION = (
    "Search and grounded answers over your documents, with citations down to document, page and quote. "
    "Every error body is `{\"error\": {\"code\", \"message\", \"details\"}}`."
)


def create_app(container: Container | None = None) -> FastAPI:
    """The API over ``container`` (wired from the environment when omitted)."""
    container = container or bootstrap()
    settings = container.settings
    app = FastAPI(title="Sluice", version=__version__, description=DESCRIPTION, openapi_url="/openapi.json",
                  docs_url="/docs", redoc_url=None)
    app.state.container = container
    app.state.wiring = Wiring(container)
    install_error_handlers(app)
    for router in (query.router, documents.router, feedback.router, health.router):
        app.include_router(router)
    _mount_web_page(app)
    app.add_middleware(BodySizeLimitMiddleware, max_request_bytes=settings.max_request_bytes,
                       max_file_bytes=settings.max_file_bytes, upload_path="/v1/documents")
    app.add_middleware(RequestIdMiddleware)  # added last, so it is the outermost
    return app


def _mount_web_page(app: FastAPI) -> None:
    index = STATIC_DIR / "index.html"
    if index.is_file():
        # The page at "/" and its assets under /static, so unknown API routes stay JSON 404/405s.
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(index, media_type="text/html")

        return

    @app.get("/", include_in_schema=False)
    def root() -> dict[str, Any]:
        return {"name": "Sluice", "version": __version__, "docs": "/docs", "openapi": "/openapi.json"}
