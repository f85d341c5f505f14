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

The mapping is ``index_body`` here; ``infra/opensearch/index-mapping.json``
is the same document for operators (a test keeps the two equal), since the
Lambda layer ships this package and not ``infra/``.
"""

from __future__ import annotations

import copy
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection
from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import RequestError, TransportError

from sluice.adapters.aws.retry import RetryPolicy
from sluice.domain.errors import (
    BackendError,
    ConfigurationError,
    FilterError,
    InvalidRequestError,
    ThrottledError,
)
from sluice.domain.filters import BUILTIN_FIELDS, Condition, Filter, Group
from sluice.domain.keywords import STOPWORDS, WORD, HighlightWords, highlight_words, highlights
from sluice.domain.models import Hit, IndexedChunk, StoredVector

DIMENSION_PLACEHOLDER = "__DIMENSION__"
_PAGE = 10_000
"""OpenSearch's default ``index.max_result_window``: the most one search page may ask for."""
_MGET_BATCH = 1_000
_SHOWN_FAILURES = 3
_STOPWORDS = STOPWORDS
"""The shared stopwords (sluice.domain.keywords), so both backends drop the same query words."""
_WORD = WORD
_RANGE = {"greaterThan": "gt", "greaterThanOrEquals": "gte", "lessThan": "lt", "lessThanOrEquals": "lte"}
_BUILTIN_FILTER_FIELDS = {"source": "source", "document_id": "document_id", "title": "title.keyword"}
_NO_VECTOR = {"excludes": ["vector"]}
_QUERY_BUILD_ERRORS = frozenset({"search_phase_execution_exception", "query_shard_exception"})
_INDEX_BODY: dict[str, Any] = {
    "settings": {"index": {"knn": True}},
    "mappings": {
        "_meta": {
            "sluice_schema": 1,
            "note": "vector.dimension is filled in by OpenSearchVectorIndex.ensure_index from the embedder's dimension",
        },
        "dynamic": "strict",
        "date_detection": False,
        "dynamic_templates": [
            {"metadata_strings": {"path_match": "metadata.*", "match_mapping_type": "string",
                                  "mapping": {"type": "keyword", "ignore_above": 8191}}},
            {"metadata_integers": {"path_match": "metadata.*", "match_mapping_type": "long",
                                   "mapping": {"type": "double"}}},
            {"metadata_decimals": {"path_match": "metadata.*", "match_mapping_type": "double",
                                   "mapping": {"type": "double"}}},
        ],
        "properties": {
            "vector": {
                "type": "knn_vector",
                "dimension": DIMENSION_PLACEHOLDER,
                "method": {"name": "hnsw", "engine": "faiss", "space_type": "innerproduct",
                           "parameters": {"m": 16, "ef_construction": 128}},
            },
            "text": {"type": "text", "analyzer": "english"},
            "title": {"type": "text", "analyzer": "english",
                      "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
            **{name: {"type": "keyword"} for name in
               ("tenant", "document_id", "chunk_id", "source", "content_hash", "document_version")},
            "heading_path": {"type": "keyword", "ignore_above": 8191},
            **{name: {"type": "integer"} for name in ("ordinal", "page_start", "page_end", "char_start", "char_end")},
            "metadata": {"type": "object", "dynamic": True},
        },
    },
}  # fmt: skip
"""Strings in metadata map to ``keyword`` (exact term, prefix and wildcard filters); every number to
``double``, so 3 and 3.5 under one key never conflict; ``date_detection`` is off so "2024-01-01" stays a string."""


def index_body(dimension: int) -> dict[str, Any]:
    """Settings and mappings of a new index for vectors of ``dimension``."""
    body = copy.deepcopy(_INDEX_BODY)
    body["mappings"]["properties"]["vector"]["dimension"] = dimension
    return body


def connect(
    endpoint: str,
    region: str,
    service: Literal["es", "aoss"] = "es",
    credentials: Any = None,
    *,
    timeout_s: float = 30.0,
) -> OpenSearch:
    """An HTTPS client signing with SigV4 (``es``: managed domain, ``aoss``: Serverless).

    Without ``credentials`` it takes boto3's default chain; those refresh
    themselves (the signer asks for frozen credentials on every request), so a
    warm Lambda keeps working past the role session's expiry. The client does
    not retry: ``OpenSearchVectorIndex`` owns the retry policy.
    """
    if credentials is None:
        import boto3

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise ConfigurationError("no AWS credentials found to sign OpenSearch requests")
    host = re.sub(r"^https?://", "", endpoint).rstrip("/")
    return OpenSearch(
        hosts=[{"host": host, "port": 443}],
        http_auth=Urllib3AWSV4SignerAuth(credentials, region, service),
        use_ssl=True,
        verify_certs=True,
        connection_class=Urllib3HttpConnection,
        timeout=timeout_s,
        max_retries=0,
        retry_on_timeout=False,
    )


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
        stored = _stored_dimension(mapping)
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
            if _error_type(exc.info) != "resource_already_exists_exception":
                raise  # another writer creating it at the same moment is fine

    def refresh(self) -> None:
        """Make every write searchable now (managed domains; Serverless has no refresh API)."""
        self._call("refresh the index", lambda: self._client.indices.refresh(index=self.index_name))

    # ----------------------------------------------------------------- writes

    def write(self, upserts: Sequence[IndexedChunk], deletes: Sequence[str] = ()) -> None:
        """Delete then upsert by chunk id; deleting a missing id is fine; only throttled or 5xx items are retried."""
        latest = {chunk.chunk_id: chunk for chunk in upserts}
        vectors = {cid: _unit(self._check_vector(c.vector, f"chunk {cid}")) for cid, c in latest.items()}
        # An id upserted in the same call needs no delete: the index op replaces the whole document,
        # and a retried delete must never land after its upsert.
        doomed = [cid for cid in dict.fromkeys(deletes) if cid not in latest]
        if not latest and not doomed:
            return
        if not self._ready:
            self.ensure_index()
        ops = [_delete_op(self.index_name, cid) for cid in doomed]
        ops += [_index_op(self.index_name, chunk, vectors[cid]) for cid, chunk in latest.items()]
        for batch in _batches(ops, self._max_bulk_bytes):
            self._bulk(batch)

    def _bulk(self, ops: list[_Op]) -> None:
        failed: list[tuple[_Op, Mapping[str, Any]]] = []
        pending = ops
        for attempt in range(self._max_retries + 1):
            items = self._send_bulk(pending)
            retry: list[tuple[_Op, Mapping[str, Any]]] = []
            for op, item in zip(pending, items):
                status = int(item.get("status") or 0)
                if status < 300 or (op.action == "delete" and status == 404):
                    continue
                (retry if status == 429 or status >= 500 else failed).append((op, item))
            if not retry:
                break
            if attempt == self._max_retries:
                raise _bulk_error(retry + failed, len(ops), gave_up=True)
            self._retry.sleep(self._retry.delay(attempt))
            pending = [op for op, _ in retry]
        if failed:
            raise _bulk_error(failed, len(ops), gave_up=False)

    def _send_bulk(self, ops: Sequence[_Op]) -> list[Mapping[str, Any]]:
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
            "size": _PAGE, "_source": _NO_VECTOR, "sort": [{"ordinal": "asc"}], "track_total_hits": False,
            "query": {"bool": {"filter": [{"term": {"document_id": document_id}}]}},
        }  # fmt: skip
        while True:
            hits = self._search("read a document's chunks", body)
            chunks.extend(_chunk_of_source(hit["_source"]) for hit in hits)
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
        body = knn_query(_unit(self._check_vector(vector, "the query vector")), k, tenant, filter)
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
        knn = knn_query(_unit(self._check_vector(vector, "the query vector")), depth, tenant, filter)
        keyword = keyword_query(text, depth, tenant, filter)
        bodies = [knn] if keyword is None else [keyword, knn]
        lines: list[Any] = [line for body in bodies for line in ({"index": self.index_name}, body)]
        empty: dict[str, Any] = {"responses": [{"hits": {"hits": []}} for _ in bodies]}
        response = self._read("search the index", empty, lambda: self._msearch(lines))
        answers = [self._answer(r, filter is not None) for r in response.get("responses", [])]
        if len(answers) != len(bodies):
            raise BackendError(f"could not search the index: {len(bodies)} searches sent, {len(answers)} answered")
        return (_keyword_hits(answers[0], text) if keyword is not None else []), _vector_hits(answers[-1])

    def _msearch(self, lines: list[Any]) -> Any:
        """One ``_msearch``; a throttled or failed search inside it raises, so ``_call`` retries the lot."""
        response = self._client.msearch(body=lines)
        for answer in response.get("responses", []):
            status = int(answer.get("status") or 0) if "error" in answer else 200
            if status == 429 or status >= 500:
                raise TransportError(status, _error_type(answer["error"]), {"error": answer["error"]})
        return response

    def _answer(self, response: Mapping[str, Any], filtered: bool) -> list[Mapping[str, Any]]:
        """The hits of one ``_msearch`` response, or its error as ours."""
        error = response.get("error")
        if error is None:
            return list(response.get("hits", {}).get("hits", []))
        if _error_type(error) == "index_not_found_exception":
            return []
        status = int(response.get("status") or 0)
        raise _translate(TransportError(status, _error_type(error), {"error": error}), "search the index", filtered)

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
        except _IndexMissingError:
            return empty

    def _call(self, action: str, fn: Callable[[], Any], *, filtered: bool = False) -> Any:
        """``fn()`` with throttling, 5xx and dropped connections retried; errors become ours."""
        try:
            return self._retry.call(fn, retryable=_is_retryable)
        except TransportError as exc:
            if exc.status_code == 404 and _error_type(exc.info) == "index_not_found_exception":
                raise _IndexMissingError(f"could not {action}: the index does not exist") from exc
            raise _translate(exc, action, filtered) from exc


# ------------------------------------------------------------------- queries


def keyword_query(text: str, k: int, tenant: str, filter: Filter | None = None) -> dict[str, Any] | None:
    """BM25 over text and title (boost 2, scores summed like the local index); ``None`` when no words."""
    words = _WORD.findall(text.lower())
    if not words:
        return None
    content = [word for word in words if word not in _STOPWORDS]
    match = {"query": " ".join(content or words), "fields": ["text", "title^0.5"], "type": "most_fields"}
    match["operator"] = "or"
    return {
        "size": k, "_source": _NO_VECTOR, "track_total_hits": False,
        "query": {"bool": {"must": [{"multi_match": match}], "filter": _filters(tenant, filter)}},
    }  # fmt: skip


def knn_query(vector: Sequence[float], k: int, tenant: str, filter: Filter | None = None) -> dict[str, Any]:
    """A faiss k-NN query whose filter applies during the graph search (efficient filtering)."""
    knn = {"vector": [float(x) for x in vector], "k": k, "filter": {"bool": {"filter": _filters(tenant, filter)}}}
    return {"size": k, "_source": _NO_VECTOR, "track_total_hits": False, "query": {"knn": {"vector": knn}}}


def _filters(tenant: str, filter: Filter | None) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = [{"term": {"tenant": tenant}}]
    return clauses if filter is None else [*clauses, to_query(filter)]


def to_query(filter: Filter) -> dict[str, Any]:
    """A Bedrock Knowledge Bases filter as OpenSearch query DSL, for a ``bool.filter`` context.

    User keys live under ``metadata.``; ``source``, ``document_id`` and
    ``title`` (its ``keyword`` subfield) are top-level. ``stringContains`` is
    a case-sensitive wildcard, like the local ``in`` test.
    """
    if isinstance(filter, Group):
        clauses = [to_query(child) for child in filter.children]
        if filter.op == "andAll":
            return {"bool": {"filter": clauses}}
        return {"bool": {"should": clauses, "minimum_should_match": 1}}
    return _condition(filter)


def _condition(condition: Condition) -> dict[str, Any]:
    op, value = condition.op, condition.value
    field = field_of(condition.key)
    if op in ("equals", "listContains"):
        return {"term": {field: value}}
    if op == "notEquals":
        return {"bool": {"must_not": [{"term": {field: value}}]}}
    if op == "in":
        return {"terms": {field: list(value)}}
    if op == "notIn":
        return {"bool": {"must_not": [{"terms": {field: list(value)}}]}}
    if op in _RANGE:
        return {"range": {field: {_RANGE[op]: value}}}
    if op == "startsWith":
        return {"prefix": {field: value}}
    if op == "stringContains":
        return {"wildcard": {field: {"value": f"*{_escape_wildcard(value)}*"}}}
    raise FilterError(f"unknown filter operator {op!r}")


def field_of(key: str) -> str:
    """The indexed field a filter key names; built-in fields win over metadata keys, as in the local index."""
    if key in BUILTIN_FIELDS:
        return _BUILTIN_FILTER_FIELDS[key]
    return f"metadata.{key}"


def _escape_wildcard(value: str) -> str:
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


# ---------------------------------------------------------------------- hits


def _keyword_hits(hits: Sequence[Mapping[str, Any]], text: str) -> list[Hit]:
    words = _highlight_words(text)
    results = []
    for hit in hits:
        chunk = _chunk_of_source(hit["_source"])
        results.append(Hit(chunk, float(hit.get("_score") or 0.0), _highlights(words, chunk.text)))
    return results


def _vector_hits(hits: Sequence[Mapping[str, Any]]) -> list[Hit]:
    return [Hit(_chunk_of_source(hit["_source"]), _cosine(float(hit.get("_score") or 0.0))) for hit in hits]


def _cosine(score: float) -> float:
    """Undo faiss's innerproduct score: ``1 + ip`` when ``ip >= 0``, else ``1 / (1 - ip)``."""
    if score >= 1.0:
        return score - 1.0
    return 1.0 - 1.0 / score if score > 0 else -1.0


def _highlight_words(query: str) -> HighlightWords:
    return highlight_words(query, _STOPWORDS)


_highlights = highlights


def _chunk_of_source(source: Mapping[str, Any]) -> IndexedChunk:
    return IndexedChunk(
        chunk_id=source["chunk_id"], document_id=source["document_id"], tenant=source["tenant"],
        source=source["source"], title=source.get("title", ""), text=source.get("text", ""), vector=None,
        ordinal=int(source["ordinal"]), content_hash=source.get("content_hash", ""),
        document_version=source.get("document_version", ""), heading_path=tuple(source.get("heading_path") or ()),
        page_start=source.get("page_start"), page_end=source.get("page_end"),
        char_start=int(source.get("char_start") or 0), char_end=int(source.get("char_end") or 0),
        metadata=dict(source.get("metadata") or {}),
    )  # fmt: skip


# ---------------------------------------------------------------- bulk ops


class _Op:
    """One bulk operation: its chunk id, action and newline-terminated NDJSON lines."""

    __slots__ = ("action", "chunk_id", "lines")

    def __init__(self, action: str, chunk_id: str, lines: str) -> None:
        self.action, self.chunk_id, self.lines = action, chunk_id, lines


def _delete_op(index: str, chunk_id: str) -> _Op:
    return _Op("delete", chunk_id, json.dumps({"delete": {"_index": index, "_id": chunk_id}}) + "\n")


def _index_op(index: str, chunk: IndexedChunk, vector: list[float]) -> _Op:
    document = {
        "chunk_id": chunk.chunk_id, "document_id": chunk.document_id, "tenant": chunk.tenant,
        "source": chunk.source, "title": chunk.title, "text": chunk.text, "vector": vector,
        "ordinal": chunk.ordinal, "content_hash": chunk.content_hash, "document_version": chunk.document_version,
        "heading_path": list(chunk.heading_path), "page_start": chunk.page_start, "page_end": chunk.page_end,
        "char_start": chunk.char_start, "char_end": chunk.char_end, "metadata": dict(chunk.metadata),
    }  # fmt: skip
    action = json.dumps({"index": {"_index": index, "_id": chunk.chunk_id}})
    return _Op("index", chunk.chunk_id, f"{action}\n{json.dumps(document, ensure_ascii=False)}\n")


def _batches(ops: Sequence[_Op], max_bytes: int) -> Iterator[list[_Op]]:
    """Consecutive runs of ops under ``max_bytes`` each (always at least one op), order kept."""
    batch: list[_Op] = []
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


def _bulk_error(failures: Sequence[tuple[_Op, Mapping[str, Any]]], total: int, *, gave_up: bool) -> BackendError:
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


# ------------------------------------------------------------------ helpers


class _IndexMissingError(BackendError):
    """The index does not exist yet; reads treat it as empty."""


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, TransportConnectionError):
        return True  # timeouts and dropped connections; bulk by _id and every read are idempotent
    status = exc.status_code if isinstance(exc, TransportError) else None
    return isinstance(status, int) and (status == 429 or status >= 500)


def _translate(exc: TransportError, action: str, filtered: bool) -> BackendError | InvalidRequestError:
    status = exc.status_code if isinstance(exc.status_code, int) else 0
    detail = _error_reason(exc.info) or str(exc.error) or type(exc).__name__
    if status == 429:
        return ThrottledError(f"OpenSearch is throttling; could not {action}: {detail}")
    if status == 400 and filtered and _error_type(exc.info) in _QUERY_BUILD_ERRORS:
        # The query parsed but a shard could not build it: a filter value that does not fit the indexed
        # type (a string against a number, a prefix on a number). The caller's mistake, not an outage.
        return FilterError(f"the filter does not fit the indexed metadata: {detail}")
    where = f"{status} " if status else ""
    return BackendError(f"could not {action}: {where}{detail}")


def _error_type(info: Any) -> str:
    error = info.get("error", info) if isinstance(info, Mapping) else None
    return str(error.get("type", "")) if isinstance(error, Mapping) else str(error or "")


def _error_reason(info: Any) -> str:
    error = info.get("error") if isinstance(info, Mapping) else None
    if not isinstance(error, Mapping):
        return str(error or "")
    causes = error.get("root_cause") or []
    cause = causes[0] if causes and isinstance(causes[0], Mapping) else error
    return f"{cause.get('type', '')}: {cause.get('reason', '')}"


def _stored_dimension(mapping: Mapping[str, Any]) -> int | None:
    for body in mapping.values():
        vector = body.get("mappings", {}).get("properties", {}).get("vector", {})
        if "dimension" in vector:
            return int(vector["dimension"])
    return None


def _unit(vector: Sequence[float]) -> list[float]:
    """The vector scaled to length 1, so the inner product is the cosine; unit vectors pass unchanged."""
    values = [float(x) for x in vector]
    norm = math.sqrt(math.fsum(x * x for x in values))
    if norm == 0.0 or abs(norm - 1.0) < 1e-5:
        return values
    return [x / norm for x in values]


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidRequestError(f"k must be at least 1, got {k}")
