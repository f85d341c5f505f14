"""ASGI middleware: a request id on every response, a bound on every body, no traceback ever sent."""

from __future__ import annotations

import logging
import re
import uuid

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sluice.api.errors import RequestTooLargeError, internal_error_response, sluice_error_response

log = logging.getLogger("sluice.api")
REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MULTIPART_OVERHEAD_BYTES = 64 * 1024
"""Room for multipart boundaries and part headers on top of the file itself."""


class RequestIdMiddleware:
    """Echoes a sane ``X-Request-ID`` or makes one; turns an unexpected exception into a 500 JSON body.

    It sits outside the routes, so the 500 it sends carries the request id header
    and the exception is logged here with its traceback, not sent to the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            log.info("client disconnected", extra={"request_id": request_id, "path": scope.get("path", "")})
        except Exception:
            log.exception("unexpected error", extra={"request_id": request_id, "path": scope.get("path", "")})
            if not started:
                await internal_error_response(request_id)(scope, receive, send_with_id)


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit: at once from Content-Length, or as soon as the bytes read pass it."""

    def __init__(self, app: ASGIApp, *, max_request_bytes: int, max_file_bytes: int, upload_path: str) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_file_bytes = max_file_bytes
        self.upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = self._error_for(scope)
        limit = int(error.details["limit_bytes"])  # type: ignore[call-overload]
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await sluice_error_response(error)(scope, receive, send)
            return
        seen = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise error
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except RequestTooLargeError as exc:
            if started:
                raise
            await sluice_error_response(exc)(scope, receive, send)

    def _error_for(self, scope: Scope) -> RequestTooLargeError:
        if scope.get("method") == "POST" and scope.get("path") == self.upload_path:
            limit = self.max_file_bytes + MULTIPART_OVERHEAD_BYTES
            return RequestTooLargeError(
                f"the file is over the {_size(self.max_file_bytes)} upload limit (max_file_bytes); "
                "split it or raise SLUICE_MAX_FILE_BYTES",
                details={"limit": "max_file_bytes", "limit_bytes": limit, "max_file_bytes": self.max_file_bytes},
            )
        return RequestTooLargeError(
            f"the request body is over the {_size(self.max_request_bytes)} limit (max_request_bytes)",
            details={"limit": "max_request_bytes", "limit_bytes": self.max_request_bytes},
        )


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == REQUEST_ID_HEADER:
            candidate: str = value.decode("latin-1")
            if _SAFE_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"
