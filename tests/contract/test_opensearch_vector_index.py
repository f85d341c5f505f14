"""OpenSearchVectorIndex against osmem, an in-memory OpenSearch-compatible server.

osmem checks mappings, ``_bulk`` (with per-item errors), BM25 ``multi_match``,
every filter's DSL, ``mget``, ``_count``, ``_msearch`` and ``search_after``.
It does not implement the ``knn`` query, so ``KnnRecorder`` answers those
searches itself: osmem evaluates the query's ``filter`` and the recorder scores
the candidates exactly with faiss's documented innerproduct transform
(``1 + ip`` when ``ip >= 0``, else ``1 / (1 - ip)``). HNSW recall is therefore
not tested here; the request bodies the adapter sends are, against the k-NN
plugin's documented format.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import TransportError

from sluice.adapters.aws import opensearch_vector_index as module
from sluice.adapters.aws.opensearch_vector_index import OpenSearchVectorIndex, connect, index_body
from sluice.domain.errors import BackendError, ConfigurationError, InvalidRequestError, ThrottledError
from sluice.domain.filters import parse_filter
from tests.contract.vector_index_contract import (
    DIMENSION,
    TENANT,
    VectorIndexContract,
    ids,
    make_chunk,
    make_document,
    unit_vectors,
)

osmem_server = pytest.importorskip("osmem_server")
MAPPING_FILE = Path(__file__).parents[2] / "infra" / "opensearch" / "index-mapping.json"


class KnnRecorder:
    """Sits on a client's transport: records every request and answers ``knn`` searches osmem cannot."""

    def __init__(self, client: OpenSearch) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self._forward = client.transport.perform_request
        client.transport.perform_request = self.perform_request  # type: ignore[method-assign,assignment]

    def perform_request(self, method: str, url: str, params: Any = None, body: Any = None, **kwargs: Any) -> Any:
        self.requests.append((method, url, body))
        return self._dispatch(method, url, params, body, **kwargs)

    def _dispatch(self, method: str, url: str, params: Any = None, body: Any = None, **kwargs: Any) -> Any:
        if url.endswith("/_msearch"):
            return self._msearch(body)
        if url.endswith("/_search") and "knn" in (body or {}).get("query", {}):
            return self._knn(url.split("/")[1], body)
        return self._forward(method, url, params=params, body=body, **kwargs)

    def bodies(self, suffix: str) -> list[Any]:
        return [body for _, url, body in self.requests if url.endswith(suffix)]

    def _knn(self, index: str, body: Mapping[str, Any]) -> dict[str, Any]:
        ((field, knn),) = body["query"]["knn"].items()
        query = {"bool": {"filter": [knn["filter"]]}} if "filter" in knn else {"match_all": {}}
        candidates = self._forward("POST", f"/{index}/_search", body={"size": 10_000, "query": query})
        hits = []
        for hit in candidates["hits"]["hits"]:
            ip = sum(a * b for a, b in zip(knn["vector"], hit["_source"][field]))
            score = 1 + ip if ip >= 0 else 1 / (1 - ip)
            source = {name: value for name, value in hit["_source"].items() if name != field}
            hits.append({**hit, "_score": score, "_source": source})
        hits.sort(key=lambda h: (-h["_score"], h["_id"]))
        return {"hits": {"hits": hits[: min(knn["k"], body.get("size", 10))]}}

    def _msearch(self, ndjson: str) -> dict[str, Any]:
        lines = [json.loads(line) for line in ndjson.splitlines() if line]
        responses = []
        for header, body in zip(lines[::2], lines[1::2]):
            try:
                responses.append(self._dispatch("POST", f"/{header['index']}/_search", body=body))
            except TransportError as exc:
                info: Any = exc.info
                responses.append({"error": info["error"], "status": exc.status_code})
        return {"responses": responses}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    started = osmem_server.OsmemServer.start(addr="127.0.0.1:0", japanese=False)
    yield started
    started.close()


@pytest.fixture
def client(server: Any) -> OpenSearch:
    return OpenSearch(hosts=[server.url], timeout=10)


@pytest.fixture
def recorder(client: OpenSearch) -> KnnRecorder:
    return KnnRecorder(client)


@pytest.fixture
def index(client: OpenSearch, recorder: KnnRecorder) -> Iterator[OpenSearchVectorIndex]:
    name = f"chunks-{uuid.uuid4().hex[:12]}"
    yield OpenSearchVectorIndex(client, name, DIMENSION, refresh=True, sleep=lambda _: None)
    client.indices.delete(index=name, ignore_unavailable=True)


class TestOpenSearchVectorIndex(VectorIndexContract):
    @pytest.fixture(autouse=True)
    def _osmem(self, server: Any) -> Iterator[None]:
        self.client = OpenSearch(hosts=[server.url], timeout=10)
        KnnRecorder(self.client)
        self.names: list[str] = []
        yield
        for name in self.names:
            self.client.indices.delete(index=name, ignore_unavailable=True)

    def make_index(self, tmp_path: Path, dimension: int) -> OpenSearchVectorIndex:
        self.names.append(f"chunks-{uuid.uuid4().hex[:12]}")
        return OpenSearchVectorIndex(self.client, self.names[-1], dimension)

    def settle(self, index: Any) -> None:
        index.refresh()


# ------------------------------------------------------------ index and mapping


def test_the_mapping_file_is_the_mapping_the_adapter_creates() -> None:
    document = json.loads(MAPPING_FILE.read_text())
    document["mappings"]["properties"]["vector"]["dimension"] = 1024
    assert document == index_body(1024)


def test_ensure_index_creates_a_faiss_knn_index_once(index: OpenSearchVectorIndex, client: OpenSearch) -> None:
    index.ensure_index()
    index.ensure_index()
    OpenSearchVectorIndex(client, index.index_name, DIMENSION).ensure_index()

    mapping = client.indices.get_mapping(index=index.index_name)[index.index_name]["mappings"]
    vector = mapping["properties"]["vector"]
    assert vector["type"] == "knn_vector" and vector["dimension"] == DIMENSION
    assert vector["method"]["engine"] == "faiss" and vector["method"]["space_type"] == "innerproduct"
    assert client.indices.get_settings(index=index.index_name)  # created by osmem's mapping validation


def test_a_concurrent_creation_is_not_an_error(
    index: OpenSearchVectorIndex, client: OpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.ensure_index()
    late = OpenSearchVectorIndex(client, index.index_name, DIMENSION)
    monkeypatch.setattr(client.indices, "exists", lambda **_: False)  # it lost the race: create answers 400

    late.ensure_index()


def test_an_index_of_another_dimension_is_refused(index: OpenSearchVectorIndex, client: OpenSearch) -> None:
    index.ensure_index()
    with pytest.raises(ConfigurationError, match="16-d"):
        OpenSearchVectorIndex(client, index.index_name, DIMENSION * 2).ensure_index()


def test_create_request_follows_the_knn_plugin_format(index: OpenSearchVectorIndex, recorder: KnnRecorder) -> None:
    index.ensure_index()

    (body,) = [body for method, url, body in recorder.requests if method == "PUT" and url == f"/{index.index_name}"]
    assert body["settings"]["index"]["knn"] is True
    assert body["mappings"]["properties"]["vector"] == {
        "type": "knn_vector",
        "dimension": DIMENSION,
        "method": {
            "name": "hnsw",
            "engine": "faiss",
            "space_type": "innerproduct",
            "parameters": {"m": 16, "ef_construction": 128},
        },
    }


# ---------------------------------------------------------------------- writes


def test_one_bulk_request_sends_deletes_before_upserts(index: OpenSearchVectorIndex, recorder: KnnRecorder) -> None:
    old = make_document("v1.txt", ["one", "two", "three"])
    index.write(old)
    new = make_document("v2.txt", ["four"], seed=1)

    index.write(new, [c.chunk_id for c in old[1:]] + [new[0].chunk_id])

    body = recorder.bodies("/_bulk")[-1]
    actions = [json.loads(line) for line in body.splitlines()[:3]]
    assert actions == [
        {"delete": {"_index": index.index_name, "_id": old[1].chunk_id}},
        {"delete": {"_index": index.index_name, "_id": old[2].chunk_id}},
        {"index": {"_index": index.index_name, "_id": new[0].chunk_id}},
    ]  # the id upserted in the same call is not deleted
    assert len(body.splitlines()) == 4 and index.count() == 2


def test_big_writes_are_split_in_order(client: OpenSearch, recorder: KnnRecorder) -> None:
    name = f"chunks-{uuid.uuid4().hex[:12]}"
    index = OpenSearchVectorIndex(client, name, DIMENSION, refresh=True, max_bulk_bytes=2_000)
    old = make_document("old.txt", [f"old {n}" for n in range(3)])
    index.write(old)
    new = make_document("new.txt", [f"new {n}" for n in range(6)], seed=3)
    before = len(recorder.bodies("/_bulk"))

    index.write(new, [c.chunk_id for c in old])

    bodies = recorder.bodies("/_bulk")[before:]
    lines = [json.loads(line) for body in bodies for line in body.splitlines()]
    kinds = [next(iter(line)) for line in lines if set(line) <= {"delete", "index"}]
    assert len(bodies) > 1 and kinds == ["delete"] * 3 + ["index"] * 6
    assert index.count() == 6
    client.indices.delete(index=name)


def test_rejected_items_are_named_and_the_others_written(index: OpenSearchVectorIndex) -> None:
    vectors = unit_vectors(3, seed=2)
    numeric = make_chunk("a.txt", 0, "ledger alpha", vectors[0], metadata={"year": 2021})
    index.write([numeric])
    wrong = make_chunk("b.txt", 0, "ledger beta", vectors[1], metadata={"year": "recent"})
    good = make_chunk("c.txt", 0, "ledger gamma", vectors[2], metadata={"year": 2024})

    with pytest.raises(BackendError) as caught:
        index.write([wrong, good])

    assert wrong.chunk_id in caught.value.message and "metadata.year" in caught.value.message
    assert caught.value.details["failed"] == [wrong.chunk_id]
    assert not isinstance(caught.value, ThrottledError)
    assert set(ids(index.keyword_search("ledger", 10, tenant=TENANT))) == {numeric.chunk_id, good.chunk_id}


class ThrottlingClient:
    """The real client, except that ``bulk`` answers 429 for the chosen items the first ``times`` calls."""

    def __init__(self, client: OpenSearch, throttled: set[str], times: int = 1) -> None:
        self._client, self._throttled, self._times = client, throttled, times
        self.bodies: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def bulk(self, body: str, **kwargs: Any) -> Any:
        self.bodies.append(body)
        lines = body.splitlines(keepends=True)
        ops, n = [], 0
        while n < len(lines):
            ((action, meta),) = json.loads(lines[n]).items()
            size = 1 if action == "delete" else 2
            ops.append((meta["_id"], action, "".join(lines[n : n + size])))
            n += size
        if self._times == 0:
            return self._client.bulk(body=body, **kwargs)
        self._times -= 1
        passed = "".join(text for cid, _, text in ops if cid not in self._throttled)
        answered = iter(self._client.bulk(body=passed, **kwargs)["items"]) if passed else iter(())
        throttled = {"status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}
        items = [{action: throttled} if cid in self._throttled else next(answered) for cid, action, _ in ops]
        return {"errors": True, "items": items}


def test_throttled_items_are_retried_alone_until_written(client: OpenSearch) -> None:
    doc = make_document("t.txt", ["heron one", "heron two", "heron three"])
    throttling = ThrottlingClient(client, {doc[1].chunk_id})
    pauses: list[float] = []
    index = OpenSearchVectorIndex(throttling, f"chunks-{uuid.uuid4().hex[:12]}", DIMENSION, refresh=True,  # type: ignore[arg-type]
                                  sleep=pauses.append)  # fmt: skip

    index.write(doc)

    assert len(throttling.bodies) == 2 and len(pauses) == 1 and 0 <= pauses[0] < 0.25
    retried = [json.loads(line) for line in throttling.bodies[1].splitlines()]
    assert len(retried) == 2 and retried[0]["index"]["_id"] == doc[1].chunk_id
    assert set(ids(index.keyword_search("heron", 10, tenant=TENANT))) == {c.chunk_id for c in doc}
    client.indices.delete(index=index.index_name)


def test_items_throttled_past_the_retries_raise_throttled(client: OpenSearch) -> None:
    doc = make_document("t.txt", ["stork one", "stork two"])
    throttling = ThrottlingClient(client, {doc[0].chunk_id}, times=99)
    pauses: list[float] = []
    index = OpenSearchVectorIndex(throttling, f"chunks-{uuid.uuid4().hex[:12]}", DIMENSION, max_retries=3,  # type: ignore[arg-type]
                                  sleep=pauses.append)  # fmt: skip

    with pytest.raises(ThrottledError) as caught:
        index.write(doc)

    assert len(pauses) == 3 and caught.value.details["failed"] == [doc[0].chunk_id]
    client.indices.delete(index=index.index_name)


class FailingClient:
    """Every ``bulk`` raises the given transport error."""

    def __init__(self, client: OpenSearch, error: Exception) -> None:
        self._client, self._error, self.calls = client, error, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def bulk(self, **_: Any) -> Any:
        self.calls += 1
        raise self._error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TransportError(429, "too_many_requests", {"error": {"type": "too_many_requests", "reason": "slow"}}),
         ThrottledError),
        (TransportError(503, "unavailable", {}), BackendError),
        (TransportConnectionError("N/A", "connection refused", OSError()), BackendError),
    ],
)  # fmt: skip
def test_failed_requests_are_retried_then_become_our_errors(
    client: OpenSearch, error: Exception, expected: type[Exception]
) -> None:
    failing = FailingClient(client, error)
    index = OpenSearchVectorIndex(failing, f"chunks-{uuid.uuid4().hex[:12]}", DIMENSION, max_retries=2,  # type: ignore[arg-type]
                                  sleep=lambda _: None)  # fmt: skip

    with pytest.raises(expected):
        index.write(make_document("f.txt", ["x"]))

    assert failing.calls == 3
    client.indices.delete(index=index.index_name)


# -------------------------------------------------------------------- searches


def test_knn_request_follows_the_knn_plugin_format(index: OpenSearchVectorIndex, recorder: KnnRecorder) -> None:
    index.write(make_document("k.txt", ["x"]))
    query = [0.0] * DIMENSION
    query[0] = 2.0  # not unit length: sent normalised, so the inner product is the cosine
    condition = parse_filter({"equals": {"key": "team", "value": "legal"}})

    index.vector_search(query, 7, tenant=TENANT, filter=condition)

    (body,) = [body for body in recorder.bodies("/_search") if "knn" in body["query"]]
    assert body["size"] == 7 and body["_source"] == {"excludes": ["vector"]}
    assert body["query"] == {
        "knn": {
            "vector": {
                "vector": [1.0] + [0.0] * (DIMENSION - 1),
                "k": 7,
                "filter": {"bool": {"filter": [{"term": {"tenant": TENANT}}, {"term": {"metadata.team": "legal"}}]}},
            }
        }
    }


@pytest.mark.parametrize("ip", [1.0, 0.6, 0.0, -0.3, -1.0])
def test_faiss_innerproduct_scores_become_cosines(ip: float) -> None:
    faiss_score = 1 + ip if ip >= 0 else 1 / (1 - ip)
    assert module._cosine(faiss_score) == pytest.approx(ip)


def test_keyword_request_sums_text_and_title_with_the_measured_title_weight(
    index: OpenSearchVectorIndex, recorder: KnnRecorder
) -> None:
    index.write(make_document("k.txt", ["x"]))

    index.keyword_search("How do the salmon spawn?", 4, tenant=TENANT)

    (body,) = recorder.bodies("/_search")
    assert body["size"] == 4 and body["_source"] == {"excludes": ["vector"]}
    assert body["query"]["bool"] == {
        "must": [{"multi_match": {"query": "salmon spawn", "fields": ["text", "title^0.5"], "type": "most_fields",
                                  "operator": "or"}}],
        "filter": [{"term": {"tenant": TENANT}}],
    }  # fmt: skip


def test_hybrid_candidates_are_one_msearch_with_both_rankings(
    index: OpenSearchVectorIndex, recorder: KnnRecorder
) -> None:
    doc = make_document("h.txt", ["kestrel hovers", "falcon dives", "owl hoots"], metadata={"team": "birds"})
    index.write(doc)
    condition = parse_filter({"equals": {"key": "team", "value": "birds"}})
    recorder.requests.clear()

    keyword, vector = index.hybrid_candidates("kestrel", doc[1].vector or [], 3, tenant=TENANT, filter=condition)

    assert [url for _, url, _ in recorder.requests] == ["/_msearch"]
    assert keyword == index.keyword_search("kestrel", 3, tenant=TENANT, filter=condition)
    assert vector == index.vector_search(doc[1].vector or [], 3, tenant=TENANT, filter=condition)
    assert ids(keyword) == [doc[0].chunk_id] and keyword[0].highlights == ("kestrel",)
    assert ids(vector)[0] == doc[1].chunk_id and vector[0].score == pytest.approx(1.0, abs=1e-5)


class ThrottledSearchClient:
    """The real client, except that the first ``_msearch`` has one search answered 429."""

    def __init__(self, client: OpenSearch) -> None:
        self._client, self.calls = client, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def msearch(self, body: Any, **kwargs: Any) -> Any:
        self.calls += 1
        response = self._client.msearch(body=body, **kwargs)
        if self.calls == 1:
            error = {"type": "circuit_breaking_exception", "reason": "too many requests"}
            response["responses"][0] = {"error": error, "status": 429}
        return response


def test_a_throttled_search_inside_msearch_retries_the_msearch(index: OpenSearchVectorIndex) -> None:
    doc = make_document("m.txt", ["plover runs", "tern dives"])
    index.write(doc)
    throttled = ThrottledSearchClient(index._client)
    retrying = OpenSearchVectorIndex(throttled, index.index_name, DIMENSION, sleep=lambda _: None)  # type: ignore[arg-type]

    keyword, vector = retrying.hybrid_candidates("plover", doc[1].vector or [], 2, tenant=TENANT)

    assert throttled.calls == 2 and ids(keyword) == [doc[0].chunk_id] and ids(vector)[0] == doc[1].chunk_id


def test_hybrid_candidates_of_a_missing_index_are_empty(index: OpenSearchVectorIndex) -> None:
    assert index.hybrid_candidates("anything", unit_vectors(1)[0].tolist(), 5, tenant=TENANT) == ([], [])


def test_a_filter_value_of_the_wrong_type_is_a_client_mistake(index: OpenSearchVectorIndex) -> None:
    index.write([make_chunk("y.txt", 0, "yearly report", unit_vectors(1)[0], metadata={"year": 2021})])

    for raw in ({"equals": {"key": "year", "value": "recent"}}, {"startsWith": {"key": "year", "value": "20"}}):
        with pytest.raises(InvalidRequestError):
            index.keyword_search("report", 5, tenant=TENANT, filter=parse_filter(raw))


def test_without_the_recorder_osmem_refuses_knn_as_a_backend_error(client: OpenSearch) -> None:
    index = OpenSearchVectorIndex(client, f"chunks-{uuid.uuid4().hex[:12]}", DIMENSION, refresh=True)
    doc = make_document("n.txt", ["x"], metadata={"team": "a"})
    index.write(doc)
    condition = parse_filter({"equals": {"key": "team", "value": "a"}})

    with pytest.raises(BackendError, match="knn") as caught:
        index.vector_search(doc[0].vector or [], 1, tenant=TENANT, filter=condition)

    assert not isinstance(caught.value, InvalidRequestError)
    client.indices.delete(index=index.index_name)


def test_chunks_of_pages_through_long_documents(
    index: OpenSearchVectorIndex, recorder: KnnRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "_PAGE", 5)
    doc = make_document("long.txt", [f"part {n}" for n in range(12)])
    index.write(list(reversed(doc)))
    recorder.requests.clear()

    chunks = index.chunks_of(doc[0].document_id)

    assert [c.ordinal for c in chunks] == list(range(12)) and len(recorder.bodies("/_search")) == 3


def test_highlights_and_stopwords_match_the_local_index() -> None:
    local = pytest.importorskip("sluice.adapters.local.local_vector_index")
    query = "What is the Salmon's spawning season, and where do salmon go?"
    text = "Salmon spawn upstream; the spawning season is autumn."

    assert module._STOPWORDS == local._STOPWORDS
    assert module._highlights(module._highlight_words(query), text) == local._highlights(
        local._highlight_words(query), text
    )


# -------------------------------------------------------------------- connect


def test_connect_signs_with_sigv4_over_verified_https() -> None:
    from botocore.credentials import Credentials

    client = connect("https://search-x.eu-west-1.es.amazonaws.com/", "eu-west-1", "aoss", Credentials("a", "b", "c"))

    (connection,) = client.transport.connection_pool.connections
    assert connection.host == "https://search-x.eu-west-1.es.amazonaws.com:443"
    assert connection.use_ssl and connection.pool.cert_reqs == "CERT_REQUIRED"
    assert connection.headers is not None and client.transport.max_retries == 0
    assert connection.http_auth.service == "aoss" and connection.http_auth.signer.region == "eu-west-1"
