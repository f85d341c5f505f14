"""The API contract: request and response bodies.

Requests forbid unknown fields and are strict about types, so a typo or a
``"k": "5"`` is a 422 that names the field rather than a silent default. Field
names follow the CLI's ``--json`` output (``sluice.presenters``).
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from sluice.domain.models import Answer, DocumentRecord, DocumentStatus, Hit, SearchMode, SearchResult

MetadataValue = Union[str, int, float, bool, list[str]]
FILTER_EXAMPLE = {
    "andAll": [
        {"equals": {"key": "team", "value": "legal"}},
        {"greaterThanOrEquals": {"key": "year", "value": 2023}},
    ]
}
FILTER_DESCRIPTION = (
    "A metadata filter in the Amazon Bedrock Knowledge Bases grammar: one operator per object, among equals, "
    "notEquals, greaterThan, greaterThanOrEquals, lessThan, lessThanOrEquals, in, notIn, startsWith, listContains, "
    "stringContains, andAll and orAll. Besides sidecar metadata, source, document_id and title can be filtered on."
)
MAX_ID_CHARS = 128


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SearchRequest(Request):
    query: str = Field(min_length=1, description="What to look for; at most max_query_chars (default 2000).")
    k: int | None = Field(default=None, ge=1, description="How many hits, 1..max_k (default 10, max 100).")
    mode: SearchMode = Field(default=SearchMode.HYBRID, strict=False)
    filter: dict[str, Any] | None = Field(default=None, description=FILTER_DESCRIPTION, examples=[FILTER_EXAMPLE])


class AnswerRequest(Request):
    question: str = Field(min_length=1, description="The question; at most max_query_chars (default 2000).")
    k: int | None = Field(default=None, ge=1, description="Passages to answer from, 1..max_k (default 5).")
    filter: dict[str, Any] | None = Field(default=None, description=FILTER_DESCRIPTION, examples=[FILTER_EXAMPLE])


class FeedbackRequest(Request):
    answer_id: str = Field(min_length=1, max_length=MAX_ID_CHARS, description="The answer_id of an answer.")
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, description="Free text, at most max_feedback_comment_chars.")


class HitOut(BaseModel):
    document: str
    source: str
    title: str
    page: int | None
    page_end: int | None
    heading_path: list[str]
    score: float
    text: str
    chunk: str
    highlights: list[str]
    metadata: dict[str, MetadataValue]

    @classmethod
    def of(cls, hit: Hit) -> HitOut:
        c = hit.chunk
        return cls(
            document=c.document_id, source=c.source, title=c.title, page=c.page_start, page_end=c.page_end,
            heading_path=list(c.heading_path), score=round(hit.score, 6), text=c.text, chunk=c.chunk_id,
            highlights=list(hit.highlights), metadata=dict(c.metadata),
        )


class SearchResponse(BaseModel):
    hits: list[HitOut]
    mode: SearchMode
    timings_ms: dict[str, float]

    @classmethod
    def of(cls, result: SearchResult, total_ms: float) -> SearchResponse:
        timings = {**stage_timings(result.timings), "total": total_ms}
        return cls(hits=[HitOut.of(h) for h in result.hits], mode=result.mode, timings_ms=timings)


class CitationOut(BaseModel):
    marker: int
    document: str
    source: str
    title: str
    page: int | None
    quote: str


class UsageOut(BaseModel):
    embedding_tokens: int
    input_tokens: int
    output_tokens: int
    estimated_cost_usd: float | None


class AnswerResponse(BaseModel):
    answer_id: str
    answer: str
    answered: bool = Field(description="False when the documents do not contain the answer.")
    citations: list[CitationOut]
    usage: UsageOut
    timings_ms: dict[str, float]
    model: str

    @classmethod
    def of(cls, answer: Answer, model: str, total_ms: float | None = None) -> AnswerResponse:
        timings = stage_timings(answer.timings)
        if total_ms is not None:
            timings["total"] = total_ms
        return cls(
            answer_id=answer.answer_id, answer=answer.text, answered=answer.answered,
            citations=[
                CitationOut(marker=c.marker, document=c.document_id, source=c.source, title=c.title, page=c.page,
                            quote=c.quote)
                for c in answer.citations
            ],
            usage=UsageOut(**answer.usage.__dict__), timings_ms=timings, model=answer.model or model,
        )


class DocumentOut(BaseModel):
    document: str
    source: str
    title: str
    status: DocumentStatus
    error: str = Field(description="Why ingesting failed, in words the file's owner can act on; empty otherwise.")
    error_code: str
    chunk_count: int
    token_count: int
    size: int
    version: str
    sha256: str
    timings: dict[str, float]
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, r: DocumentRecord) -> DocumentOut:
        return cls(
            document=r.document_id, source=r.source, title=r.title, status=r.status, error=r.error,
            error_code=r.error_code, chunk_count=r.chunk_count, token_count=r.token_count, size=r.size,
            version=r.version, sha256=r.sha256, timings=dict(r.timings), created_at=r.created_at,
            updated_at=r.updated_at,
        )


class DocumentList(BaseModel):
    documents: list[DocumentOut]
    next: str | None = Field(description="Pass as ?cursor= to get the next page; null on the last page.")


class UploadResponse(BaseModel):
    document: str
    source: str
    status: DocumentStatus
    status_url: str
    reason: str = Field(description="Why ingesting failed; empty when it worked.")
    code: str = Field(description="A stable code for the failure; empty when it worked.")


class DeleteResponse(BaseModel):
    document: str
    deleted: bool


class FeedbackResponse(BaseModel):
    feedback_id: str
    answer_id: str
    rating: Literal["up", "down"]
    comment: str
    question: str
    created_at: float


class HealthResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    status: str
    chunks: int


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable, machine-readable code, e.g. invalid_request, not_found.")
    message: str = Field(description="What went wrong and what to do about it.")
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    error: ErrorInfo


def stage_timings(timings: dict[str, float]) -> dict[str, float]:
    """Service timings without the ``_ms`` suffix, plus ``retrieve`` (keyword + vector + fusion)."""
    stages = {key.removesuffix("_ms"): value for key, value in timings.items()}
    retrieve = [stages[k] for k in ("keyword", "vector", "fuse") if k in stages]
    if retrieve:
        stages["retrieve"] = round(sum(retrieve), 3)
    return stages
