"""Documents: list, inspect, upload and delete (``/v1/documents``)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi import Path as PathParam

from sluice.api.dependencies import RegistryDep, SettingsDep, Tenant, UploadsDep, WiringDep
from sluice.api.errors import RequestTooLargeError, error_responses
from sluice.api.schemas import MAX_ID_CHARS, DeleteResponse, DocumentList, DocumentOut, UploadResponse
from sluice.domain.errors import EmptyDocumentError, InvalidRequestError, NotFoundError, UnsupportedDocumentError
from sluice.domain.models import DocumentRecord, DocumentStatus
from sluice.ports import DocumentRegistry

router = APIRouter(prefix="/v1", tags=["documents"])
MAX_CURSOR_CHARS = 256
DocumentId = Annotated[str, PathParam(max_length=MAX_ID_CHARS, description="The document id.")]


@router.get("/documents", response_model=DocumentList, responses=error_responses(422, 503))
def list_documents(
    tenant: Tenant,
    registry: RegistryDep,
    status: DocumentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
) -> DocumentList:
    """Documents of the caller's tenant, by id, a page at a time."""
    records, following = registry.list(tenant, status=status, limit=limit, cursor=cursor)
    return DocumentList(documents=[DocumentOut.of(r) for r in records], next=following)


@router.get("/documents/{document_id}", response_model=DocumentOut, responses=error_responses(404, 422, 503))
def get_document(document_id: DocumentId, tenant: Tenant, registry: RegistryDep) -> DocumentOut:
    """Status of one document: indexed, pending, failed (with the reason) or deleted."""
    return DocumentOut.of(_record(registry, document_id, tenant))


@router.post(
    "/documents",
    status_code=201,
    response_model=UploadResponse,
    responses={202: {"model": UploadResponse, "description": "Stored; it is ingested shortly (status pending)."},
               **error_responses(400, 413, 415, 422, 503)},
)
def upload_document(
    file: Annotated[UploadFile, File(description="The document; its name's extension says how to read it.")],
    tenant: Tenant,
    request: Request,
    response: Response,
    wiring: WiringDep,
    settings: SettingsDep,
    uploads: UploadsDep,
) -> UploadResponse:
    """Store a file and ingest it.

    Locally it is ingested before the answer (201, with its final status and why it failed). On AWS it is stored
    in the documents bucket and ingested by its S3 event (202, status pending): poll the status URL.
    """
    name = _checked_name(file.filename)
    data = file.file.read(settings.max_file_bytes + 1)
    if len(data) > settings.max_file_bytes:
        raise RequestTooLargeError(
            f"the file is over the {settings.max_file_bytes} byte upload limit (max_file_bytes); "
            "split it or raise SLUICE_MAX_FILE_BYTES",
            details={"limit": "max_file_bytes", "max_file_bytes": settings.max_file_bytes},
        )
    if not data:
        raise EmptyDocumentError(f"{name} is empty; upload a file with text in it")
    # Uploads of one name are serialised: the stored bytes and the index always belong to the same upload.
    with wiring.source_locks.hold(uploads.source_for(name, tenant)):
        outcome = uploads.upload(name, data, tenant=tenant)
    status_url = f"{request.scope.get('root_path', '')}/v1/documents/{outcome.document_id}"
    response.headers["Location"] = status_url
    if outcome.deferred:
        response.status_code = 202
    return UploadResponse(document=outcome.document_id, source=outcome.source, status=outcome.status,
                          status_url=status_url, reason=outcome.reason, code=outcome.code)


@router.delete("/documents/{document_id}", response_model=DeleteResponse, responses=error_responses(404, 422, 503))
def delete_document(
    document_id: DocumentId,
    tenant: Tenant,
    wiring: WiringDep,
    registry: RegistryDep,
    uploads: UploadsDep,
) -> DeleteResponse:
    """Remove a document's chunks from the index; a file that was uploaded through the API is removed too."""
    record = _record(registry, document_id, tenant)
    uploaded = uploads.is_upload(record.source, tenant)
    key = uploads.source_for(record.source, tenant) if uploaded else record.source
    with wiring.source_locks.hold(key):
        record = _record(registry, document_id, tenant)
        if record.status is DocumentStatus.DELETED:
            raise NotFoundError(f"document {document_id} was already deleted", details={"document": document_id})
        uploads.delete(record)
    return DeleteResponse(document=document_id, deleted=True)


def _record(registry: DocumentRegistry, document_id: str, tenant: str) -> DocumentRecord:
    record = registry.get(document_id)
    if record is None or record.tenant != tenant:
        raise NotFoundError(f"no document with id {document_id!r}; list them with GET /v1/documents",
                            details={"document": document_id})
    return record


def _checked_name(filename: str | None) -> str:
    from sluice.adapters.text.parsers import SUPPORTED_EXTENSIONS, is_supported

    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not name or name.startswith("."):
        raise InvalidRequestError("the uploaded file needs a name with an extension, such as report.pdf",
                                  details={"field": "file"})
    if not is_supported(name):
        supported = list(SUPPORTED_EXTENSIONS)
        raise UnsupportedDocumentError(
            f"Sluice cannot read {name}; upload one of these types: {', '.join(supported)}",
            details={"supported": supported},
        )
    return name
