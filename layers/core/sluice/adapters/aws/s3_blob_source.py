"""BlobSource over an S3 bucket.

A source is an object key relative to ``prefix`` (``key = prefix + source``).
Sidecars are the Bedrock Knowledge Bases ``<key>.metadata.json`` objects next
to their documents. ``Blob.version`` stays empty: the order of versions comes
from the S3 event sequencer, which the ingest handler passes to
``IngestService.ingest`` itself.

S3 answers a GET or HEAD of a missing key with 403, not 404, when the caller
lacks ``s3:ListBucket``; give the role that permission on the bucket so a
missing sidecar reads as "no sidecar" rather than "access denied".
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from sluice.adapters.aws.retry import RetryPolicy, error_code, http_status, is_throttling, sdk_config
from sluice.domain.errors import BackendError, ConfigurationError, NotFoundError, SluiceError, ThrottledError
from sluice.domain.models import Blob, BlobInfo

T = TypeVar("T")

SIDECAR_SUFFIX = ".metadata.json"
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3BlobSource:
    """Documents (and their sidecars) under ``s3://bucket/prefix``.

    ``list`` skips sidecars and zero-byte "folder" keys ending in ``/``.
    ``read`` and ``stat`` of a missing key raise ``NotFoundError`` / return
    ``None``; any other S3 failure raises ``BackendError`` naming the object.
    """

    def __init__(self, bucket: str, *, prefix: str = "", client: Any = None, retry: RetryPolicy | None = None) -> None:
        if not bucket:
            raise ConfigurationError("no documents bucket is configured; set the documents bucket setting")
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._client = client or _client()
        self._retry = retry or RetryPolicy()

    def source_of(self, key: str) -> str | None:
        """The document source an S3 event key stands for (a sidecar stands for its document).

        ``None`` for keys outside the prefix and folder keys. The key must be
        URL-decoded already (S3 event keys are ``unquote_plus``-encoded).
        """
        if not key.startswith(self.prefix) or key.endswith("/"):
            return None
        source = key[len(self.prefix) :].removesuffix(SIDECAR_SUFFIX)
        return source or None

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        request = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        while True:
            try:
                page = self._call(lambda: self._client.list_objects_v2(**request))
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc, "list", self.prefix + prefix) from exc
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if not key.endswith("/") and not key.endswith(SIDECAR_SUFFIX):
                    yield BlobInfo(source=key[len(self.prefix) :], size=int(obj.get("Size", 0)))
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]

    def read(self, source: str) -> Blob:
        key = self._key(source)
        body = self._get(key)
        if body is None:
            raise NotFoundError(f"s3://{self.bucket}/{key} does not exist")
        return Blob(source=source, data=body, sidecar=self._get(key + SIDECAR_SUFFIX))

    def stat(self, source: str) -> BlobInfo | None:
        key = self._key(source)
        try:
            head = self._call(lambda: self._client.head_object(Bucket=self.bucket, Key=key))
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) in _MISSING or http_status(exc) == 404:
                return None
            raise self._error(exc, "read", key) from exc
        return BlobInfo(source=source, size=int(head.get("ContentLength", 0)))

    def put(self, source: str, data: bytes) -> BlobInfo:
        key = self._key(source)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        try:
            self._call(
                lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "write", key) from exc
        return BlobInfo(source=source, size=len(data))

    def delete(self, source: str) -> None:
        key = self._key(source)
        for target in (key, key + SIDECAR_SUFFIX):
            try:
                self._call(partial(self._client.delete_object, Bucket=self.bucket, Key=target))
            except (ClientError, BotoCoreError) as exc:
                if error_code(exc) not in _MISSING:
                    raise self._error(exc, "delete", target) from exc

    def _get(self, key: str) -> bytes | None:
        """The object's bytes, or ``None`` when it does not exist."""

        def fetch() -> bytes:
            data: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return data

        try:
            return self._call(fetch)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) in _MISSING:
                return None
            raise self._error(exc, "read", key) from exc

    def _key(self, source: str) -> str:
        if not source or source.endswith("/"):
            raise NotFoundError(f"{source!r} is not an object key; give the key of a file")
        return self.prefix + source

    def _call(self, fn: Callable[[], T]) -> T:
        return self._retry.call(fn)

    def _error(self, exc: Exception, action: str, key: str) -> SluiceError:
        where = f"s3://{self.bucket}/{key}"
        code = error_code(exc) or type(exc).__name__
        if is_throttling(exc):
            return ThrottledError(f"S3 is throttling requests to {where}; try again shortly")
        if code in {"AccessDenied", "403", "AllAccessDisabled", "KMS.DisabledException"}:
            return BackendError(
                f"access denied when trying to {action} {where}: the role needs s3:{_ACTIONS[action]} on the "
                "bucket (and kms:Decrypt when the bucket uses a KMS key)"
            )
        if code == "NoSuchBucket":
            return BackendError(f"the bucket {self.bucket} does not exist; check the documents bucket setting")
        return BackendError(f"cannot {action} {where}: {code}: {exc}")


_ACTIONS = {"list": "ListBucket", "read": "GetObject", "write": "PutObject", "delete": "DeleteObject"}


def _client() -> Any:
    import boto3

    return boto3.client("s3", config=sdk_config())
