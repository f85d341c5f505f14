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
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from sluice.domain.errors import BackendError, ConfigurationError, InvalidRequestError
from sluice.domain.filters import Filter
from sluice.domain.keywords import STOPWORDS, HighlightWords, highlight_words, highlights
from sluice.domain.models import Hit, IndexedChunk, StoredVector

_DB_FILE = "chunks.sqlite3"
_TANTIVY_DIR = "tantivy"
_MARKER_FILE = "tantivy.seq"
_LOCK_FILE = "write.lock"
_LOG_KEEP = 1000
"""Change-log entries kept; a reader further behind than this reloads everything."""
_TITLE_BOOST = 0.5
"""Weight of title matches against body matches in BM25: 0.5 measured best on SciFact (docs/evaluation.md)."""
_SQL_BATCH = 500
_CHUNK_COLUMNS = (
    "chunk_id, document_id, tenant, ordinal, source, title, text, content_hash, document_version,"
    " heading_path, page_start, page_end, char_start, char_end, metadata"
)
_ROW_COLUMNS = "chunk_id, tenant, document_id, source, title, metadata, vector"
"""What the in-memory rows need: no text, so loading 100k chunks stays quick."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, document_id TEXT NOT NULL, tenant TEXT NOT NULL, ordinal INTEGER NOT NULL,
    source TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL, content_hash TEXT NOT NULL,
    document_version TEXT NOT NULL, heading_path TEXT NOT NULL, page_start INTEGER, page_end INTEGER,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, metadata TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (document_id, ordinal);
CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk_ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_STOPWORDS = STOPWORDS
_Batch = tuple[list[str], list[str], np.ndarray, list[dict[str, Any]]]
"""Rows to append: chunk ids, tenants, vectors (n x d) and filter fields."""


class LocalVectorIndex:
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
        with _backend_errors("open the index"):
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        with _backend_errors("open the index"):
            self._prepare_database()
            self._schema = _tantivy_schema()
            self._analyzer = _query_analyzer()
            with self._process_lock():
                self._index = self._open_tantivy()
                self._rows = _Rows(self.dimension)
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
        with self._lock, _backend_errors("write to the index"), self._process_lock():
            self._catch_up_rows()
            seq = self._commit(latest, deletes, touched)
            self._rows.remove_many(touched)
            self._rows.add_many(_batch_of_chunks(list(latest.values())))
            self._seen_seq = seq
            self._compact_if_worthwhile()
            self._sync_tantivy(seq)
            if seq % 100 == 0:
                self._prune_log()

    def _commit(self, latest: Mapping[str, IndexedChunk], deletes: Sequence[str], touched: list[str]) -> int:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("DELETE FROM chunks WHERE chunk_id = ?", [(cid,) for cid in deletes])
            conn.executemany(
                f"INSERT OR REPLACE INTO chunks ({_CHUNK_COLUMNS}, vector) VALUES ({', '.join('?' * 16)})",
                [_chunk_params(chunk) for chunk in latest.values()],
            )
            cursor = conn.execute("INSERT INTO changes (chunk_ids) VALUES (?)", (json.dumps(touched),))
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return int(cursor.lastrowid or 0)

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
        sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE document_id = ? ORDER BY ordinal"
        with _backend_errors("read the index"):
            return [_chunk_of_row(row) for row in self._conn().execute(sql, (document_id,))]

    def document_ids(self, tenant: str | None = None) -> list[str]:
        """Ids of the documents with at least one chunk, sorted; of one tenant when given."""
        sql, params = "SELECT DISTINCT document_id FROM chunks", []
        if tenant is not None:
            sql, params = sql + " WHERE tenant = ?", [tenant]
        with _backend_errors("read the index"):
            return sorted(row[0] for row in self._conn().execute(sql, params))

    def count(self) -> int:
        with _backend_errors("read the index"):
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
        with _backend_errors("search the index"):
            self._refresh()
            rows, searcher = self._rows, self._searcher
            if tenant not in rows.tenant_codes:
                return []
            query = self._bm25_query(terms, tenant if len(rows.tenant_codes) > 1 else None)
            ranked = _keyword_ranking(searcher, query, k, rows, rows.tenant_codes[tenant], filter)
            words = _highlight_words(text)
            chunks = self._chunks_by_id(cid for cid, _ in ranked)
            return [
                Hit(chunks[cid], score, _highlights(words, chunks[cid].text)) for cid, score in ranked if cid in chunks
            ]

    def vector_search(self, vector: Sequence[float], k: int, *, tenant: str, filter: Filter | None = None) -> list[Hit]:
        _check_k(k)
        query = _unit(np.asarray(self._check_vector(vector, "the query vector"), dtype=np.float32))
        with _backend_errors("search the index"):
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
        return {row[0]: _chunk_of_row(row) for row in self._select_in(_CHUNK_COLUMNS, list(chunk_ids))}

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
            fresh = self._select_in(_ROW_COLUMNS, touched)
            self._rows.remove_many(touched)
            self._rows.add_many(_batch_of_records(fresh, self.dimension))
            self._seen_seq = max(seq for seq, _ in entries)
        finally:
            conn.execute("COMMIT")

    def _catch_up_tantivy(self) -> None:
        """Replay a crashed writer's lag when nobody is writing, then reload the searcher."""
        if (self._read_marker() or 0) < self._seen_seq:
            with contextlib.suppress(BlockingIOError), self._process_lock(blocking=False):
                self._sync_tantivy(self._seen_seq)
        self._reload_searcher()

    def _reload_rows(self) -> int:
        conn = self._conn()
        in_transaction = conn.in_transaction
        if not in_transaction:
            conn.execute("BEGIN")
        try:
            seq = self._max_seq()
            records = conn.execute(f"SELECT {_ROW_COLUMNS} FROM chunks").fetchall()
        finally:
            if not in_transaction:
                conn.execute("COMMIT")
        self._rows = _Rows(self.dimension)
        self._rows.add_many(_batch_of_records(records, self.dimension))
        return seq

    # ---------------------------------------------------------------- tantivy

    def _open_tantivy(self) -> tantivy.Index:
        path = self.directory / _TANTIVY_DIR
        self._tantivy_fresh = not (path.is_dir() and tantivy.Index.exists(str(path)))
        path.mkdir(exist_ok=True)
        try:
            return tantivy.Index(self._schema, path=str(path), reuse=True)
        except (ValueError, OSError):
            shutil.rmtree(path)
            path.mkdir()
            self._tantivy_fresh = True
            return tantivy.Index(self._schema, path=str(path), reuse=True)

    def _check_tantivy(self) -> None:
        """At open, with the process lock: replay the log into tantivy, or rebuild it."""
        marker = self._read_marker()
        try:
            if self._tantivy_fresh or (marker is not None and marker > self._seen_seq):
                self._rebuild_tantivy()
            else:
                self._sync_tantivy(self._seen_seq)
            self._reload_searcher()
            consistent = self._searcher.num_docs == self._rows.live
        except (ValueError, OSError):
            consistent = False  # tantivy is derived: when in doubt, start it over
        if not consistent:
            shutil.rmtree(self.directory / _TANTIVY_DIR, ignore_errors=True)
            self._index = self._open_tantivy()
            self._rebuild_tantivy()

    def _sync_tantivy(self, target: int) -> None:
        """Apply the log entries after the marker (the caller holds the process lock)."""
        marker = self._read_marker()
        if marker is None or marker < self._log_floor():
            self._rebuild_tantivy()
            return
        if marker >= target:
            return
        entries = (
            self._conn()
            .execute("SELECT seq, chunk_ids FROM changes WHERE seq > ? AND seq <= ?", (marker, target))
            .fetchall()
        )
        touched = sorted({cid for _, ids in entries for cid in json.loads(ids)})
        writer = self._writer(64_000_000)
        for cid in touched:
            writer.delete_documents_by_term("chunk_id", cid)
        self._add_documents(writer, self._select_in("chunk_id, tenant, title, text", touched))
        self._finish(writer, target)

    def _rebuild_tantivy(self) -> None:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            seq = self._max_seq()
            writer = self._writer(128_000_000)
            writer.delete_all_documents()
            self._add_documents(writer, conn.execute("SELECT chunk_id, tenant, title, text FROM chunks"))
        finally:
            conn.execute("COMMIT")
        self._finish(writer, seq)

    def _writer(self, heap_size: int) -> tantivy.IndexWriter:
        writer = self._index.writer(heap_size=heap_size, num_threads=1)
        # A writer killed mid-commit leaves files named after the next opstamp; clear them before reusing it.
        writer.garbage_collect_files()
        return writer

    def _add_documents(self, writer: tantivy.IndexWriter, records: Iterable[Sequence[str]]) -> None:
        for cid, tenant, title, text in records:
            fields = {"chunk_id": cid, "key": _key(cid), "tenant": tenant, "title": title, "text": text}
            writer.add_document(tantivy.Document.from_dict(fields, self._schema))

    def _finish(self, writer: tantivy.IndexWriter, seq: int) -> None:
        writer.commit()
        writer.wait_merging_threads()  # otherwise every small write leaves its own segment behind
        _write_atomically(self.directory / _MARKER_FILE, json.dumps({"seq": seq}))
        self._reload_searcher()

    def _reload_searcher(self) -> None:
        marker = self._read_marker() or 0
        self._index.reload()
        self._searcher = self._index.searcher()
        self._searcher_seq = marker

    def _read_marker(self) -> int | None:
        try:
            seq = json.loads((self.directory / _MARKER_FILE).read_text())["seq"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return seq if isinstance(seq, int) and seq >= 0 else None

    # ----------------------------------------------------------------- SQLite

    def _prepare_database(self) -> None:
        conn = self._conn()
        conn.executescript(_SCHEMA)
        with conn:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('dimension', ?)", (str(self.dimension),))
        stored = int(conn.execute("SELECT value FROM meta WHERE key = 'dimension'").fetchone()[0])
        if stored != self.dimension:
            raise ConfigurationError(
                f"the index in {self.directory} holds {stored}-d vectors, not {self.dimension}-d;"
                " use the embedder it was built with or another state folder"
            )

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise BackendError("the index is closed")
            conn = sqlite3.connect(
                self.directory / _DB_FILE, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _select_in(self, columns: str, chunk_ids: Sequence[str]) -> list[Any]:
        found: list[Any] = []
        conn = self._conn()
        for start in range(0, len(chunk_ids), _SQL_BATCH):
            batch = chunk_ids[start : start + _SQL_BATCH]
            sql = f"SELECT {columns} FROM chunks WHERE chunk_id IN ({', '.join('?' * len(batch))})"
            found.extend(conn.execute(sql, batch))
        return found

    def _max_seq(self) -> int:
        return int(self._conn().execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])

    def _log_floor(self) -> int:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'log_floor'").fetchone()
        return int(row[0]) if row else 0

    @contextlib.contextmanager
    def _process_lock(self, blocking: bool = True) -> Iterator[None]:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)


class _Rows:
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

    def add_many(self, batch: _Batch) -> None:
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
        self.row_of_key.update(zip(map(_key, chunk_ids), range(start, stop)))
        self.size = stop

    def remove_many(self, chunk_ids: Iterable[str]) -> None:
        for cid in chunk_ids:
            row = self.row_of.pop(cid, None)
            if row is not None:
                self.alive[row] = False
                self.row_of_key.pop(_key(cid), None)
                self.dead += 1

    def compacted(self) -> _Rows:
        fresh = _Rows(self.matrix.shape[1])
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


def _keyword_ranking(
    searcher: tantivy.Searcher, query: tantivy.Query, k: int, rows: _Rows, code: int, filter: Filter | None
) -> list[tuple[str, float]]:
    """BM25 top k among this tenant's chunks that pass the filter, widening the depth as needed."""
    total = max(searcher.num_docs, 1)
    depth = k if filter is None else 4 * k
    while True:
        depth = min(depth, total)
        hits = searcher.search(query, depth, count=False).hits
        keys = searcher.fast_field_values("key", [address for _, address in hits]) if hits else []
        found: list[tuple[str, float]] = []
        for (score, _), key in zip(hits, keys):
            row = rows.row_of_key.get(int(key)) if key is not None else None
            if row is None or rows.codes[row] != code:
                continue  # written or deleted by another process since the last refresh
            if filter is None or filter.matches(rows.fields[row]):
                found.append((rows.ids[row], float(score)))
                if len(found) == k:
                    return found
        if len(hits) < depth or depth >= total:
            return found
        depth *= 4


def _tantivy_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("key", fast=True)
    builder.add_text_field("tenant", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title", tokenizer_name="en_stem", index_option="freq")
    builder.add_text_field("text", tokenizer_name="en_stem", index_option="freq")
    return builder.build()


def _query_analyzer() -> tantivy.TextAnalyzer:
    """The same steps as tantivy's ``en_stem``, so query terms meet indexed terms."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _key(chunk_id: str) -> int:
    """A 64-bit handle for a chunk id: tantivy returns it from a fast field without touching the doc store."""
    return int.from_bytes(hashlib.blake2b(chunk_id.encode(), digest_size=8).digest(), "big")


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


def _fields(metadata: Mapping[str, Any], source: str, document_id: str, title: str) -> dict[str, Any]:
    return {**metadata, "source": source, "document_id": document_id, "title": title}


def _batch_of_chunks(chunks: Sequence[IndexedChunk]) -> _Batch:
    return (
        [c.chunk_id for c in chunks],
        [c.tenant for c in chunks],
        np.asarray([c.vector for c in chunks], dtype=np.float32),
        [_fields(c.metadata, c.source, c.document_id, c.title) for c in chunks],
    )


def _batch_of_records(records: Sequence[Sequence[Any]], dimension: int) -> _Batch:
    """Rows of ``SELECT {_ROW_COLUMNS}`` as a batch, vectors joined into one matrix."""
    return (
        [r[0] for r in records],
        [r[1] for r in records],
        np.frombuffer(b"".join(r[6] for r in records), dtype=np.float32).reshape(-1, dimension),
        [_fields(_json(r[5]), r[3], r[2], r[4]) for r in records],
    )


def _chunk_params(chunk: IndexedChunk) -> tuple[Any, ...]:
    vector = np.asarray(chunk.vector, dtype=np.float32).tobytes()
    return (
        chunk.chunk_id, chunk.document_id, chunk.tenant, chunk.ordinal, chunk.source, chunk.title, chunk.text,
        chunk.content_hash, chunk.document_version, json.dumps(list(chunk.heading_path)), chunk.page_start,
        chunk.page_end, chunk.char_start, chunk.char_end, json.dumps(chunk.metadata), vector,
    )  # fmt: skip


def _chunk_of_row(row: Sequence[Any]) -> IndexedChunk:
    return IndexedChunk(
        chunk_id=row[0], document_id=row[1], tenant=row[2], ordinal=row[3], source=row[4], title=row[5],
        text=row[6], content_hash=row[7], document_version=row[8], heading_path=tuple(_json(row[9])),
        page_start=row[10], page_end=row[11], char_start=row[12], char_end=row[13],
        metadata=_json(row[14]), vector=None,
    )  # fmt: skip


def _json(text: str) -> Any:
    """``json.loads`` with a shortcut for the empty list and object most chunks carry."""
    if text == "[]":
        return []
    return {} if text == "{}" else json.loads(text)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextlib.contextmanager
def _backend_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise BackendError(f"could not {action}: {exc}") from exc
