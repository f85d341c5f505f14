"""``VectorIndex`` on OpenSearch: BM25 over title and text, faiss HNSW k-NN, SigV4.

One document per chunk, ``_id`` = ``chunk_id``, in one index shared by every
tenant; each search filters on ``tenant``. ``write`` sends deletes then
upserts in one ``_bulk`` request (split only when larger than
``max_bulk_bytes``) and retries just the items answered 429 or 5xx.

Why ``innerproduct`` and not ``cosinesimil``: faiss accepts ``cosinesimil``
only from OpenSearch 2.19, while ``innerproduct`` works on every faiss
version of managed domains and Serverless. The embedders return unit vectors
(and ``write`` / ``vector_search`` normalise any that are not), so the inner
product is the cosine; ``_cosine`` undoes faiss's score transform so scores
match ``LocalVectorIndex``. The engine is faiss because nmslib cannot filter
during the graph search (efficient filtering), which tenant isolation needs.

The mapping (``index_body``) and the query bodies are in ``opensearch_queries``,
chunks as documents and the bulk writes with their retries in
``opensearch_documents``, and the SigV4 client and error translation in
``opensearch_transport``; this module holds the index and turns answers into hits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError, TransportError

from sluice.adapters.aws.opensearch_documents import BulkOp, batches, chunk_of_source, delete_op, index_op, write_bulk
from sluice.adapters.aws.opensearch_queries import (
    DIMENSION_PLACEHOLDER,
    NO_VECTOR,
    field_of,
    index_body,
    keyword_query,
    knn_query,
    stored_dimension,
    to_query,
    unit_vector,
)
from sluice.adapters.aws.opensearch_transport import (
    IndexMissingError,
    connect,
    error_type,
    is_retryable,
    msearch,
    msearch_answer,
    translate_error,
)
from sluice.adapters.aws.retry import RetryPolicy
from sluice.domain.errors import BackendError, ConfigurationError, InvalidRequestError
from sluice.domain.filters import Filter
from sluice.domain.keywords import STOPWORDS, HighlightWords, highlight_words, highlights
from sluice.domain.models import Hit, IndexedChunk, StoredVector

__all__ = [
    "DIMENSION_PLACEHOLDER",
    "OpenSearchVectorIndex",
    "connect",
    "field_of",
    "index_body",
    "keyword_query",
    "knn_query",
    "to_query",
]

_PAGE = 10_000
"""OpenSearch's default ``index.max_result_window``: the most one search page may ask for."""
_MGET_BATCH = 1_000
_STOPWORDS = STOPWORDS
"""The shared stopwords (sluice.domain.keywords), so both backends drop the same query words."""


class OpenSearchVectorIndex:
    """BM25 and faiss k-NN over chunks in one OpenSearch index (managed domain or Serverless).

    ``refresh`` is passed to ``_bulk`` (``True`` or ``"wait_for"`` make writes
    searchable before ``write`` returns; keep ``False`` on Serverless). Writes create
    the index on first use; reads of a missing index find nothing, so a
    read-only role never needs ``CreateIndex``.
    """

    def __init__(
        self,
        client: OpenSearch,
        index_name: str,
        dimension: int,
        *,
        refresh: bool | str = False,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        max_bulk_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        if dimension < 1:
            raise ConfigurationError("the vector dimension must be positive")
        self.dimension = dimension
        self.index_name = index_name
        self._client = client
        self._refresh = refresh
        self._max_retries = max_retries
        self._retry = RetryPolicy(attempts=max_retries + 1, sleep=sleep)
        self._max_bulk_bytes = max_bulk_bytes
        self._ready = False

    # ------------------------------------------------------------------ index

    def ensure_index(self) -> None:
        """Create the index unless it exists; refuse one built for another dimension."""
        indices = self._client.indices
        if not self._call("check the index", lambda: indices.exists(index=self.index_name)):
            self._call("create the index", self._create)
        mapping = self._call("read the index mapping", lambda: indices.get_mapping(index=self.index_name))
        stored = stored_dimension(mapping)
        if stored is not None and stored != self.dimension:
            raise ConfigurationError(
                f"the OpenSearch index {self.index_name} holds {stored}-d vectors, not {self.dimension}-d;"
                " use the embedder it was built with or another index name"
            )
        self._ready = True

    def _create(self) -> None:
        try:
            self._client.indices.create(index=self.index_name, body=index_body(self.dimension))
        except RequestError as exc:
            if error_type(exc.info) != "resource_already_exists_exception":
                raise  # another writer creating it at the same moment is fine

    def refresh(self) -> None:
        """Make every write searchable now (managed domains; Serverless has no refresh API)."""
        self._call("refresh the index", lambda: self._client.indices.refresh(index=self.index_name))

    # ----------------------------------------------------------------- writes

    def write(self, upserts: Sequence[IndexedChunk], deletes: Sequence[str] = ()) -> None:
        """Delete then upsert by chunk id; deleting a missing id is fine; only throttled or 5xx items are retried."""
        latest = {chunk.chunk_id: chunk for chunk in upserts}
        vectors = {cid: unit_vector(self._check_vector(c.vector, f"chunk {cid}")) for cid, c in latest.items()}
        # An id upserted in the same call needs no delete: the index op replaces the whole document,
        # and a retried delete must never land after its upsert.
        doomed = [cid for cid in dict.fromkeys(deletes) if cid not in latest]
        if not latest and not doomed:
            return
        if not self._ready:
            self.ensure_index()
        ops = [delete_op(self.index_name, cid) for cid in doomed]
        ops += [index_op(self.index_name, chunk, vectors[cid]) for cid, chunk in latest.items()]
        for batch in batches(ops, self._max_bulk_bytes):
            write_bulk(batch, self._send_bulk, self._retry, self._max_retries)

    def _send_bulk(self, ops: Sequence[BulkOp]) -> list[Mapping[str, Any]]:
        body = "".join(op.lines for op in ops)
        params = {} if not self._refresh else {"refresh": "true" if self._refresh is True else str(self._refresh)}
        response = self._call("write to the index", lambda: self._client.bulk(body=body, params=params))
        items = [next(iter(item.values())) for item in response.get("items", [])]
        if len(items) != len(ops):
            raise BackendError(f"could not write to the index: {len(ops)} operations sent, {len(items)} answered")
        return items

    # ---------------------------------------------------------------- lookups

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, StoredVector]:
        """Stored vectors of the ids that exist (so unchanged chunks skip embedding)."""
        found: dict[str, StoredVector] = {}
        ids = list(dict.fromkeys(chunk_ids))
        for start in range(0, len(ids), _MGET_BATCH):
            for doc in self._mget(ids[start : start + _MGET_BATCH]):
                source = doc.get("_source") or {}
                if doc.get("found") and source.get("vector") is not None:
                    found[doc["_id"]] = StoredVector(doc["_id"], source.get("content_hash", ""), source["vector"])
        return found

    def _mget(self, ids: list[str]) -> list[Mapping[str, Any]]:
        def fetch() -> Any:
            params = {"_source_includes": "content_hash,vector"}
            return self._client.mget(index=self.index_name, body={"ids": ids}, params=params)

        return list(self._read("read vectors", {"docs": []}, fetch).get("docs", []))

    def chunks_of(self, document_id: str) -> list[IndexedChunk]:
        """Every chunk of a document, by ordinal, without vectors (pages of 10,000 via ``search_after``)."""
        chunks: list[IndexedChunk] = []
        body: dict[str, Any] = {
            "size": _PAGE, "_source": NO_VECTOR, "sort": [{"ordinal": "asc"}], "track_total_hits": False,
            "query": {"bool": {"filter": [{"term": {"document_id": document_id}}]}},
        }  # fmt: skip
        while True:
            hits = self._search("read a document's chunks", body)
            chunks.extend(chunk_of_source(hit["_source"]) for hit in hits)
            if len(hits) < _PAGE:
                return chunks
            body["search_after"] = hits[-1]["sort"]

    def count(self) -> int:
        response = self._read("count chunks", {"count": 0}, lambda: self._client.count(index=self.index_name))
        return int(response["count"])

    # --------------------------------------------------------------- searches

    def keyword_search(self, text: str, k: int, *, tenant: str, filter: Filter | None = None) -> list[Hit]:
        _check_k(k)
        body = keyword_query(text, k, tenant, filter)
        if body is None:
            return []
        hits = self._search("search the index", body, filtered=filter is not None)
        return _keyword_hits(hits, text)

    def vector_search(self, vector: Sequence[float], k: int, *, tenant: str, filter: Filter | None = None) -> list[Hit]:
        _check_k(k)
        body = knn_query(unit_vector(self._check_vector(vector, "the query vector")), k, tenant, filter)
        return _vector_hits(self._search("search the index", body, filtered=filter is not None))

    def hybrid_candidates(
        self, text: str, vector: Sequence[float], depth: int, *, tenant: str, filter: Filter | None = None
    ) -> tuple[list[Hit], list[Hit]]:
        """The keyword and the vector ranking of a hybrid search, fetched in one ``_msearch`` round trip.

        Same hits as ``keyword_search`` and ``vector_search`` with ``k=depth``;
        ``QueryService`` can call it when the index has it (``hasattr``) and
        pass both rankings to ``reciprocal_rank_fusion``, saving one round trip.
        """
        _check_k(depth)
        knn = knn_query(unit_vector(self._check_vector(vector, "the query vector")), depth, tenant, filter)
        keyword = keyword_query(text, depth, tenant, filter)
        bodies = [knn] if keyword is None else [keyword, knn]
        lines: list[Any] = [line for body in bodies for line in ({"index": self.index_name}, body)]
        empty: dict[str, Any] = {"responses": [{"hits": {"hits": []}} for _ in bodies]}
        response = self._read("search the index", empty, lambda: msearch(self._client, lines))
        answers = [msearch_answer(r, filter is not None) for r in response.get("responses", [])]
        if len(answers) != len(bodies):
            raise BackendError(f"could not search the index: {len(bodies)} searches sent, {len(answers)} answered")
        return (_keyword_hits(answers[0], text) if keyword is not None else []), _vector_hits(answers[-1])

    def _search(self, action: str, body: Mapping[str, Any], *, filtered: bool = False) -> list[Mapping[str, Any]]:
        empty: dict[str, Any] = {"hits": {"hits": []}}
        search = self._client.search
        response = self._read(action, empty, lambda: search(index=self.index_name, body=body), filtered=filtered)
        return list(response.get("hits", {}).get("hits", []))

    def _check_vector(self, vector: Sequence[float] | None, what: str) -> Sequence[float]:
        if vector is None or len(vector) != self.dimension:
            got = "none" if vector is None else len(vector)
            raise InvalidRequestError(f"{what} must have {self.dimension} dimensions, got {got}")
        return vector

    # -------------------------------------------------------------- transport

    def _read(self, action: str, empty: Any, fn: Callable[[], Any], *, filtered: bool = False) -> Any:
        """``_call`` for reads: a missing index holds nothing."""
        try:
            return self._call(action, fn, filtered=filtered)
        except IndexMissingError:
            return empty

    def _call(self, action: str, fn: Callable[[], Any], *, filtered: bool = False) -> Any:
        """``fn()`` with throttling, 5xx and dropped connections retried; errors become ours."""
        try:
            return self._retry.call(fn, retryable=is_retryable)
        except TransportError as exc:
            if exc.status_code == 404 and error_type(exc.info) == "index_not_found_exception":
                raise IndexMissingError(f"could not {action}: the index does not exist") from exc
            raise translate_error(exc, action, filtered) from exc


# ---------------------------------------------------------------------- hits


def _keyword_hits(hits: Sequence[Mapping[str, Any]], text: str) -> list[Hit]:
    words = _highlight_words(text)
    results = []
    for hit in hits:
        chunk = chunk_of_source(hit["_source"])
        results.append(Hit(chunk, float(hit.get("_score") or 0.0), _highlights(words, chunk.text)))
    return results


def _vector_hits(hits: Sequence[Mapping[str, Any]]) -> list[Hit]:
    return [Hit(chunk_of_source(hit["_source"]), _cosine(float(hit.get("_score") or 0.0))) for hit in hits]


def _cosine(score: float) -> float:
    """Undo faiss's innerproduct score: ``1 + ip`` when ``ip >= 0``, else ``1 / (1 - ip)``."""
    if score >= 1.0:
        return score - 1.0
    return 1.0 - 1.0 / score if score > 0 else -1.0


def _highlight_words(query: str) -> HighlightWords:
    return highlight_words(query, _STOPWORDS)


_highlights = highlights


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidRequestError(f"k must be at least 1, got {k}")
