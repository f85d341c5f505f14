"""Fakes that satisfy the ports, for tests that plug them into ``bootstrap``.

``HashingEmbedder`` is deterministic and instant; ``InMemoryVectorIndex`` keeps
chunks in a dict. Neither needs a model file or a disk.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sluice.bootstrap import Container, bootstrap
from sluice.domain.filters import Filter
from sluice.domain.models import Hit, IndexedChunk, StoredVector
from sluice.settings import Settings

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class HashingEmbedder:
    """Bag of words hashed into 64 dimensions, unit-normalised; texts sharing words are close."""

    model_id = "hashing"
    dimension = 64
    max_tokens = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            self.calls += 1
            self.texts_embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            self.calls += 1
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in words(text):
            bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
            vector[bucket % self.dimension] += 1.0
        norm = math.sqrt(sum(v * v for v in vector))
        return [v / norm for v in vector] if norm else vector


class InMemoryVectorIndex:
    """``VectorIndex`` in a dict: keyword score = query terms present, vector score = dot product."""

    def __init__(self, dimension: int = HashingEmbedder.dimension) -> None:
        self.dimension = dimension
        self._chunks: dict[str, IndexedChunk] = {}
        self._lock = threading.Lock()
        self.writes = 0

    def write(self, upserts: Sequence[IndexedChunk], deletes: Sequence[str] = ()) -> None:
        with self._lock:
            self.writes += 1
            for chunk_id in deletes:
                self._chunks.pop(chunk_id, None)
            for chunk in upserts:
                self._chunks[chunk.chunk_id] = chunk

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, StoredVector]:
        with self._lock:
            found = [self._chunks[c] for c in chunk_ids if c in self._chunks]
        return {c.chunk_id: StoredVector(c.chunk_id, c.content_hash, list(c.vector or [])) for c in found}

    def chunks_of(self, document_id: str) -> list[IndexedChunk]:
        with self._lock:
            chunks = [c for c in self._chunks.values() if c.document_id == document_id]
        return [replace(c, vector=None) for c in sorted(chunks, key=lambda c: c.ordinal)]

    def keyword_search(self, text: str, k: int, *, tenant: str, filter: Filter | None = None) -> list[Hit]:
        terms = set(words(text))
        hits = []
        for chunk in self._visible(tenant, filter):
            found = terms & set(words(f"{chunk.title} {chunk.text}"))
            if found:
                hits.append(Hit(chunk, float(len(found)), tuple(sorted(found))))
        return _top(hits, k)

    def vector_search(
        self, vector: Sequence[float], k: int, *, tenant: str, filter: Filter | None = None
    ) -> list[Hit]:
        hits = [Hit(c, sum(a * b for a, b in zip(vector, c.vector or []))) for c in self._visible(tenant, filter)]
        return _top(hits, k)

    def count(self) -> int:
        with self._lock:
            return len(self._chunks)

    def _visible(self, tenant: str, filter: Filter | None) -> list[IndexedChunk]:
        with self._lock:
            chunks = [c for c in self._chunks.values() if c.tenant == tenant]
        return [c for c in chunks if filter is None or filter.matches(_fields(c))]


def _fields(chunk: IndexedChunk) -> dict[str, Any]:
    return {**chunk.metadata, "source": chunk.source, "document_id": chunk.document_id, "title": chunk.title}


def _top(hits: list[Hit], k: int) -> list[Hit]:
    return sorted(hits, key=lambda h: (-h.score, h.chunk.chunk_id))[:k]


def make_container(state_dir: Path, **settings: Any) -> Container:
    """A container over ``state_dir`` with the hashing embedder and the real local index when it is available."""
    embedder = HashingEmbedder()
    overrides: dict[str, Any] = {"embedder": embedder}
    try:
        from sluice.adapters.local.local_vector_index import LocalVectorIndex
    except ImportError:  # the embedded index is optional for these tests
        overrides["index"] = InMemoryVectorIndex(embedder.dimension)
    else:
        overrides["index"] = LocalVectorIndex(state_dir / "index", embedder.dimension)
    overrides.update(settings.pop("overrides", {}))
    return bootstrap(Settings(state_dir=state_dir, **settings), **overrides)
