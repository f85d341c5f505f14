"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from sluice.api.dependencies import WiringDep
from sluice.api.errors import error_body, error_responses
from sluice.api.schemas import HealthResponse, ReadyResponse

log = logging.getLogger("sluice.api")
router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
def healthz() -> HealthResponse:
    """The process is up; says nothing about the index or the model."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=ReadyResponse, responses=error_responses(503))
def readyz(wiring: WiringDep) -> ReadyResponse | JSONResponse:
    """Ready when the index is open and the embedding model is loaded (the first call loads them)."""
    try:
        wiring.get("embedder")
        chunks = wiring.get("index").count()
    except Exception as exc:  # any failure to load means not ready, whatever its type
        log.warning("not ready", extra={"error": str(exc)})
        body = error_body("not_ready", f"the service is not ready: {exc}", {"reason": type(exc).__name__})
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return ReadyResponse(status="ready", chunks=chunks)
