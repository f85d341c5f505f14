"""DocumentUploads: a file sent to the API is stored, then ingested now or by its storage event.

Two modes, chosen once by ``bootstrap`` for the backend:

- inline (local): the file is written to the uploads folder and ingested
  before the response, which carries its final status (201);
- deferred (AWS): the query function carries no parsers (they live in the
  ingest function's layer), so the file is stored in the documents bucket and
  its registry record marked pending; the bucket's S3 event ingests it like
  any other object, and the caller polls the status URL (202).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from sluice.domain.errors import SluiceError, StaleVersionError
from sluice.domain.ids import document_id
from sluice.domain.models import DocumentRecord, DocumentStatus
from sluice.domain.tenancy import Tenancy
from sluice.ports import BlobSource, DocumentRegistry
from sluice.services.ingest import IngestService


@dataclass(frozen=True)
class UploadOutcome:
    document_id: str
    source: str
    status: DocumentStatus
    deferred: bool
    """True when the document is ingested later, by the event of the stored object."""
    reason: str = ""
    code: str = ""


class DocumentUploads:
    """Stores uploads where the tenancy rules put them and has them ingested (see the module docstring)."""

    def __init__(
        self,
        *,
        blobs: BlobSource,
        registry: DocumentRegistry,
        ingest: IngestService,
        tenancy: Tenancy,
        inline: bool,
        local_upload_root: str = "",
    ) -> None:
        self._blobs = blobs
        self._registry = registry
        self._ingest = ingest
        self._tenancy = tenancy
        self.inline = inline
        self._local_root = local_upload_root.rstrip("/") + "/" if local_upload_root else ""

    def source_for(self, name: str, tenant: str) -> str:
        """The key an upload called ``name`` is stored under for ``tenant``."""
        return self._tenancy.upload_source(tenant, PurePosixPath(name).name)

    def is_upload(self, source: str, tenant: str) -> bool:
        """Whether the API stored ``source`` (so deleting the document removes the file too)."""
        return self._tenancy.is_upload(source, tenant) or bool(self._local_root and source.startswith(self._local_root))

    def upload(self, name: str, data: bytes, *, tenant: str) -> UploadOutcome:
        """Store ``data`` as ``name`` for ``tenant``; ingest it now when inline."""
        source = self.source_for(name, tenant)
        if not self.inline:
            return self._store_for_later(source, data, tenant)
        info = self._blobs.put(source, data)
        outcome = self._ingest.ingest(info.source, tenant=tenant)
        record = self._registry.get(outcome.document_id)
        status = record.status if record else DocumentStatus.FAILED
        return UploadOutcome(outcome.document_id, info.source, status, False, outcome.reason, outcome.code)

    def delete(self, record: DocumentRecord) -> None:
        """Remove a document's chunks, and its file when the API stored it."""
        self._ingest.delete(record.source, tenant=record.tenant)
        if self.is_upload(record.source, record.tenant):
            self._blobs.delete(record.source)

    def _store_for_later(self, source: str, data: bytes, tenant: str) -> UploadOutcome:
        doc_id = document_id(tenant, source)
        previous = self._registry.get(doc_id)
        # Pending first, then the object: its S3 event can only come after, so it always ends the pending state.
        # Keeping the previous version and chunk count keeps out-of-order protection and stale-chunk cleanup.
        pending = (
            replace(previous, status=DocumentStatus.PENDING, error="", error_code="", size=len(data))
            if previous
            else DocumentRecord(document_id=doc_id, tenant=tenant, source=source, status=DocumentStatus.PENDING,
                                size=len(data))
        )
        self._put(pending)
        try:
            info = self._blobs.put(source, data)
        except SluiceError:
            self._put(previous or replace(pending, status=DocumentStatus.FAILED, error_code="upload_failed",
                                          error="the upload could not be stored; send it again"))
            raise
        return UploadOutcome(doc_id, info.source, DocumentStatus.PENDING, True)

    def _put(self, record: DocumentRecord) -> None:
        try:
            self._registry.put(record)
        except StaleVersionError:
            pass  # an event for a newer object of this key was recorded meanwhile; its state stands
