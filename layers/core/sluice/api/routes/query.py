"""Search and answer: ``/v1/search``, ``/v1/answer`` and its streamed form."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from sluice.api.dependencies import FeedbackDep, ModelDep, QueryDep, Tenant
from sluice.api.errors import error_body, error_responses, status_of
from sluice.api.schemas import AnswerRequest, AnswerResponse, SearchRequest, SearchResponse
from sluice.domain.errors import BackendError, SluiceError
from sluice.domain.filters import parse_filter
from sluice.domain.models import Answer
from sluice.ports import FeedbackStore, ServedAnswer

log = logging.getLogger("sluice.api")
router = APIRouter(prefix="/v1", tags=["query"])


class EventStreamResponse(StreamingResponse):
    """Server-sent events; the event generator is always closed, even when the client goes away."""

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()


SSE_EVENT_SCHEMA = {
    "description": "One server-sent event; `data` is a JSON document.",
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["token", "citations", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: `token` {text} as the answer is written, then `citations` "
        "{citations}, then `done` with the same body as /v1/answer; `error` {error} if it fails midway.",
        "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
    },
    **error_responses(400, 413, 422, 503, json_ref=True),
}


@router.post("/search", response_model=SearchResponse, responses=error_responses(400, 413, 422, 503))
def search(body: SearchRequest, tenant: Tenant, query: QueryDep) -> SearchResponse:
    """The passages that best match ``query``: hybrid (BM25 + vectors, fused), vector or keyword."""
    started = time.perf_counter()
    flt = parse_filter(body.filter)
    result = query.search(body.query, tenant=tenant, k=body.k, mode=body.mode, filter=flt)
    return SearchResponse.of(result, _ms(started))


@router.post("/answer", response_model=AnswerResponse, responses=error_responses(400, 413, 422, 503))
def answer(
    body: AnswerRequest, tenant: Tenant, query: QueryDep, store: FeedbackDep, model: ModelDep
) -> AnswerResponse:
    """An answer grounded in the documents, with citations; ``answered`` is false when they do not say."""
    started = time.perf_counter()
    result = query.answer(body.question, tenant=tenant, k=body.k, filter=parse_filter(body.filter))
    response = AnswerResponse.of(result, model, _ms(started))
    _record(store, tenant, body.question, response)
    return response


@router.post("/answer/stream", response_class=EventStreamResponse, responses=STREAM_RESPONSES)
async def answer_stream(
    body: AnswerRequest, tenant: Tenant, query: QueryDep, store: FeedbackDep, model: ModelDep
) -> EventStreamResponse:
    """The same answer as ``/v1/answer``, streamed as server-sent events while it is written."""
    started = time.perf_counter()
    flt = parse_filter(body.filter)
    pieces = query.stream_answer(body.question, tenant=tenant, k=body.k, filter=flt)
    # Retrieval runs on the first step: its errors are still plain JSON responses.
    first = await run_in_threadpool(next, pieces, None)
    events = _events(first, pieces, started, lambda r: _record(store, tenant, body.question, r), model)
    return EventStreamResponse(events, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(
    first: str | Answer | None, pieces: Iterator[str | Answer], started: float, record: Any, model: str
) -> AsyncIterator[str]:
    piece = first
    try:
        while piece is not None:
            if isinstance(piece, Answer):
                response = AnswerResponse.of(piece, model, _ms(started))
                data = response.model_dump(mode="json")
                yield sse("citations", {"citations": data["citations"]})
                await run_in_threadpool(record, response)
                yield sse("done", data)
                return
            yield sse("token", {"text": piece})
            piece = await run_in_threadpool(next, pieces, None)
        yield sse("error", error_body("backend_error", "the answer ended without a result; ask again"))
    except SluiceError as exc:
        log.warning("stream failed", extra={"code": exc.code, "status": status_of(exc)})
        yield sse("error", error_body(exc.code, exc.message, exc.details))
    except Exception:
        log.exception("stream failed")
        yield sse("error", error_body("internal_error", "an unexpected error stopped the answer; ask again"))
    finally:
        # Also runs when the client goes away: the generator's resources are released, nothing is half-written.
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _record(store: FeedbackStore, tenant: str, question: str, response: AnswerResponse) -> None:
    """Keep the served answer so feedback can refer to it; losing it must not lose the answer."""
    served = ServedAnswer(response.answer_id, tenant, question, response.model_dump(mode="json"), time.time())
    try:
        store.record_answer(served)
    except BackendError:
        log.warning("answer not recorded", extra={"answer_id": response.answer_id})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
