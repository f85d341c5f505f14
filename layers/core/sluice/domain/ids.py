"""Deterministic ids: the same tenant and source always give the same ids.

``chunk_id`` is ``document_id`` plus an ordinal, so an overwrite upserts chunk n
in place and the registry's old chunk count names exactly which ids to delete.
"""

from __future__ import annotations

import hashlib

_SEP = "\x1f"


def document_id(tenant: str, source: str) -> str:
    """Stable 24-hex id of a document from its tenant and source key."""
    digest = hashlib.sha256(f"{tenant}{_SEP}{source}".encode()).hexdigest()
    return digest[:24]


def chunk_id(doc_id: str, ordinal: int) -> str:
    return f"{doc_id}-{ordinal:05d}"


def chunk_ids(doc_id: str, start: int, stop: int) -> list[str]:
    return [chunk_id(doc_id, n) for n in range(start, stop)]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
