"""Every error the API sends, in one place: which status, which code, which body.

Every error body is ``{"error": {"code", "message", "details"}}``: the
project's own errors (``sluice.domain.errors``), FastAPI's request validation,
malformed JSON, unknown routes and methods, and anything unexpected (a 500
that names the request id and never shows a traceback).

=========================  ======  ==========================================
error                      status  when
=========================  ======  ==========================================
malformed JSON             400     the body is not JSON (code malformed_json)
NotFoundError              404     unknown document or answer id
StaleVersionError          409     an older version than the one indexed
RequestTooLargeError       413     body over max_request_bytes, file over max_file_bytes
DocumentTooLargeError      413     an upload over max_file_bytes
UnsupportedDocumentError   415     an upload of a type Sluice cannot read
InvalidRequestError        422     validation, k out of range, empty question...
FilterError                422     a filter outside the operator grammar
LimitExceededError         422     a field over its limit (max_query_chars...)
DocumentError              422     the document cannot be ingested; message is the reason
ThrottledError             503     a dependency is throttling; Retry-After says when to retry
BackendError               503     a dependency (index, model, registry) failed
ConfigurationError         500     settings are wrong; the message says which
anything else              500     details.request_id; the traceback goes to the log only
=========================  ======  ==========================================
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sluice.api.schemas import ErrorResponse
from sluice.domain.errors import (
    BackendError,
    ConfigurationError,
    DocumentError,
    DocumentTooLargeError,
    FilterError,
    InvalidRequestError,
    LimitExceededError,
    NotFoundError,
    SluiceError,
    StaleVersionError,
    ThrottledError,
    UnsupportedDocumentError,
)

log = logging.getLogger("sluice.api")


class RequestTooLargeError(LimitExceededError):
    """The request body (or the uploaded file) is over its configured limit."""

    code = "request_too_large"


STATUS_OF: dict[type[SluiceError], int] = {
    NotFoundError: 404,
    StaleVersionError: 409,
    RequestTooLargeError: 413,
    DocumentTooLargeError: 413,
    UnsupportedDocumentError: 415,
    InvalidRequestError: 422,
    FilterError: 422,
    LimitExceededError: 422,
    DocumentError: 422,
    ThrottledError: 503,
    BackendError: 503,
    ConfigurationError: 500,
}
"""The one table from error class to HTTP status; subclasses inherit their closest ancestor's status."""

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
RETRY_AFTER_S = 2


def status_of(exc: SluiceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def sluice_error_response(exc: SluiceError, request_id: str = "") -> JSONResponse:
    status = status_of(exc)
    details = dict(exc.details)
    headers = {}
    if isinstance(exc, ThrottledError):
        headers["Retry-After"] = str(details.get("retry_after_s", RETRY_AFTER_S))
    if status >= 500:
        details["request_id"] = request_id
        log.warning("request failed", extra={"code": exc.code, "status": status, "request_id": request_id})
    return JSONResponse(error_body(exc.code, exc.message, details), status_code=status, headers=headers)


def internal_error_response(request_id: str) -> JSONResponse:
    message = f"an unexpected error occurred; quote request id {request_id} when reporting it"
    return JSONResponse(error_body("internal_error", message, {"request_id": request_id}), status_code=500)


def error_responses(*statuses: int, json_ref: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the error statuses an operation can answer with.

    ``json_ref`` declares them by reference, for operations whose success is not JSON (the event
    stream): FastAPI would otherwise file the error model under the success media type.
    """
    descriptions = {
        400: "Malformed JSON", 404: "Not found", 409: "Conflict", 413: "Request or file too large",
        415: "Unsupported file type", 422: "Invalid request", 500: "Unexpected error",
        503: "A dependency is unavailable or throttling",
    }
    by_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    declared = by_ref if json_ref else {"model": ErrorResponse}
    return {s: {**declared, "description": descriptions[s]} for s in sorted({*statuses, 500})}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SluiceError, _on_sluice_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http_exception)  # type: ignore[arg-type]


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


async def _on_sluice_error(request: Request, exc: SluiceError) -> JSONResponse:
    return sluice_error_response(exc, request_id_of(request))


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next((e.get("ctx", {}).get("error", "") for e in errors if e.get("type") == "json_invalid"), "")
        message = f"the request body is not valid JSON ({reason})" if reason else "the request body is not valid JSON"
        return JSONResponse(error_body("malformed_json", message), status_code=400)
    fields = [_describe(e) for e in errors]
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return JSONResponse(error_body(InvalidRequestError.code, message, {"errors": fields}), status_code=422)


async def _on_http_exception(request: Request, exc: HTTPException) -> JSONResponse:
    # FastAPI turns any failure while reading the body into a 400; our own size limit is the usual cause.
    if isinstance(exc.__cause__, SluiceError):
        return sluice_error_response(exc.__cause__, request_id_of(request))
    status = exc.status_code
    code = HTTP_CODES.get(status, "http_error")
    message = str(exc.detail)
    if status == 404 and message == "Not Found":
        message = f"no such resource: {request.url.path}; the API is described at /docs"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return JSONResponse(error_body(code, message), status_code=status, headers=exc.headers)


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    where = loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc
    field = ".".join(where) or (loc[0] if loc else "request")
    if error.get("type") == "missing" and loc == ["body"]:
        field = "body"
    message = _readable(error)
    return {"field": field, "message": message, "type": error.get("type", "")}


def _readable(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field; check its spelling"
    message = str(error.get("msg", "is invalid"))
    return message[:1].lower() + message[1:]
