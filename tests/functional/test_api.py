"""The HTTP API through FastAPI's TestClient, over a temporary state folder and fakes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from sluice.api.app import STATIC_DIR, create_app
from sluice.bootstrap import Container
from sluice.domain.errors import BackendError, ThrottledError
from sluice.domain.models import Answer, Hit
from tests.fakes import make_container

LIGHTHOUSE = b"""# Lighthouse

The lighthouse opens at dawn every day of the year. Visitors climb 120 steps to the lamp room.

## Tickets

Tickets cost five euros for adults and are free for children under twelve.
"""
BAKERY = b"""# Bakery

The bakery on the harbour sells rye bread and cinnamon buns from seven in the morning.
"""


def upload(client: TestClient, name: str, data: bytes) -> dict[str, Any]:
    response = client.post("/v1/documents", files={"file": (name, data)})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["details"], dict)
    return error  # type: ignore[no-any-return]


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    container = make_container(tmp_path / "state")
    yield container
    container.close()


@pytest.fixture
def client(container: Container) -> TestClient:
    return TestClient(create_app(container))


@pytest.fixture
def corpus(client: TestClient) -> dict[str, str]:
    return {name: upload(client, name, data)["document"] for name, data in
            (("lighthouse.md", LIGHTHOUSE), ("bakery.txt", BAKERY))}


# Search and answer


@pytest.mark.parametrize("mode", ["hybrid", "vector", "keyword"])
def test_search_returns_hits_with_their_source(client: TestClient, corpus: dict[str, str], mode: str) -> None:
    response = client.post("/v1/search", json={"query": "when does the lighthouse open", "k": 3, "mode": mode})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == mode
    top = body["hits"][0]
    assert top["document"] == corpus["lighthouse.md"]
    assert top["source"].endswith("lighthouse.md")
    assert top["title"] == "Lighthouse"
    assert "dawn" in top["text"]
    assert {"page", "score", "highlights"} <= set(top)
    assert body["timings_ms"]["total"] >= 0


def test_search_filter_narrows_the_hits(client: TestClient, corpus: dict[str, str]) -> None:
    flt = {"equals": {"key": "document_id", "value": corpus["bakery.txt"]}}
    response = client.post("/v1/search", json={"query": "lighthouse bread", "filter": flt})
    assert response.status_code == 200, response.text
    assert {h["document"] for h in response.json()["hits"]} == {corpus["bakery.txt"]}


def test_answer_cites_the_document_it_quotes(client: TestClient, corpus: dict[str, str]) -> None:
    response = client.post("/v1/answer", json={"question": "How much do lighthouse tickets cost for adults?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answered"] is True
    assert "five euros" in body["answer"]
    citation = body["citations"][0]
    assert citation["document"] == corpus["lighthouse.md"]
    assert citation["quote"] in LIGHTHOUSE.decode().replace("\n", " ") or "five euros" in citation["quote"]
    assert {"marker", "source", "title", "page"} <= set(citation)
    assert body["answer_id"] and body["model"] == "extractive"
    assert set(body["usage"]) == {"embedding_tokens", "input_tokens", "output_tokens", "estimated_cost_usd"}
    assert {"embed", "retrieve", "generate", "total"} <= set(body["timings_ms"])


def test_answer_says_so_when_the_documents_do_not_answer(client: TestClient, corpus: dict[str, str]) -> None:
    response = client.post("/v1/answer", json={"question": "Which volcano erupted in 1783?"})
    assert response.status_code == 200
    assert response.json()["answered"] is False
    assert response.json()["citations"] == []


def test_stream_sends_tokens_then_citations_then_the_full_answer(client: TestClient, corpus: dict[str, str]) -> None:
    response = client.post("/v1/answer/stream", json={"question": "When does the lighthouse open?"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"token"}
    done = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "token") == done["answer"]
    assert events[-2][1]["citations"] == done["citations"]
    assert done["answered"] is True and done["answer_id"]


def test_stream_errors_before_streaming_are_json(client: TestClient) -> None:
    assert_error(client.post("/v1/answer/stream", json={"question": "   "}), 422, "invalid_request")


# Client mistakes: always 4xx JSON with a code and a message


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field"),
    [
        ("/v1/search", "{not json", 400, "malformed_json", None),
        ("/v1/search", '{"query": 5}', 422, "invalid_request", "query"),
        ("/v1/search", '{"query": "x", "k": "ten"}', 422, "invalid_request", "k"),
        ("/v1/search", '{"query": "x", "k": "5"}', 422, "invalid_request", "k"),
        ("/v1/search", '{"query": "x", "mode": "fuzzy"}', 422, "invalid_request", "mode"),
        ("/v1/search", '{"query": "x", "colour": "red"}', 422, "invalid_request", "colour"),
        ("/v1/search", '{"query": "x", "k": 0}', 422, "invalid_request", "k"),
        ("/v1/search", '{"query": "x", "k": 101}', 422, "invalid_request", None),
        ("/v1/search", '{"query": "x", "filter": {"like": {"key": "a", "value": "b"}}}', 422, "invalid_filter", None),
        ("/v1/search", '{"query": "x", "filter": {"equals": {"key": "a"}}}', 422, "invalid_filter", None),
        ("/v1/search", '[]', 422, "invalid_request", None),
        ("/v1/answer", '{"question": ""}', 422, "invalid_request", "question"),
        ("/v1/answer", '{"question": "   "}', 422, "invalid_request", None),
        ("/v1/answer", '{"question": "' + "x" * 2001 + '"}', 422, "limit_exceeded", None),
        ("/v1/answer", "", 422, "invalid_request", "body"),
        ("/v1/feedback", '{"answer_id": "a", "rating": "meh"}', 422, "invalid_request", "rating"),
    ],
)
def test_bad_requests_get_a_4xx_json_error(
    client: TestClient, path: str, body: str, status: int, code: str, field: str | None
) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    error = assert_error(response, status, code)
    if field:
        assert field in error["message"]
        assert field in [e["field"] for e in error["details"]["errors"]]


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/v1/search"), 405, "method_not_allowed")


def test_json_body_over_the_limit_is_413(tmp_path: Path) -> None:
    client = TestClient(create_app(make_container(tmp_path, max_request_bytes=200)))
    error = assert_error(client.post("/v1/search", json={"query": "x" * 500}), 413, "request_too_large")
    assert "max_request_bytes" in error["message"]


def test_chunked_body_over_the_limit_is_413(tmp_path: Path) -> None:
    client = TestClient(create_app(make_container(tmp_path, max_request_bytes=200)))
    chunks = iter([b'{"query": "', b"x" * 300, b'"}'])
    response = client.post("/v1/search", content=chunks, headers={"content-type": "application/json"})
    assert_error(response, 413, "request_too_large")


# Documents


def test_upload_of_an_unsupported_type_names_the_supported_ones(client: TestClient) -> None:
    response = client.post("/v1/documents", files={"file": ("slides.pptx", b"PK\x03\x04 not really")})
    error = assert_error(response, 415, "unsupported_document")
    assert ".pdf" in error["details"]["supported"] and ".pdf" in error["message"]


def test_upload_over_the_file_limit_is_413_naming_the_limit(tmp_path: Path) -> None:
    client = TestClient(create_app(make_container(tmp_path, max_file_bytes=100)))
    error = assert_error(client.post("/v1/documents", files={"file": ("big.txt", b"word " * 100)}), 413,
                         "request_too_large")
    assert "max_file_bytes" in error["message"]
    assert client.get("/v1/documents").json()["documents"] == []


def test_upload_of_an_empty_file_or_without_a_file_is_422(client: TestClient) -> None:
    assert_error(client.post("/v1/documents", files={"file": ("empty.txt", b"")}), 422, "empty_document")
    assert_error(client.post("/v1/documents", data={"other": "x"}), 422, "invalid_request")


def test_upload_of_an_unreadable_file_is_stored_as_failed_with_the_reason(client: TestClient) -> None:
    body = upload(client, "broken.pdf", b"%PDF-1.7 this is not a pdf")
    assert body["status"] == "failed" and body["reason"] and body["code"]
    record = client.get(body["status_url"]).json()
    assert record["status"] == "failed" and record["error"] == body["reason"]


def test_documents_are_listed_a_page_at_a_time(client: TestClient, corpus: dict[str, str]) -> None:
    first = client.get("/v1/documents", params={"limit": 1}).json()
    assert len(first["documents"]) == 1 and first["next"]
    second = client.get("/v1/documents", params={"limit": 1, "cursor": first["next"]}).json()
    assert {d["document"] for d in first["documents"] + second["documents"]} == set(corpus.values())
    assert second["next"] is None
    indexed = client.get("/v1/documents", params={"status": "indexed"}).json()["documents"]
    assert len(indexed) == 2
    assert_error(client.get("/v1/documents", params={"status": "lost"}), 422, "invalid_request")
    assert_error(client.get("/v1/documents", params={"limit": 0}), 422, "invalid_request")


def test_document_detail_and_unknown_id(client: TestClient, corpus: dict[str, str]) -> None:
    detail = client.get(f"/v1/documents/{corpus['lighthouse.md']}").json()
    assert detail["status"] == "indexed" and detail["chunk_count"] >= 1 and detail["title"] == "Lighthouse"
    assert detail["size"] == len(LIGHTHOUSE) and detail["error"] == "" and "updated_at" in detail
    assert_error(client.get("/v1/documents/0123456789abcdef01234567"), 404, "not_found")
    assert_error(client.delete("/v1/documents/0123456789abcdef01234567"), 404, "not_found")


def test_delete_removes_chunks_and_upload_and_a_second_delete_is_404(
    client: TestClient, container: Container, corpus: dict[str, str]
) -> None:
    doc = corpus["lighthouse.md"]
    source = client.get(f"/v1/documents/{doc}").json()["source"]
    response = client.delete(f"/v1/documents/{doc}")
    assert response.status_code == 200 and response.json() == {"document": doc, "deleted": True}
    assert container.index.chunks_of(doc) == []
    assert not Path(source).exists()
    hits = client.post("/v1/search", json={"query": "lighthouse dawn"}).json()["hits"]
    assert doc not in {h["document"] for h in hits}
    assert client.get(f"/v1/documents/{doc}").json()["status"] == "deleted"
    error = assert_error(client.delete(f"/v1/documents/{doc}"), 404, "not_found")
    assert "already deleted" in error["message"]
    assert upload(client, "lighthouse.md", LIGHTHOUSE)["status"] == "indexed"


def test_concurrent_uploads_of_one_name_leave_one_consistent_version(
    client: TestClient, container: Container
) -> None:
    versions = [f"Version {n} of the notice. The ferry leaves at {n} o'clock sharp.\n".encode() * (n + 1)
                for n in range(8)]
    results: list[int] = []

    def send(data: bytes) -> None:
        results.append(client.post("/v1/documents", files={"file": ("notice.txt", data)}).status_code)

    threads = [threading.Thread(target=send, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * len(versions)
    [record] = client.get("/v1/documents").json()["documents"]
    assert record["status"] == "indexed"
    stored = Path(record["source"]).read_bytes()
    assert stored in versions
    chunks = container.index.chunks_of(record["document"])
    assert len(chunks) == record["chunk_count"]
    assert " ".join(c.text for c in chunks).split()[:3] == stored.decode().split()[:3]
    assert not [p for p in Path(record["source"]).parent.iterdir() if p.name.endswith(".tmp")]


# Feedback


def test_feedback_is_stored_with_the_answer(client: TestClient, container: Container, corpus: dict[str, str]) -> None:
    question = "When does the lighthouse open?"
    answer = client.post("/v1/answer", json={"question": question}).json()
    response = client.post("/v1/feedback", json={"answer_id": answer["answer_id"], "rating": "up", "comment": "ok"})
    assert response.status_code == 201, response.text
    assert response.json()["question"] == question and response.json()["rating"] == "up"
    [row] = container.feedback.feedback_for(answer["answer_id"])  # type: ignore[attr-defined]
    assert row["answer"] == answer["answer"] and row["citations"] == answer["citations"]


def test_feedback_on_a_streamed_answer_works_too(client: TestClient, corpus: dict[str, str]) -> None:
    stream = client.post("/v1/answer/stream", json={"question": "When does the lighthouse open?"})
    answer_id = sse_events(stream.text)[-1][1]["answer_id"]
    assert client.post("/v1/feedback", json={"answer_id": answer_id, "rating": "down"}).status_code == 201


def test_feedback_for_an_unknown_answer_is_404_and_long_comments_422(client: TestClient) -> None:
    assert_error(client.post("/v1/feedback", json={"answer_id": "nope", "rating": "up"}), 404, "not_found")
    body = {"answer_id": "nope", "rating": "up", "comment": "x" * 5000}
    assert_error(client.post("/v1/feedback", json=body), 422, "limit_exceeded")


# Server-side failures


class ExplodingGenerator:
    model_id = "exploding"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        raise self.error

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        yield "The first words"
        raise self.error


def exploding_client(tmp_path: Path, error: Exception) -> TestClient:
    container = make_container(tmp_path, overrides={"generator": ExplodingGenerator(error)})
    return TestClient(create_app(container), raise_server_exceptions=False)


def test_unexpected_error_is_500_json_with_request_id_and_no_traceback(tmp_path: Path) -> None:
    client = exploding_client(tmp_path, RuntimeError("secret internals at line 42"))
    response = client.post("/v1/answer", json={"question": "anything"}, headers={"X-Request-ID": "req-123"})
    error = assert_error(response, 500, "internal_error")
    assert error["details"]["request_id"] == "req-123" == response.headers["x-request-id"]
    assert "secret" not in response.text and "Traceback" not in response.text


def test_throttling_is_503_with_retry_after(tmp_path: Path) -> None:
    client = exploding_client(tmp_path, ThrottledError("the model is busy; try again shortly"))
    response = client.post("/v1/answer", json={"question": "anything"})
    assert_error(response, 503, "throttled")
    assert int(response.headers["retry-after"]) > 0


def test_error_mid_stream_is_an_error_event(tmp_path: Path) -> None:
    client = exploding_client(tmp_path, BackendError("the model went away"))
    response = client.post("/v1/answer/stream", json={"question": "anything"})
    events = sse_events(response.text)
    assert [name for name, _ in events] == ["token", "error"]
    assert events[-1][1]["error"]["code"] == "backend_error"


class SlowGenerator:
    """Streams many pieces and notes whether it was closed early."""

    model_id = "slow"

    def __init__(self) -> None:
        self.closed = False
        self.pieces = 0

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        return Answer(text="done", answered=True, citations=[])

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        try:
            for n in range(1000):
                self.pieces += 1
                yield f"piece {n} "
            yield self.answer(question, hits)
        finally:
            self.closed = True


def test_client_going_away_mid_stream_leaves_the_server_healthy(tmp_path: Path) -> None:
    generator = SlowGenerator()
    app = create_app(make_container(tmp_path, overrides={"generator": generator}))
    body = json.dumps({"question": "anything at all"}).encode()
    bodies: list[bytes] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            bodies.append(message["body"])
            if len(bodies) >= 3:
                raise OSError("connection reset by peer")

    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": "POST", "scheme": "http", "path": "/v1/answer/stream", "raw_path": b"/v1/answer/stream",
        "root_path": "", "query_string": b"", "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1234), "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    assert generator.closed and generator.pieces < 1000
    with TestClient(app) as client:
        assert client.post("/v1/answer", json={"question": "still there?"}).status_code == 200


# Probes, request ids and the home page


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


class NoModelContainer(Container):
    @property  # type: ignore[override]
    def embedder(self) -> Any:
        raise BackendError("the embedding model is missing; run make install")


def test_not_ready_without_the_model(tmp_path: Path) -> None:
    base = make_container(tmp_path)
    client = TestClient(create_app(NoModelContainer(base.settings, base.overrides)))
    assert_error(client.get("/readyz"), 503, "not_ready")


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"] == "abc-1"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
    assert made and made != "bad id\twith spaces"


def test_home_page_or_pointer_to_docs(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    if (STATIC_DIR / "index.html").is_file():
        assert response.headers["content-type"].startswith("text/html")
    else:
        assert response.json()["docs"] == "/docs"
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Sluice"
