"""The tantivy side of ``LocalVectorIndex``: BM25 over title and text, derived from SQLite.

``tantivy/`` is brought up to SQLite's change log by replaying the entries
after the seq in ``tantivy.seq`` (replaced atomically after each commit), or
rebuilt from the chunks table when that marker is missing or wrong.
``keyword_ranking`` turns tantivy hits into chunk ids through the in-memory rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import tantivy

from sluice.adapters.local.local_chunk_store import ChunkStore
from sluice.adapters.local.local_vector_rows import VectorRows, chunk_key
from sluice.domain.filters import Filter

_TANTIVY_DIR = "tantivy"
_MARKER_FILE = "tantivy.seq"


class KeywordMirror(ChunkStore):
    """Keeping tantivy in step with the SQLite change log; the caller holds the process lock for every write."""

    _schema: tantivy.Schema
    _index: tantivy.Index
    _tantivy_fresh: bool
    _searcher: tantivy.Searcher
    _searcher_seq: int
    _rows: VectorRows
    _seen_seq: int

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

    def _catch_up_tantivy(self) -> None:
        """Replay a crashed writer's lag when nobody is writing, then reload the searcher."""
        if (self._read_marker() or 0) < self._seen_seq:
            with contextlib.suppress(BlockingIOError), self._process_lock(blocking=False):
                self._sync_tantivy(self._seen_seq)
        self._reload_searcher()

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
            fields = {"chunk_id": cid, "key": chunk_key(cid), "tenant": tenant, "title": title, "text": text}
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


def keyword_ranking(
    searcher: tantivy.Searcher, query: tantivy.Query, k: int, rows: VectorRows, code: int, filter: Filter | None
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


def tantivy_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("key", fast=True)
    builder.add_text_field("tenant", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title", tokenizer_name="en_stem", index_option="freq")
    builder.add_text_field("text", tokenizer_name="en_stem", index_option="freq")
    return builder.build()


def query_analyzer() -> tantivy.TextAnalyzer:
    """The same steps as tantivy's ``en_stem``, so query terms meet indexed terms."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


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
