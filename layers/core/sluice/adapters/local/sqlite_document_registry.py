"""DocumentRegistry on SQLite: one row per document in the state folder."""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from pathlib import Path

from sluice.domain.errors import BackendError, StaleVersionError
from sluice.domain.models import DocumentRecord, DocumentStatus
from sluice.domain.versions import is_older

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    document_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    metadata_sha256 TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    title TEXT NOT NULL DEFAULT '',
    chunk_count INTEGER NOT NULL DEFAULT 0,
    token_count INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    error_code TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    timings TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS documents_by_tenant ON documents (tenant, source);
"""
_COLUMNS = (
    "document_id", "tenant", "source", "status", "version", "sha256", "metadata_sha256", "size", "title",
    "chunk_count", "token_count", "error", "error_code", "created_at", "updated_at", "timings",
)
_UPSERT = f"INSERT OR REPLACE INTO documents ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


class SqliteDocumentRegistry:
    """Registry records in a SQLite file; safe to share between threads and processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open the document registry at {path}: {exc}") from exc

    def get(self, document_id: str) -> DocumentRecord | None:
        rows = self._query(f"SELECT {', '.join(_COLUMNS)} FROM documents WHERE document_id = ?", (document_id,))
        return _record(rows[0]) if rows else None

    def put(self, record: DocumentRecord) -> None:
        now = time.time()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT version, created_at FROM documents WHERE document_id = ?", (record.document_id,)
                ).fetchone()
                if row and is_older(record.version, row[0]):
                    self._db.execute("ROLLBACK")
                    raise StaleVersionError(
                        f"version {record.version} of {record.source} is older than the stored {row[0]}"
                    )
                record.created_at = row[1] if row else (record.created_at or now)
                record.updated_at = now
                self._db.execute(_UPSERT, _row(record))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise BackendError(f"cannot write the document registry: {exc}") from exc

    def list(
        self,
        tenant: str,
        *,
        status: DocumentStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[builtins.list[DocumentRecord], str | None]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM documents WHERE tenant = ? AND document_id > ?"
        params: list[object] = [tenant, cursor or ""]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        rows = self._query(sql + " ORDER BY document_id LIMIT ?", (*params, limit + 1))
        records = [_record(r) for r in rows[:limit]]
        return records, (records[-1].document_id if len(rows) > limit else None)

    def by_source(self, tenant: str, source: str) -> DocumentRecord | None:
        rows = self._query(
            f"SELECT {', '.join(_COLUMNS)} FROM documents WHERE tenant = ? AND source = ?", (tenant, source)
        )
        return _record(rows[0]) if rows else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: tuple[object, ...]) -> builtins.list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise BackendError(f"cannot read the document registry: {exc}") from exc

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _row(r: DocumentRecord) -> tuple[object, ...]:
    return (
        r.document_id, r.tenant, r.source, r.status.value, r.version, r.sha256, r.metadata_sha256, r.size,
        r.title, r.chunk_count, r.token_count, r.error, r.error_code, r.created_at, r.updated_at,
        json.dumps(r.timings),
    )


def _record(row: tuple[object, ...]) -> DocumentRecord:
    values = dict(zip(_COLUMNS, row))
    values["status"] = DocumentStatus(values["status"])
    values["timings"] = json.loads(str(values["timings"]))
    return DocumentRecord(**values)  # type: ignore[arg-type]
