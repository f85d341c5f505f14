"""The local ``VectorIndex``: durable, crash-safe, in one folder.

Layout of the folder::

    chunks.sqlite3   source of truth: chunks with float32 vectors, a change log, meta
    tantivy/         BM25 over title and text, derived from SQLite
    tantivy.seq      last change-log seq applied to tantivy (replaced atomically after its commit)
    write.lock       flock held by the one process writing, so a CLI ingest and a server can share the folder

``write`` is one SQLite transaction that also appends a change-log entry naming the
chunk ids it touched, so a crash never leaves a document half-visible. Tantivy is
brought up to the log right after the commit; if a crash comes first, whoever next
opens the folder (or writes) replays the entries after ``tantivy.seq``, or rebuilds
tantivy when the marker is missing or wrong. Vectors live in an in-memory NumPy
matrix searched exactly; readers notice other processes' writes by the log's max
seq and catch up from the log.

This module holds the index itself and its query handling; the SQLite plumbing is in
``local_chunk_store``, the tantivy mirror and its replay in ``local_keyword_index``,
and the in-memory matrix in ``local_vector_rows``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from sluice.adapters.local.local_chunk_store import CHUNK_COLUMNS, ROW_COLUMNS, backend_errors, chunk_of_row
from sluice.adapters.local.local_keyword_index import KeywordMirror, keyword_ranking, query_analyzer, tantivy_schema
from sluice.adapters.local.local_vector_rows import VectorRows, batch_of_chunks, batch_of_records
from sluice.domain.errors import ConfigurationError, InvalidRequestError
from sluice.domain.filters import Filter
from sluice.domain.keywords import STOPWORDS, HighlightWords, highlight_words, highlights
from sluice.domain.models import Hit, IndexedChunk, StoredVector

_LOCK_FILE = "write.lock"
_LOG_KEEP = 1000
"""Change-log entries kept; a reader further behind than this reloads everything."""
_TITLE_BOOST = 0.5
"""Weight of title matches against body matches in BM25: 0.5 measured best on SciFact (docs/evaluation.md)."""
_STOPWORDS = STOPWORDS


class LocalVectorIndex(KeywordMirror):
    """BM25 (tantivy) and exact cosine search (NumPy) over chunks kept in SQLite.

    Safe to share between threads; several processes may open the same folder.
    Hits carry chunks without vectors (``vectors()`` returns them).
    """

    def __init__(self, directory: Path, dimension: int) -> None:
        if dimension < 1:
            raise ConfigurationError("the vector dimension must be positive")
        self.dimension = dimension
        self.directory = Path(directory)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        with backend_errors("open the index"):
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        with backend_errors("open the index"):
            self._prepare_database()
            self._schema = tantivy_schema()
            self._analyzer = query_analyzer()
            with self._process_lock():
                self._index = self._open_tantivy()
                self._rows = VectorRows(self.dimension)
                self._seen_seq = self._reload_rows()
                self._check_tantivy()

    # ----------------------------------------------------------------- writes

    def write(self, upserts: Sequence[IndexedChunk], deletes: Sequence[str] = ()) -> None:
        """Upsert by chunk id and delete ids, atomically; deletes apply first, missing ids are fine."""
        latest = {chunk.chunk_id: chunk for chunk in upserts}
        for chunk in latest.values():
            self._check_vector(chunk.vector, f"chunk {chunk.chunk_id}")
        touched = sorted(set(latest) | set(deletes))
        if not touched:
            return
        with self._lock, backend_errors("write to the index"), self._process_lock():
            self._catch_up_rows()
            seq = self._commit(latest, deletes, touched)
            self._rows.remove_many(touched)
            self._rows.add_many(batch_of_chunks(list(latest.values())))
            self._seen_seq = seq
            self._compact_if_worthwhile()
            self._sync_tantivy(seq)
            if seq % 100 == 0:
                self._prune_log()

    def _compact_if_worthwhile(self) -> None:
        if self._rows.dead > 1000 and self._rows.dead * 4 > self._rows.size:
            self._rows = self._rows.compacted()

    def _prune_log(self) -> None:
        conn = self._conn()
        floor = min(self._read_marker() or 0, self._max_seq() - _LOG_KEEP)
        if floor > self._log_floor():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('log_floor', ?)", (str(floor),))
            conn.execute("DELETE FROM changes WHERE seq <= ?", (floor,))
            conn.execute("COMMIT")

    # ---------------------------------------------------------------- lookups

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, StoredVector]:
        """Stored vectors of the ids that exist (so unchanged chunks skip embedding)."""
        found: dict[str, StoredVector] = {}
        for cid, content_hash, blob in self._select_in("chunk_id, content_hash, vector", chunk_ids):
            found[cid] = StoredVector(cid, content_hash, np.frombuffer(blob, dtype=np.float32).tolist())
        return found

    def chunks_of(self, document_id: str) -> list[IndexedChunk]:
        """Every chunk of a document, by ordinal, without vectors."""
        sql = f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE document_id = ? ORDER BY ordinal"
        with backend_errors("read the index"):
            return [chunk_of_row(row) for row in self._conn().execute(sql, (document_id,))]

    def document_ids(self, tenant: str | None = None) -> list[str]:
        """Ids of the documents with at least one chunk, sorted; of one tenant when given."""
        sql, params = "SELECT DISTINCT document_id FROM chunks", []
        if tenant is not None:
            sql, params = sql + " WHERE tenant = ?", [tenant]
        with backend_errors("read the index"):
            return sorted(row[0] for row in self._conn().execute(sql, params))

    def count(self) -> int:
        with backend_errors("read the index"):
            return int(self._conn().execute("SELECT count(*) FROM chunks").fetchone()[0])

    def close(self) -> None:
        """Close every connection; the index must not be used afterwards."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            os.close(self._lock_fd)

    # --------------------------------------------------------------- searches

    def keyword_search(self, text: str, k: int, *, tenant: str, filter: Filter | None = None) -> list[Hit]:
        _check_k(k)
        terms = self._query_terms(text)
        if not terms:
            return []
        with backend_errors("search the index"):
            self._refresh()
            rows, searcher = self._rows, self._searcher
            if tenant not in rows.tenant_codes:
                return []
            query = self._bm25_query(terms, tenant if len(rows.tenant_codes) > 1 else None)
            ranked = keyword_ranking(searcher, query, k, rows, rows.tenant_codes[tenant], filter)
            words = _highlight_words(text)
            chunks = self._chunks_by_id(cid for cid, _ in ranked)
            return [
                Hit(chunks[cid], score, _highlights(words, chunks[cid].text)) for cid, score in ranked if cid in chunks
            ]

    def vector_search(self, vector: Sequence[float], k: int, *, tenant: str, filter: Filter | None = None) -> list[Hit]:
        _check_k(k)
        query = _unit(np.asarray(self._check_vector(vector, "the query vector"), dtype=np.float32))
        with backend_errors("search the index"):
            self._refresh()
            rows = self._rows
            code = rows.tenant_codes.get(tenant)
            if code is None:
                return []
            ranked = rows.nearest(query, k, code, filter)
            chunks = self._chunks_by_id(cid for cid, _ in ranked)
            return [Hit(chunks[cid], score) for cid, score in ranked if cid in chunks]

    def _query_terms(self, text: str) -> list[str]:
        terms = list(dict.fromkeys(self._analyzer.analyze(text)))
        content = [term for term in terms if term not in _STOPWORDS]
        return content or terms

    def _bm25_query(self, terms: list[str], tenant: str | None) -> tantivy.Query:
        schema, occur = self._schema, tantivy.Occur.Should
        clauses = [(occur, tantivy.Query.term_query(schema, "text", term, "freq")) for term in terms]
        clauses += [
            (occur, tantivy.Query.boost_query(tantivy.Query.term_query(schema, "title", term, "freq"), _TITLE_BOOST))
            for term in terms
        ]
        query = tantivy.Query.boolean_query(clauses)
        if tenant is None:
            return query
        only_tenant = tantivy.Query.const_score_query(tantivy.Query.term_query(schema, "tenant", tenant), 0.0)
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, only_tenant)])

    def _chunks_by_id(self, chunk_ids: Iterable[str]) -> dict[str, IndexedChunk]:
        return {row[0]: chunk_of_row(row) for row in self._select_in(CHUNK_COLUMNS, list(chunk_ids))}

    def _check_vector(self, vector: Sequence[float] | None, what: str) -> Sequence[float]:
        if vector is None or len(vector) != self.dimension:
            got = "none" if vector is None else len(vector)
            raise InvalidRequestError(f"{what} must have {self.dimension} dimensions, got {got}")
        return vector

    # ------------------------------------------------------ keeping up to date

    def _refresh(self) -> None:
        """Catch up with writes of other processes; cheap when there are none."""
        max_seq = self._max_seq()
        if max_seq == self._seen_seq and self._searcher_seq >= max_seq:
            return
        if not self._lock.acquire(blocking=False):
            return  # this process is writing: the writer brings everything up to date
        try:
            self._catch_up_rows()
            if self._searcher_seq < self._seen_seq:
                self._catch_up_tantivy()
        finally:
            self._lock.release()

    def _catch_up_rows(self) -> None:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            if self._seen_seq < self._log_floor():
                self._seen_seq = self._reload_rows()
                return
            entries = conn.execute("SELECT seq, chunk_ids FROM changes WHERE seq > ?", (self._seen_seq,)).fetchall()
            if not entries:
                return
            touched = sorted({cid for _, ids in entries for cid in json.loads(ids)})
            fresh = self._select_in(ROW_COLUMNS, touched)
            self._rows.remove_many(touched)
            self._rows.add_many(batch_of_records(fresh, self.dimension))
            self._seen_seq = max(seq for seq, _ in entries)
        finally:
            conn.execute("COMMIT")

    def _reload_rows(self) -> int:
        conn = self._conn()
        in_transaction = conn.in_transaction
        if not in_transaction:
            conn.execute("BEGIN")
        try:
            seq = self._max_seq()
            records = conn.execute(f"SELECT {ROW_COLUMNS} FROM chunks").fetchall()
        finally:
            if not in_transaction:
                conn.execute("COMMIT")
        self._rows = VectorRows(self.dimension)
        self._rows.add_many(batch_of_records(records, self.dimension))
        return seq


def _highlight_words(query: str) -> HighlightWords:
    return highlight_words(query, _STOPWORDS)


_highlights = highlights


def _unit(vector: Any) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidRequestError(f"k must be at least 1, got {k}")
