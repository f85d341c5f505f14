"""IngestService: a source in, its chunks indexed and its registry record updated.

The same code runs for a folder on a laptop and for S3 events in Lambda. The
order of steps is what keeps the invariants of DESIGN §4:

1. a stale version (older than the registry's) is a no-op;
2. unchanged bytes and sidecar are skipped with zero embedding calls;
3. the registry is marked pending with a chunk-count high-water mark before
   the index is touched, so a crash can always find every id to delete;
4. chunks whose embedded text is unchanged reuse their stored vectors;
5. one index write upserts the new chunks and deletes the old ones;
6. the record becomes indexed, or failed with a reason a user can act on,
   and a failed document leaves no chunks behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from sluice.domain.errors import (
    BackendError,
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    NotFoundError,
    StaleVersionError,
)
from sluice.domain.ids import chunk_id, chunk_ids, content_hash, document_id, sha256_bytes
from sluice.domain.models import (
    Blob,
    Chunk,
    DocumentOutcome,
    DocumentRecord,
    DocumentStatus,
    IndexedChunk,
    IngestReport,
    Metadata,
    ParsedDocument,
)
from sluice.domain.versions import is_older
from sluice.ports import BlobSource, Chunker, DocumentRegistry, Embedder, Parser, VectorIndex

Progress = Callable[[DocumentOutcome], None]


@dataclass(frozen=True)
class IngestLimits:
    max_file_bytes: int = 100 * 1024 * 1024
    max_sidecar_bytes: int = 10 * 1024


@dataclass
class TextPipeline:
    """Bytes to chunks: the parts shared by every backend."""

    parser_for: Callable[[str], Parser]
    clean: Callable[[ParsedDocument], ParsedDocument]
    chunker: Chunker
    parse_sidecar: Callable[[bytes, int], Metadata]
    embed_text: Callable[[str, Chunk], str]


class IngestService:
    """Keeps the index and the registry in step with the documents of a source."""

    def __init__(
        self,
        *,
        blobs: BlobSource,
        pipeline: TextPipeline,
        embedder: Embedder,
        index: VectorIndex,
        registry: DocumentRegistry,
        tenant: str,
        limits: IngestLimits = IngestLimits(),
    ) -> None:
        self._blobs = blobs
        self._pipeline = pipeline
        self._embedder = embedder
        self._index = index
        self._registry = registry
        self._tenant = tenant
        self._limits = limits
        self.embedding_calls = 0

    @property
    def tenant(self) -> str:
        """The tenant of calls that name none."""
        return self._tenant

    def ingest(self, source: str, version: str = "", *, tenant: str | None = None) -> DocumentOutcome:
        """Bring one source of ``tenant`` (default: the configured one) up to date.

        ``DocumentError``s end as a failed record.
        """
        started = time.perf_counter()
        tenant = tenant or self._tenant
        doc_id = document_id(tenant, source)
        previous = self._registry.get(doc_id)
        if previous and is_older(version, previous.version):
            return DocumentOutcome(source, doc_id, "stale")
        # An event without a version must not erase the newest version seen so far.
        version = version or (previous.version if previous else "")
        info = self._blobs.stat(source)
        if info is None:
            return self.delete(source, version, tenant=tenant)
        if info.size > self._limits.max_file_bytes:
            error = DocumentTooLargeError(_too_large(info.size, self._limits.max_file_bytes))
            return self._fail(tenant, doc_id, source, version, previous, error, started)
        try:
            blob = self._blobs.read(source)
        except NotFoundError:
            return self.delete(source, version, tenant=tenant)
        return self._ingest_blob(tenant, doc_id, blob, version, previous, started)

    def ingest_many(self, sources: Iterable[str], progress: Progress | None = None) -> IngestReport:
        """Ingest each source; one failure never stops the others."""
        started = time.perf_counter()
        calls_before = self.embedding_calls
        report = IngestReport()
        for source in sources:
            try:
                outcome = self.ingest(source)
            except (BackendError, StaleVersionError) as exc:
                outcome = DocumentOutcome(source, document_id(self._tenant, source), "failed", reason=str(exc),
                                          code=exc.code)
            report.outcomes.append(outcome)
            if progress:
                progress(outcome)
        report.embedding_calls = self.embedding_calls - calls_before
        report.seconds = time.perf_counter() - started
        return report

    def sync(self, prefix: str, progress: Progress | None = None) -> IngestReport:
        """Ingest everything under ``prefix`` and delete documents under it whose source is gone.

        ``prefix`` is a source key (a resolved path locally), not a glob.
        """
        present = [info.source for info in self._blobs.list(prefix)]
        report = self.ingest_many(present, progress)
        keep = set(present)
        folder = prefix.rstrip("/") + "/" if prefix else ""
        for record in self._records():
            if record.status is DocumentStatus.DELETED or record.source in keep:
                continue
            if record.source == prefix or record.source.startswith(folder):
                outcome = self.delete(record.source)
                report.outcomes.append(outcome)
                if progress:
                    progress(outcome)
        return report

    def delete(self, source: str, version: str = "", *, tenant: str | None = None) -> DocumentOutcome:
        """Remove every chunk of a source of ``tenant`` (default: the configured one); unknown is a no-op."""
        doc_id = document_id(tenant or self._tenant, source)
        previous = self._registry.get(doc_id)
        if previous is None or previous.status is DocumentStatus.DELETED:
            return DocumentOutcome(source, doc_id, "missing")
        if is_older(version, previous.version):
            return DocumentOutcome(source, doc_id, "stale")
        version = version or previous.version
        self._index.write([], chunk_ids(doc_id, 0, previous.chunk_count))
        record = replace(previous, status=DocumentStatus.DELETED, chunk_count=0, version=version,
                         error="", error_code="")
        self._put(record)
        return DocumentOutcome(source, doc_id, "deleted")

    def recover(self) -> IngestReport:
        """Finish what a crash interrupted: every pending document is ingested again."""
        pending = [r.source for r in self._records() if r.status is DocumentStatus.PENDING]
        return self.ingest_many(pending)

    def _ingest_blob(
        self, tenant: str, doc_id: str, blob: Blob, version: str, previous: DocumentRecord | None, started: float
    ) -> DocumentOutcome:
        sha = sha256_bytes(blob.data)
        meta_sha = sha256_bytes(blob.sidecar) if blob.sidecar is not None else ""
        if _unchanged(previous, sha, meta_sha):
            return DocumentOutcome(blob.source, doc_id, "unchanged", chunks=previous.chunk_count if previous else 0)
        record = DocumentRecord(
            document_id=doc_id, tenant=tenant, source=blob.source, status=DocumentStatus.PENDING,
            version=version, sha256=sha, metadata_sha256=meta_sha, size=len(blob.data),
            chunk_count=previous.chunk_count if previous else 0,
        )
        try:
            return self._index_blob(record, blob, started)
        except DocumentError as exc:
            return self._fail(tenant, doc_id, blob.source, version, previous, exc, started, record)

    def _index_blob(self, record: DocumentRecord, blob: Blob, started: float) -> DocumentOutcome:
        timings: dict[str, float] = {}
        mark = time.perf_counter()
        metadata = self._pipeline.parse_sidecar(blob.sidecar, self._limits.max_sidecar_bytes) if blob.sidecar else {}
        parsed = self._pipeline.clean(self._pipeline.parser_for(blob.source).parse(blob.data, blob.source))
        chunks = self._pipeline.chunker.chunk(parsed)
        if not chunks:
            raise EmptyDocumentError("the document has no text to index; check that it is not empty or scanned")
        timings["parse_s"], mark = time.perf_counter() - mark, time.perf_counter()
        old_count = record.chunk_count
        record.title, record.chunk_count = parsed.title, max(old_count, len(chunks))
        self._put(record)
        indexed, embedded, tokens = self._embed(record, chunks, metadata)
        timings["embed_s"], mark = time.perf_counter() - mark, time.perf_counter()
        self._index.write(indexed, chunk_ids(record.document_id, len(chunks), record.chunk_count))
        timings["index_s"] = time.perf_counter() - mark
        record = replace(record, status=DocumentStatus.INDEXED, chunk_count=len(chunks), token_count=tokens,
                         timings=timings)
        self._put(record)
        return DocumentOutcome(record.source, record.document_id, "indexed", chunks=len(chunks), embedded=embedded,
                               tokens=tokens, seconds=time.perf_counter() - started)

    def _embed(
        self, record: DocumentRecord, chunks: Sequence[Chunk], metadata: Metadata
    ) -> tuple[list[IndexedChunk], int, int]:
        texts = [self._pipeline.embed_text(record.title, c) for c in chunks]
        hashes = [content_hash(t) for t in texts]
        ids = [chunk_id(record.document_id, c.ordinal) for c in chunks]
        stored = self._index.vectors(ids)
        missing = [n for n, cid in enumerate(ids) if cid not in stored or stored[cid].content_hash != hashes[n]]
        vectors: dict[int, list[float]] = {n: stored[cid].vector for n, cid in enumerate(ids) if n not in missing}
        tokens = 0
        if missing:
            fresh = self._embedder.embed_documents([texts[n] for n in missing])
            self.embedding_calls += 1
            vectors.update(zip(missing, fresh))
            tokens = sum(self._embedder.count_tokens(texts[n]) for n in missing)
        indexed = [
            IndexedChunk(
                chunk_id=ids[n], document_id=record.document_id, tenant=record.tenant, source=record.source,
                title=record.title, text=c.text, vector=vectors[n], ordinal=c.ordinal, content_hash=hashes[n],
                document_version=record.sha256[:16], heading_path=c.heading_path, page_start=c.page_start,
                page_end=c.page_end, char_start=c.char_start, char_end=c.char_end, metadata=metadata,
            )
            for n, c in enumerate(chunks)
        ]
        return indexed, len(missing), tokens

    def _fail(
        self,
        tenant: str,
        doc_id: str,
        source: str,
        version: str,
        previous: DocumentRecord | None,
        error: DocumentError,
        started: float,
        record: DocumentRecord | None = None,
    ) -> DocumentOutcome:
        stale_count = max(previous.chunk_count if previous else 0, record.chunk_count if record else 0)
        if stale_count:
            self._index.write([], chunk_ids(doc_id, 0, stale_count))
        failed = record or DocumentRecord(document_id=doc_id, tenant=tenant, source=source,
                                          status=DocumentStatus.FAILED, version=version)
        failed = replace(failed, status=DocumentStatus.FAILED, chunk_count=0, error=error.reason,
                         error_code=error.code)
        self._put(failed)
        return DocumentOutcome(source, doc_id, "failed", reason=error.reason, code=error.code,
                               seconds=time.perf_counter() - started)

    def _put(self, record: DocumentRecord) -> None:
        self._registry.put(record)

    def _records(self) -> list[DocumentRecord]:
        records: list[DocumentRecord] = []
        cursor: str | None = None
        while True:
            page, cursor = self._registry.list(self._tenant, limit=500, cursor=cursor)
            records.extend(page)
            if cursor is None:
                return records


def _unchanged(previous: DocumentRecord | None, sha: str, meta_sha: str) -> bool:
    return (
        previous is not None
        and previous.status is DocumentStatus.INDEXED
        and previous.sha256 == sha
        and previous.metadata_sha256 == meta_sha
    )


def _too_large(size: int, limit: int) -> str:
    return (
        f"the file is {_size(size)}, over the {_size(limit)} limit; split it into smaller files "
        "or raise SLUICE_MAX_FILE_BYTES"
    )



def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
