"""The in-memory side of ``LocalVectorIndex``: every live vector in one NumPy matrix, searched exactly.

``VectorRows`` also keeps what tenant checks and filters need, and maps the
64-bit ``chunk_key`` that tantivy returns from a fast field back to a row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sluice.adapters.local.local_chunk_store import json_value
from sluice.domain.filters import Filter
from sluice.domain.models import IndexedChunk

Batch = tuple[list[str], list[str], np.ndarray, list[dict[str, Any]]]
"""Rows to append: chunk ids, tenants, vectors (n x d) and filter fields."""


class VectorRows:
    """Every live vector in one matrix, plus what tenant checks and filters need.

    Rows are appended and marked dead, never moved, so a search holding this
    object while a write appends still reads consistent rows; compaction
    builds a new object instead.
    """

    def __init__(self, dimension: int) -> None:
        self.matrix = np.zeros((0, dimension), dtype=np.float32)
        self.alive = np.zeros(0, dtype=bool)
        self.codes = np.zeros(0, dtype=np.int32)
        self.ids: list[str] = []
        self.fields: list[dict[str, Any]] = []
        self.row_of: dict[str, int] = {}
        self.row_of_key: dict[int, int] = {}
        self.tenant_codes: dict[str, int] = {}
        self.size = 0
        self.dead = 0

    @property
    def live(self) -> int:
        return self.size - self.dead

    def add_many(self, batch: Batch) -> None:
        """Append rows; ``size`` grows last, so concurrent searches only ever see complete rows."""
        chunk_ids, tenants, block, fields = batch
        if not chunk_ids:
            return
        start, stop = self.size, self.size + len(chunk_ids)
        self._reserve(stop)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        np.divide(block, np.where(norms > 0, norms, 1.0), out=self.matrix[start:stop])
        self.codes[start:stop] = [self.tenant_codes.setdefault(t, len(self.tenant_codes)) for t in tenants]
        self.alive[start:stop] = True
        self.ids.extend(chunk_ids)
        self.fields.extend(fields)
        self.row_of.update(zip(chunk_ids, range(start, stop)))
        self.row_of_key.update(zip(map(chunk_key, chunk_ids), range(start, stop)))
        self.size = stop

    def remove_many(self, chunk_ids: Iterable[str]) -> None:
        for cid in chunk_ids:
            row = self.row_of.pop(cid, None)
            if row is not None:
                self.alive[row] = False
                self.row_of_key.pop(chunk_key(cid), None)
                self.dead += 1

    def compacted(self) -> VectorRows:
        fresh = VectorRows(self.matrix.shape[1])
        live = np.flatnonzero(self.alive[: self.size])
        names = {code: name for name, code in self.tenant_codes.items()}
        rows = live.tolist()
        tenants = [names[code] for code in self.codes[live].tolist()]
        fresh.add_many(([self.ids[r] for r in rows], tenants, self.matrix[live], [self.fields[r] for r in rows]))
        return fresh

    def nearest(self, query: np.ndarray, k: int, code: int, filter: Filter | None) -> list[tuple[str, float]]:
        """Exact top k by cosine among this tenant's rows that pass the filter."""
        size = self.size
        scores = self.matrix[:size] @ query
        if self.dead or len(self.tenant_codes) > 1:
            scores[~(self.alive[:size] & (self.codes[:size] == code))] = -np.inf
        depth = k if filter is None else 4 * k
        while True:
            depth = min(depth, size)
            top = np.argpartition(-scores, depth - 1)[:depth] if depth < size else np.arange(size)
            top = top[np.argsort(-scores[top], kind="stable")]
            found: list[tuple[str, float]] = []
            for row in top.tolist():
                if scores[row] == -np.inf:
                    return found
                if filter is None or filter.matches(self.fields[row]):
                    found.append((self.ids[row], float(scores[row])))
                    if len(found) == k:
                        return found
            if depth >= size:
                return found
            depth *= 4

    def _reserve(self, rows: int) -> None:
        if rows <= len(self.alive):
            return
        capacity = max(rows, 2 * len(self.alive), 1024)
        matrix = np.zeros((capacity, self.matrix.shape[1]), dtype=np.float32)
        matrix[: self.size] = self.matrix[: self.size]
        alive, codes = np.zeros(capacity, dtype=bool), np.zeros(capacity, dtype=np.int32)
        alive[: self.size], codes[: self.size] = self.alive[: self.size], self.codes[: self.size]
        self.matrix, self.alive, self.codes = matrix, alive, codes


def chunk_key(chunk_id: str) -> int:
    """A 64-bit handle for a chunk id: tantivy returns it from a fast field without touching the doc store."""
    return int.from_bytes(hashlib.blake2b(chunk_id.encode(), digest_size=8).digest(), "big")


def _fields(metadata: Mapping[str, Any], source: str, document_id: str, title: str) -> dict[str, Any]:
    return {**metadata, "source": source, "document_id": document_id, "title": title}


def batch_of_chunks(chunks: Sequence[IndexedChunk]) -> Batch:
    return (
        [c.chunk_id for c in chunks],
        [c.tenant for c in chunks],
        np.asarray([c.vector for c in chunks], dtype=np.float32),
        [_fields(c.metadata, c.source, c.document_id, c.title) for c in chunks],
    )


def batch_of_records(records: Sequence[Sequence[Any]], dimension: int) -> Batch:
    """Rows of ``SELECT {ROW_COLUMNS}`` as a batch, vectors joined into one matrix."""
    return (
        [r[0] for r in records],
        [r[1] for r in records],
        np.frombuffer(b"".join(r[6] for r in records), dtype=np.float32).reshape(-1, dimension),
        [_fields(json_value(r[5]), r[3], r[2], r[4]) for r in records],
    )
