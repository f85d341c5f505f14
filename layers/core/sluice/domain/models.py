"""Plain data passed between services and adapters."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Union

MetadataValue = Union[str, int, float, bool, list[str]]
Metadata = dict[str, MetadataValue]


class DocumentStatus(str, enum.Enum):
    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"
    DELETED = "deleted"


class SearchMode(str, enum.Enum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    KEYWORD = "keyword"


@dataclass(frozen=True)
class Blob:
    """The raw bytes of one source object and what the source knows of it."""

    source: str
    data: bytes
    version: str = ""
    """Orders versions of one source (the S3 sequencer); empty when unknown."""
    sidecar: bytes | None = None
    """The raw ``.metadata.json`` sidecar, when there is one."""


@dataclass(frozen=True)
class BlobInfo:
    source: str
    size: int
    version: str = ""


@dataclass(frozen=True)
class Block:
    """A run of text the parser found, with where it came from."""

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    kind: str = "paragraph"
    """paragraph | heading | table | list | code."""


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    blocks: list[Block]
    media_type: str
    page_count: int | None = None


@dataclass(frozen=True)
class Chunk:
    """A token-bounded passage of a document, ready to embed."""

    text: str
    ordinal: int
    heading_path: tuple[str, ...] = ()
    page_start: int | None = None
    page_end: int | None = None
    char_start: int = 0
    char_end: int = 0
    token_count: int = 0


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk as the index stores it: text, vector and everything a citation needs."""

    chunk_id: str
    document_id: str
    tenant: str
    source: str
    title: str
    text: str
    vector: list[float] | None
    ordinal: int
    content_hash: str
    document_version: str
    heading_path: tuple[str, ...] = ()
    page_start: int | None = None
    page_end: int | None = None
    char_start: int = 0
    char_end: int = 0
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True)
class StoredVector:
    chunk_id: str
    content_hash: str
    vector: list[float]


@dataclass(frozen=True)
class Hit:
    chunk: IndexedChunk
    score: float
    highlights: tuple[str, ...] = ()


@dataclass
class DocumentRecord:
    """What the registry knows of one document."""

    document_id: str
    tenant: str
    source: str
    status: DocumentStatus
    version: str = ""
    sha256: str = ""
    metadata_sha256: str = ""
    size: int = 0
    title: str = ""
    chunk_count: int = 0
    """Upper bound of chunk ordinals that may exist in the index."""
    token_count: int = 0
    error: str = ""
    error_code: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Citation:
    marker: int
    document_id: str
    source: str
    title: str
    page: int | None
    quote: str
    chunk_id: str
    score: float = 0.0


@dataclass
class Usage:
    embedding_tokens: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_cost_usd: float | None = None


@dataclass
class Answer:
    text: str
    answered: bool
    citations: list[Citation]
    usage: Usage = field(default_factory=Usage)
    timings: dict[str, float] = field(default_factory=dict)
    answer_id: str = ""
    model: str = ""


@dataclass
class DocumentOutcome:
    source: str
    document_id: str
    outcome: str
    """indexed | unchanged | deleted | failed | stale."""
    chunks: int = 0
    embedded: int = 0
    tokens: int = 0
    seconds: float = 0.0
    reason: str = ""
    code: str = ""


@dataclass
class IngestReport:
    outcomes: list[DocumentOutcome] = field(default_factory=list)
    embedding_calls: int = 0
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def failed(self) -> list[DocumentOutcome]:
        return [o for o in self.outcomes if o.outcome == "failed"]

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.outcome == "indexed")

    @property
    def tokens(self) -> int:
        return sum(o.tokens for o in self.outcomes)


@dataclass
class SearchResult:
    hits: list[Hit]
    mode: SearchMode
    timings: dict[str, float] = field(default_factory=dict)
    embedding_tokens: int = 0
