"""The one error family of Sluice.

Every adapter turns the errors of its SDK into one of these at its edge
(``raise ... from exc``), so services and the API never see a botocore,
sqlite or tantivy exception::

    SluiceError
    ├── ConfigurationError        settings are missing or contradict each other
    ├── DocumentError             one document cannot be ingested (the batch goes on)
    │   ├── UnsupportedDocumentError   unknown extension or media type
    │   ├── DocumentTooLargeError      over the configured size limit
    │   ├── EmptyDocumentError         no text could be extracted
    │   ├── EncryptedDocumentError     password-protected PDF
    │   ├── CorruptDocumentError       the parser could not read the bytes
    │   └── MetadataError              malformed or oversized sidecar
    ├── NotFoundError             an unknown document or source
    ├── InvalidRequestError       a client mistake: bad filter, k out of range...
    │   └── FilterError
    ├── LimitExceededError        a request over a configured limit
    └── BackendError              a dependency failed (index, model, registry)
        └── ThrottledError        the dependency asked us to slow down; retryable

``DocumentError.reason`` is written for the person who owns the file: it says
what is wrong and what to do about it.
"""

from __future__ import annotations


class SluiceError(Exception):
    """Base of every error Sluice raises on purpose."""

    code = "sluice_error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigurationError(SluiceError):
    """Settings are missing, malformed or contradict each other."""

    code = "configuration_error"


class DocumentError(SluiceError):
    """One document cannot be ingested; its registry record keeps ``reason``."""

    code = "document_error"

    @property
    def reason(self) -> str:
        return self.message


class UnsupportedDocumentError(DocumentError):
    """The file type is not one Sluice can parse."""

    code = "unsupported_document"


class DocumentTooLargeError(DocumentError):
    """The file is over the configured size limit."""

    code = "document_too_large"


class EmptyDocumentError(DocumentError):
    """The file holds no extractable text (empty file, image-only PDF...)."""

    code = "empty_document"


class EncryptedDocumentError(DocumentError):
    """The file is password-protected."""

    code = "encrypted_document"


class CorruptDocumentError(DocumentError):
    """The parser could not read the file."""

    code = "corrupt_document"


class MetadataError(DocumentError):
    """The ``.metadata.json`` sidecar is malformed or too large."""

    code = "invalid_metadata"


class NotFoundError(SluiceError):
    """An unknown document id or source path."""

    code = "not_found"


class InvalidRequestError(SluiceError):
    """A client mistake, such as ``k`` out of range."""

    code = "invalid_request"


class FilterError(InvalidRequestError):
    """A metadata filter that does not follow the operator grammar."""

    code = "invalid_filter"


class LimitExceededError(InvalidRequestError):
    """A request above one of the configured limits."""

    code = "limit_exceeded"


class BackendError(SluiceError):
    """A dependency (index, model, registry, LLM endpoint) failed."""

    code = "backend_error"


class ThrottledError(BackendError):
    """The dependency is throttling; the call may be retried after a pause."""

    code = "throttled"


class StaleVersionError(SluiceError):
    """An event older than what the registry already holds; it must be a no-op."""

    code = "stale_version"
