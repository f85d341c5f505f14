"""The ports: what services need, stated as Protocols.

Each docstring says the semantics every adapter must keep (duplicates,
missing items, errors). The contract tests in ``tests/contract`` hold every
adapter of a port to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sluice.domain.errors import NotFoundError
from sluice.domain.filters import Filter
from sluice.domain.models import (
    Answer,
    Blob,
    BlobInfo,
    Chunk,
    DocumentRecord,
    DocumentStatus,
    Hit,
    IndexedChunk,
    ParsedDocument,
    StoredVector,
)


@runtime_checkable
class BlobSource(Protocol):
    """Where documents live: an S3 bucket or a folder.

    ``source`` is the key relative to the root, with ``/`` separators.
    ``read`` raises ``NotFoundError`` for a missing source. ``list`` yields
    documents only, never ``.metadata.json`` sidecars.
    """

    def list(self, prefix: str = "") -> Iterator[BlobInfo]: ...

    def read(self, source: str) -> Blob: ...

    def stat(self, source: str) -> BlobInfo | None: ...

    def put(self, source: str, data: bytes) -> BlobInfo: ...

    def delete(self, source: str) -> None:
        """Remove the source and its sidecar; missing is not an error."""


class Parser(Protocol):
    """Turns the bytes of one media type into text blocks.

    Raises a ``DocumentError`` subclass whose message tells the user what to do.
    """

    media_type: str

    def parse(self, data: bytes, source: str) -> ParsedDocument: ...


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...


class Chunker(Protocol):
    """Splits a parsed document into token-bounded, overlapping chunks.

    Deterministic: the same document always gives the same chunks. No chunk
    exceeds the embedder's token limit.
    """

    def chunk(self, document: ParsedDocument) -> list[Chunk]: ...


class Embedder(Protocol):
    """Text to unit-length vectors.

    ``embed_documents`` returns one vector per text, in order. Throttling is
    retried inside the adapter; what still fails raises ``BackendError``.
    """

    model_id: str
    dimension: int
    max_tokens: int

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, text: str) -> int: ...


class VectorIndex(Protocol):
    """Chunks with vectors, searchable by keywords (BM25) and by vector.

    ``write`` upserts by ``chunk_id`` and deletes the given ids; deleting a
    missing id is not an error. Locally the whole call is atomic. Searches see
    only the caller's tenant and return at most ``k`` hits, best first.
    """

    dimension: int

    def write(self, upserts: Sequence[IndexedChunk], deletes: Sequence[str] = ()) -> None: ...

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, StoredVector]:
        """Stored vectors of the ids that exist (so unchanged chunks skip embedding)."""

    def chunks_of(self, document_id: str) -> list[IndexedChunk]:
        """Every chunk of a document, by ordinal, without vectors."""

    def keyword_search(self, text: str, k: int, *, tenant: str, filter: Filter | None = None) -> list[Hit]: ...

    def vector_search(
        self, vector: Sequence[float], k: int, *, tenant: str, filter: Filter | None = None
    ) -> list[Hit]: ...

    def count(self) -> int: ...


class DocumentRegistry(Protocol):
    """One record per document: what was ingested, when, and how it went.

    ``put`` is conditional on versions: when the stored record has a newer
    ``version`` than the one written, it raises ``StaleVersionError`` and keeps
    the stored record, so out-of-order events cannot go back in time.
    """

    def get(self, document_id: str) -> DocumentRecord | None: ...

    def put(self, record: DocumentRecord) -> None: ...

    def list(
        self,
        tenant: str,
        *,
        status: DocumentStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[DocumentRecord], str | None]: ...


class Generator(Protocol):
    """Writes an answer grounded in the given hits, citing them by marker.

    When the hits do not answer the question it says so and sets
    ``answered=False`` rather than quoting noise.
    """

    model_id: str

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer: ...

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """Yield text pieces as they come, then the final ``Answer``."""


@dataclass(frozen=True)
class ServedAnswer:
    """An answer as the API served it, kept so feedback can point back at it."""

    answer_id: str
    tenant: str
    question: str
    answer: Mapping[str, Any]
    """The response body that was served (answer text, citations, usage...)."""
    created_at: float = 0.0


@dataclass(frozen=True)
class Feedback:
    """What a user said about one served answer."""

    feedback_id: str
    answer_id: str
    tenant: str
    rating: str
    """up | down."""
    comment: str
    question: str
    answer: Mapping[str, Any]
    created_at: float = 0.0

    @classmethod
    def on(cls, served: ServedAnswer | None, answer_id: str, *, rating: str, comment: str,
           created_at: float) -> Feedback:
        """New feedback on a served answer, carrying its question and answer; ``NotFoundError`` when none."""
        if served is None:
            raise NotFoundError(f"no answer with id {answer_id!r}; send the answer_id returned by /v1/answer")
        return cls(
            feedback_id=uuid.uuid4().hex, answer_id=answer_id, tenant=served.tenant, rating=rating, comment=comment,
            question=served.question, answer=served.answer, created_at=created_at,
        )


class FeedbackStore(Protocol):
    """Served answers and the feedback users give on them.

    ``record_answer`` stores one served answer; recording the same id again
    replaces it. ``add_feedback`` copies the question, answer and citations of
    the answer into the feedback row, and raises ``NotFoundError`` when the
    answer id was never recorded for that tenant. Storage failures raise
    ``BackendError``.
    """

    def record_answer(self, served: ServedAnswer) -> None: ...

    def get_answer(self, answer_id: str, *, tenant: str) -> ServedAnswer | None: ...

    def add_feedback(self, answer_id: str, *, tenant: str, rating: str, comment: str = "") -> Feedback: ...
