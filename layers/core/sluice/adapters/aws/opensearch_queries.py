"""Request bodies of the OpenSearch index: its mapping, the BM25 and k-NN queries, and filters as query DSL.

The mapping is ``index_body``; ``infra/opensearch/index-mapping.json`` is the
same document for operators (a test keeps the two equal), since the Lambda
layer ships this package and not ``infra/``. Every query filters on
``tenant`` and leaves the vector out of ``_source``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sluice.domain.errors import FilterError
from sluice.domain.filters import BUILTIN_FIELDS, Condition, Filter, Group
from sluice.domain.keywords import STOPWORDS, WORD

DIMENSION_PLACEHOLDER = "__DIMENSION__"
_RANGE = {"greaterThan": "gt", "greaterThanOrEquals": "gte", "lessThan": "lt", "lessThanOrEquals": "lte"}
_BUILTIN_FILTER_FIELDS = {"source": "source", "document_id": "document_id", "title": "title.keyword"}
NO_VECTOR = {"excludes": ["vector"]}
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


def stored_dimension(mapping: Mapping[str, Any]) -> int | None:
    """The vector dimension in a ``get_mapping`` answer, if the index has one."""
    for body in mapping.values():
        vector = body.get("mappings", {}).get("properties", {}).get("vector", {})
        if "dimension" in vector:
            return int(vector["dimension"])
    return None


def keyword_query(text: str, k: int, tenant: str, filter: Filter | None = None) -> dict[str, Any] | None:
    """BM25 over text and title (title boost 0.5, scores summed like the local index); ``None`` when no words."""
    words = WORD.findall(text.lower())
    if not words:
        return None
    content = [word for word in words if word not in STOPWORDS]
    match = {"query": " ".join(content or words), "fields": ["text", "title^0.5"], "type": "most_fields"}
    match["operator"] = "or"
    return {
        "size": k, "_source": NO_VECTOR, "track_total_hits": False,
        "query": {"bool": {"must": [{"multi_match": match}], "filter": _filters(tenant, filter)}},
    }  # fmt: skip


def knn_query(vector: Sequence[float], k: int, tenant: str, filter: Filter | None = None) -> dict[str, Any]:
    """A faiss k-NN query whose filter applies during the graph search (efficient filtering)."""
    knn = {"vector": [float(x) for x in vector], "k": k, "filter": {"bool": {"filter": _filters(tenant, filter)}}}
    return {"size": k, "_source": NO_VECTOR, "track_total_hits": False, "query": {"knn": {"vector": knn}}}


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


def unit_vector(vector: Sequence[float]) -> list[float]:
    """The vector scaled to length 1, so the inner product is the cosine; unit vectors pass unchanged."""
    values = [float(x) for x in vector]
    norm = math.sqrt(math.fsum(x * x for x in values))
    if norm == 0.0 or abs(norm - 1.0) < 1e-5:
        return values
    return [x / norm for x in values]
