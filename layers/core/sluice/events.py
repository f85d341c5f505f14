"""Lambda events in domain terms: pure functions, so handlers stay thin and this stays unit-tested.

S3 notifications arrive in SQS message bodies. Each S3 record becomes an
``ObjectChange``: which source to ingest or delete, and at which version (the
S3 ``sequencer``, which orders events of one key). Rules:

- keys are URL-encoded in events (``a+b%2Fc.pdf`` is ``a b/c.pdf``): decoded
  with ``unquote_plus``;
- ``s3:TestEvent`` (sent when notifications are configured) carries no change;
- ``ObjectCreated:*`` ingests; ``ObjectRemoved:DeleteMarkerCreated`` and an
  unversioned ``ObjectRemoved:Delete`` delete; removing one version of a
  versioned key ingests, which re-reads the key and deletes only when no
  version is left;
- a sidecar ``x.pdf.metadata.json`` (created or removed) re-ingests ``x.pdf``.
  Sequencers order events of one key only, so a sidecar's is not the
  document's: the change carries no version (never stale);
- each change carries its document's tenant (``sluice.domain.tenancy``); in
  multi-tenant mode a key outside ``tenants/<tenant>/`` changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote_plus

from sluice.domain.tenancy import Tenancy

SIDECAR_SUFFIX = ".metadata.json"
TEST_EVENT = "s3:TestEvent"


class UnrecognisedEventError(ValueError):
    """A message that is not an S3 notification; it is retried, then lands in the DLQ for a person to read."""


@dataclass(frozen=True)
class ObjectChange:
    """One S3 event as the ingest service needs it."""

    action: Literal["ingest", "delete"]
    source: str
    """The document's key relative to the configured prefix (a sidecar's document, for a sidecar)."""
    version: str
    """The S3 sequencer; empty when it does not order this document's events."""
    key: str
    """The decoded key the event was about."""
    event_name: str
    tenant: str = ""
    """The document's tenant; empty when no ``Tenancy`` was given (the ingest service's own tenant)."""


def object_changes(
    body: str | Mapping[str, Any], *, prefix: str = "", tenancy: Tenancy | None = None
) -> list[ObjectChange]:
    """The changes an SQS message body (an S3 event notification) carries, in order."""
    notification = _json(body)
    if notification.get("Event") == TEST_EVENT:
        return []
    records = notification.get("Records")
    if not isinstance(records, list):
        raise UnrecognisedEventError("the message is not an S3 event notification: it has no Records list")
    changes = (change_of(record, prefix=prefix, tenancy=tenancy) for record in records)
    return [change for change in changes if change is not None]


def change_of(
    record: Mapping[str, Any], *, prefix: str = "", tenancy: Tenancy | None = None
) -> ObjectChange | None:
    """The change of one S3 record; ``None`` for events that change nothing Sluice keeps."""
    try:
        name = str(record["eventName"])
        obj = record["s3"]["object"]
        key = decode_key(str(obj["key"]))
    except (KeyError, TypeError) as exc:
        raise UnrecognisedEventError(f"an S3 record lacks eventName or s3.object.key: {exc}") from exc
    source = source_of(key, prefix)
    action = _action(name, obj)
    tenant = tenancy.tenant_of(source) if tenancy and source else ""
    if source is None or action is None or tenant is None:
        return None
    if is_sidecar(key):
        return ObjectChange("ingest", source, "", key, name, tenant)
    return ObjectChange(action, source, str(obj.get("sequencer", "")), key, name, tenant)


def decode_key(key: str) -> str:
    """An S3 event key as the object's real key (events encode spaces as ``+`` and ``/`` as ``%2F``)."""
    return unquote_plus(key)


def is_sidecar(key: str) -> bool:
    return key.endswith(SIDECAR_SUFFIX) and len(key) > len(SIDECAR_SUFFIX)


def source_of(key: str, prefix: str = "") -> str | None:
    """The document a decoded key stands for; ``None`` outside ``prefix`` and for folder keys."""
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    if not key.startswith(prefix) or key.endswith("/"):
        return None
    source = key[len(prefix) :]
    if is_sidecar(source):
        source = source.removesuffix(SIDECAR_SUFFIX)
    return source or None


def tenant_from_claims(event: Mapping[str, Any], claims: Sequence[str]) -> str | None:
    """The first non-empty claim of ``claims`` in an HTTP API (payload 2.0) event's JWT authorizer context."""
    context = event.get("requestContext") or {}
    jwt = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    for name in claims:
        value = jwt.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _action(name: str, obj: Mapping[str, Any]) -> Literal["ingest", "delete"] | None:
    if name.startswith("ObjectCreated:"):
        return "ingest"
    if name == "ObjectRemoved:Delete" and obj.get("versionId"):
        return "ingest"  # one version of a versioned key went; the key may still have a current version
    if name.startswith("ObjectRemoved:"):
        return "delete"
    return None


def _json(body: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise UnrecognisedEventError("the message body is not JSON, so not an S3 event notification") from exc
    if not isinstance(parsed, Mapping):
        raise UnrecognisedEventError("the message body is JSON but not an object")
    return parsed
