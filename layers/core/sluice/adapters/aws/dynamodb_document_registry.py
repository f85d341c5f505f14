"""DocumentRegistry on DynamoDB: one item per document, keyed by ``document_id``.

Out-of-order S3 events are stopped by the write itself, not by a read before
it: ``put`` is an ``UpdateItem`` conditioned on the stored ``version_key``, so
two Lambdas racing on one key cannot let the older version win.

``version_key`` is the version made comparable as a plain string: S3
sequencers are hex strings of varying length, ordered after left-padding with
zeros (``sluice.domain.versions``), so the key is the lowercased version
zero-padded to ``VERSION_WIDTH``. S3 sequencers are far shorter than that; a
longer version is stored unpadded and compares as a plain string. An empty
version is "unknown" and is never blocked, as in ``is_older``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from sluice.adapters.aws.dynamodb_errors import call_table, table_error
from sluice.adapters.aws.retry import RetryPolicy, error_code, sdk_config
from sluice.domain.errors import (
    ConfigurationError,
    InvalidRequestError,
    SluiceError,
    StaleVersionError,
)
from sluice.domain.models import DocumentRecord, DocumentStatus

T = TypeVar("T")

TENANT_INDEX = "by_tenant"
VERSION_WIDTH = 32
_STRINGS = ("tenant", "source", "version", "sha256", "metadata_sha256", "title", "error", "error_code")
_INTEGERS = ("size", "chunk_count", "token_count")


def table_definition(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments for the registry table; template.yaml must declare the same."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": "document_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "document_id", "AttributeType": "S"},
            {"AttributeName": "tenant", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": TENANT_INDEX,
                "KeySchema": [
                    {"AttributeName": "tenant", "KeyType": "HASH"},
                    {"AttributeName": "document_id", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def version_key(version: str) -> str:
    """``version`` as a string that sorts like ``is_older`` orders versions ("" when unknown)."""
    return version.lower().zfill(VERSION_WIDTH) if version else ""


class DynamoDbDocumentRegistry:
    """Registry records in a DynamoDB table shaped by ``table_definition``."""

    def __init__(self, table_name: str, *, client: Any = None, retry: RetryPolicy | None = None) -> None:
        if not table_name:
            raise ConfigurationError("no registry table is configured")
        self.table_name = table_name
        self._client = client or _client()
        self._retry = retry or RetryPolicy()

    def get(self, document_id: str) -> DocumentRecord | None:
        # Consistent: the stale-version check of the ingest service must see the latest write.
        response = self._call(
            lambda: self._client.get_item(
                TableName=self.table_name, Key={"document_id": {"S": document_id}}, ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _record(item) if item else None

    def put(self, record: DocumentRecord) -> None:
        """Write every field; keep ``created_at``; ``StaleVersionError`` when a newer version is stored."""
        now = time.time()
        request = _update_request(self.table_name, record, now)
        try:
            response = self._retry.call(lambda: self._client.update_item(**request))
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise StaleVersionError(
                    f"version {record.version} of {record.source} is older than the one the registry holds"
                ) from exc
            raise self._error(exc) from exc
        except BotoCoreError as exc:
            raise self._error(exc) from exc
        record.created_at = float(response["Attributes"]["created_at"]["N"])
        record.updated_at = now

    def list(
        self,
        tenant: str,
        *,
        status: DocumentStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[DocumentRecord], str | None]:
        """Records of ``tenant`` by ``document_id``; the cursor is opaque and ``None`` on the last page."""
        if limit < 1:
            raise InvalidRequestError(f"limit must be at least 1, got {limit}")
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": TENANT_INDEX,
            "KeyConditionExpression": "tenant = :tenant",
            "ExpressionAttributeValues": {":tenant": {"S": tenant}},
        }
        if status is not None:
            request["FilterExpression"] = "#status = :status"
            request["ExpressionAttributeNames"] = {"#status": "status"}
            request["ExpressionAttributeValues"][":status"] = {"S": status.value}
        if cursor:
            request["ExclusiveStartKey"] = _start_key(tenant, cursor)
        # One record past the page tells whether there is a next page, so the last page has no cursor.
        records: list[DocumentRecord] = []
        while len(records) <= limit:
            request["Limit"] = limit + 1 - len(records)
            response = self._call(lambda: self._client.query(**request))
            records.extend(_record(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        page = records[:limit]
        return page, (_encode_cursor(page[-1].document_id) if len(records) > limit else None)

    def _call(self, fn: Callable[[], T]) -> T:
        return call_table(self._retry, fn, self._error)

    def _error(self, exc: Exception, /) -> SluiceError:
        return table_error(
            exc, self.table_name, what="registry",
            missing=f"the registry table {self.table_name} (or its {TENANT_INDEX} index) does not exist; "
                   "deploy the stack or check the registry table setting",
        )


def _update_request(table_name: str, record: DocumentRecord, now: float) -> dict[str, Any]:
    values: dict[str, Any] = {f":{name}": {"S": str(getattr(record, name))} for name in _STRINGS}
    values.update({f":{name}": {"N": str(int(getattr(record, name)))} for name in _INTEGERS})
    values[":status"] = {"S": record.status.value}
    values[":version_key"] = {"S": version_key(record.version)}
    values[":timings"] = {"M": {k: {"N": repr(float(v))} for k, v in record.timings.items()}}
    values[":created_at"] = {"N": repr(float(record.created_at or now))}
    values[":now"] = {"N": repr(now)}
    fields = [*_STRINGS, *_INTEGERS, "status", "version_key", "timings"]
    names = {f"#{name}": name for name in fields} | {"#created_at": "created_at", "#updated_at": "updated_at"}
    assignments = [f"#{name} = :{name}" for name in fields]
    assignments += ["#created_at = if_not_exists(#created_at, :created_at)", "#updated_at = :now"]
    request: dict[str, Any] = {
        "TableName": table_name,
        "Key": {"document_id": {"S": record.document_id}},
        "UpdateExpression": "SET " + ", ".join(assignments),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
    }
    if record.version:
        names["#document_id"] = "document_id"
        request["ConditionExpression"] = (
            "attribute_not_exists(#document_id) OR attribute_not_exists(#version_key) OR #version_key <= :version_key"
        )
    return request


def _record(item: dict[str, Any]) -> DocumentRecord:
    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", ""))

    def number(name: str) -> str:
        return str(item.get(name, {}).get("N", "0"))

    fields: dict[str, Any] = {name: text(name) for name in _STRINGS}
    fields.update({name: int(number(name)) for name in _INTEGERS})
    timings = item.get("timings", {}).get("M", {})
    return DocumentRecord(
        document_id=text("document_id"),
        status=DocumentStatus(text("status")),
        created_at=float(number("created_at")),
        updated_at=float(number("updated_at")),
        timings={k: float(v["N"]) for k, v in timings.items()},
        **fields,
    )


def _encode_cursor(document_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": document_id}).encode()).decode().rstrip("=")


def _start_key(tenant: str, cursor: str) -> dict[str, Any]:
    """The GSI start key for a cursor; the tenant comes from the caller, never from the cursor."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = decoded["after"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidRequestError("the cursor is not one this API returned; start again without it") from exc
    if not isinstance(after, str) or not after:
        raise InvalidRequestError("the cursor is not one this API returned; start again without it")
    return {"tenant": {"S": tenant}, "document_id": {"S": after}}


def _client() -> Any:
    import boto3

    return boto3.client("dynamodb", config=sdk_config())
