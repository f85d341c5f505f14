"""Chunks as OpenSearch documents: bulk operations that write them, with retries, and the way back.

``index_op`` and ``chunk_of_source`` are the two directions of one document
shape. ``write_bulk`` sends one batch and resends only the items answered 429 or
5xx (bulk by ``_id`` is idempotent); the items that still fail, or fail for
good, become one error naming their chunk ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sluice.adapters.aws.retry import RetryPolicy
from sluice.domain.errors import BackendError, ThrottledError
from sluice.domain.models import IndexedChunk

_SHOWN_FAILURES = 3


class BulkOp:
    """One bulk operation: its chunk id, action and newline-terminated NDJSON lines."""

    __slots__ = ("action", "chunk_id", "lines")

    def __init__(self, action: str, chunk_id: str, lines: str) -> None:
        self.action, self.chunk_id, self.lines = action, chunk_id, lines


def delete_op(index: str, chunk_id: str) -> BulkOp:
    return BulkOp("delete", chunk_id, json.dumps({"delete": {"_index": index, "_id": chunk_id}}) + "\n")


def index_op(index: str, chunk: IndexedChunk, vector: list[float]) -> BulkOp:
    document = {
        "chunk_id": chunk.chunk_id, "document_id": chunk.document_id, "tenant": chunk.tenant,
        "source": chunk.source, "title": chunk.title, "text": chunk.text, "vector": vector,
        "ordinal": chunk.ordinal, "content_hash": chunk.content_hash, "document_version": chunk.document_version,
        "heading_path": list(chunk.heading_path), "page_start": chunk.page_start, "page_end": chunk.page_end,
        "char_start": chunk.char_start, "char_end": chunk.char_end, "metadata": dict(chunk.metadata),
    }  # fmt: skip
    action = json.dumps({"index": {"_index": index, "_id": chunk.chunk_id}})
    return BulkOp("index", chunk.chunk_id, f"{action}\n{json.dumps(document, ensure_ascii=False)}\n")


def batches(ops: Sequence[BulkOp], max_bytes: int) -> Iterator[list[BulkOp]]:
    """Consecutive runs of ops under ``max_bytes`` each (always at least one op), order kept."""
    batch: list[BulkOp] = []
    size = 0
    for op in ops:
        length = len(op.lines.encode())
        if batch and size + length > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(op)
        size += length
    if batch:
        yield batch


def bulk_error(failures: Sequence[tuple[BulkOp, Mapping[str, Any]]], total: int, *, gave_up: bool) -> BackendError:
    shown = "; ".join(f"{op.action} {op.chunk_id}: {_reason(item)}" for op, item in failures[:_SHOWN_FAILURES])
    more = f" (and {len(failures) - _SHOWN_FAILURES} more)" if len(failures) > _SHOWN_FAILURES else ""
    message = f"could not write {len(failures)} of {total} operations to the index: {shown}{more}"
    details: dict[str, object] = {"failed": [op.chunk_id for op, _ in failures]}
    throttled = gave_up and all(int(item.get("status") or 0) == 429 for op, item in failures)
    return ThrottledError(message, details=details) if throttled else BackendError(message, details=details)


def _reason(item: Mapping[str, Any]) -> str:
    error = item.get("error")
    if isinstance(error, Mapping):
        return f"{item.get('status')} {error.get('type', '')}: {error.get('reason', '')}"
    return f"{item.get('status')} {error or item.get('result', '')}"


def write_bulk(
    ops: list[BulkOp],
    send: Callable[[Sequence[BulkOp]], list[Mapping[str, Any]]],
    policy: RetryPolicy,
    max_retries: int,
) -> None:
    """Send ``ops`` with ``send``; only throttled or 5xx items are retried, up to ``max_retries`` times."""
    failed: list[tuple[BulkOp, Mapping[str, Any]]] = []
    pending = ops
    for attempt in range(max_retries + 1):
        items = send(pending)
        retry: list[tuple[BulkOp, Mapping[str, Any]]] = []
        for op, item in zip(pending, items):
            status = int(item.get("status") or 0)
            if status < 300 or (op.action == "delete" and status == 404):
                continue
            (retry if status == 429 or status >= 500 else failed).append((op, item))
        if not retry:
            break
        if attempt == max_retries:
            raise bulk_error(retry + failed, len(ops), gave_up=True)
        policy.sleep(policy.delay(attempt))
        pending = [op for op, _ in retry]
    if failed:
        raise bulk_error(failed, len(ops), gave_up=False)


def chunk_of_source(source: Mapping[str, Any]) -> IndexedChunk:
    """A hit's ``_source`` as a chunk, without its vector."""
    return IndexedChunk(
        chunk_id=source["chunk_id"], document_id=source["document_id"], tenant=source["tenant"],
        source=source["source"], title=source.get("title", ""), text=source.get("text", ""), vector=None,
        ordinal=int(source["ordinal"]), content_hash=source.get("content_hash", ""),
        document_version=source.get("document_version", ""), heading_path=tuple(source.get("heading_path") or ()),
        page_start=source.get("page_start"), page_end=source.get("page_end"),
        char_start=int(source.get("char_start") or 0), char_end=int(source.get("char_end") or 0),
        metadata=dict(source.get("metadata") or {}),
    )  # fmt: skip
