"""The SQLite side of ``LocalVectorIndex``: schema, per-thread connections, the write lock and row conversions.

``chunks.sqlite3`` is the source of truth: chunks with float32 vectors, the
change log that tantivy and other processes' readers replay, and ``meta``
(the vector dimension and the pruned log's floor).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sluice.domain.errors import BackendError, ConfigurationError
from sluice.domain.models import IndexedChunk

DB_FILE = "chunks.sqlite3"
_SQL_BATCH = 500
CHUNK_COLUMNS = (
    "chunk_id, document_id, tenant, ordinal, source, title, text, content_hash, document_version,"
    " heading_path, page_start, page_end, char_start, char_end, metadata"
)
ROW_COLUMNS = "chunk_id, tenant, document_id, source, title, metadata, vector"
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


class ChunkStore:
    """SQLite plumbing of ``LocalVectorIndex`` and its tantivy mirror; ``LocalVectorIndex.__init__`` sets it up."""

    directory: Path
    dimension: int
    _lock: threading.RLock
    _local: threading.local
    _connections: list[sqlite3.Connection]
    _closed: bool
    _lock_fd: int

    def _commit(self, latest: Mapping[str, IndexedChunk], deletes: Sequence[str], touched: list[str]) -> int:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("DELETE FROM chunks WHERE chunk_id = ?", [(cid,) for cid in deletes])
            conn.executemany(
                f"INSERT OR REPLACE INTO chunks ({CHUNK_COLUMNS}, vector) VALUES ({', '.join('?' * 16)})",
                [_chunk_params(chunk) for chunk in latest.values()],
            )
            cursor = conn.execute("INSERT INTO changes (chunk_ids) VALUES (?)", (json.dumps(touched),))
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return int(cursor.lastrowid or 0)

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
                self.directory / DB_FILE, timeout=30.0, isolation_level=None, check_same_thread=False
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


def _chunk_params(chunk: IndexedChunk) -> tuple[Any, ...]:
    vector = np.asarray(chunk.vector, dtype=np.float32).tobytes()
    return (
        chunk.chunk_id, chunk.document_id, chunk.tenant, chunk.ordinal, chunk.source, chunk.title, chunk.text,
        chunk.content_hash, chunk.document_version, json.dumps(list(chunk.heading_path)), chunk.page_start,
        chunk.page_end, chunk.char_start, chunk.char_end, json.dumps(chunk.metadata), vector,
    )  # fmt: skip


def chunk_of_row(row: Sequence[Any]) -> IndexedChunk:
    """A row of ``SELECT {CHUNK_COLUMNS}`` as a chunk without its vector."""
    return IndexedChunk(
        chunk_id=row[0], document_id=row[1], tenant=row[2], ordinal=row[3], source=row[4], title=row[5],
        text=row[6], content_hash=row[7], document_version=row[8], heading_path=tuple(json_value(row[9])),
        page_start=row[10], page_end=row[11], char_start=row[12], char_end=row[13],
        metadata=json_value(row[14]), vector=None,
    )  # fmt: skip


def json_value(text: str) -> Any:
    """``json.loads`` with a shortcut for the empty list and object most chunks carry."""
    if text == "[]":
        return []
    return {} if text == "{}" else json.loads(text)


@contextlib.contextmanager
def backend_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise BackendError(f"could not {action}: {exc}") from exc
