"""The query Lambda: API Gateway HTTP API (payload 2.0) events through Mangum into the FastAPI app.

In a multi-tenant stack the caller's tenant must come from the JWT claims the
authorizer verified, never from the request; in a single-tenant stack every
caller is the stack's tenant, the one the ingest function files documents
under. The handler module is imported fresh per test, so its container reads
the test's environment; fakes go in through the container's overrides.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sluice.domain.ids import chunk_id, content_hash, document_id
from sluice.domain.models import IndexedChunk
from tests.fakes import HashingEmbedder, InMemoryVectorIndex
from tests.handlers import import_handler

ROOT = Path(__file__).parents[2]
EVENTS = ROOT / "tests" / "events"
PASSAGES = {
    "acme": ("acme/locks.md", "Canal locks work by filling and emptying a chamber between two gates."),
    "globex": ("globex/locks.md", "Globex canal locks work with sector gates that swing on vertical hinges."),
}

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")
pytest.importorskip("aws_lambda_powertools")
pytest.importorskip("mangum")


@dataclass
class LambdaContext:
    function_name: str = "sluice-QueryFunction"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:sluice-QueryFunction"
    aws_request_id: str = "9f1b7c2e-1d3a-4e5f-8a9b-0c1d2e3f4a5b"


def event(path: str = "/v1/search", body: dict[str, Any] | None = None, **claims: Any) -> dict[str, Any]:
    """tests/events/http_api_search.json with another path, body or JWT claims (None removes a claim)."""
    evt = copy.deepcopy(json.loads((EVENTS / "http_api_search.json").read_text()))
    evt["rawPath"] = evt["requestContext"]["http"]["path"] = path
    if body is not None:
        evt["body"] = json.dumps(body)
        evt["headers"]["content-length"] = str(len(evt["body"]))
    jwt_claims = evt["requestContext"]["authorizer"]["jwt"]["claims"]
    for name, value in claims.items():
        name = name.replace("custom_", "custom:")
        if value is None:
            jwt_claims.pop(name, None)
        else:
            jwt_claims[name] = value
    return evt  # type: ignore[no-any-return]


def chunk(tenant: str, source: str, text: str) -> IndexedChunk:
    doc = document_id(tenant, source)
    return IndexedChunk(chunk_id=chunk_id(doc, 0), document_id=doc, tenant=tenant, source=source, title="Locks",
                        text=text, vector=HashingEmbedder()._vector(text), ordinal=0,
                        content_hash=content_hash(text), document_version="v1", char_end=len(text))


@pytest.fixture
def load_handler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., ModuleType]:
    def load(**settings: str) -> ModuleType:
        settings = {"multi_tenant": "true", **settings}
        env = {"SLUICE_STATE_DIR": str(tmp_path), "POWERTOOLS_TRACE_DISABLED": "true",
               **{f"SLUICE_{k.upper()}": v for k, v in settings.items()}}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        index = InMemoryVectorIndex(HashingEmbedder.dimension)
        index.write([chunk(tenant, *passage) for tenant, passage in PASSAGES.items()])
        # Adapters are built on first use, so overrides set right after the import take effect.
        module = import_handler("functions/query/app.py")
        module.container.overrides.update(embedder=HashingEmbedder(), index=index)
        return module

    return load


def call(module: ModuleType, evt: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = module.handler(evt, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def sources(body: dict[str, Any]) -> set[str]:
    return {hit["source"] for hit in body["hits"]}


def test_the_tenant_is_the_custom_tenant_claim(load_handler: Callable[..., ModuleType]) -> None:
    status, body = call(load_handler(), event())
    assert status == 200
    assert sources(body) == {"acme/locks.md"}
    status, body = call(load_handler(), event(custom_tenant="globex"))
    assert sources(body) == {"globex/locks.md"}


def test_a_body_cannot_choose_the_tenant(load_handler: Callable[..., ModuleType]) -> None:
    status, body = call(load_handler(), event(body={"query": "canal locks", "tenant": "globex"}))
    assert status == 422
    assert "tenant" in json.dumps(body["error"])


def test_without_a_tenant_claim_the_subject_is_the_tenant(load_handler: Callable[..., ModuleType]) -> None:
    module = load_handler()
    status, body = call(module, event(custom_tenant=None, tenant="globex"))
    assert sources(body) == {"globex/locks.md"}
    status, body = call(module, event(custom_tenant=None))
    assert status == 200 and body["hits"] == []  # the subject "7d2f..." owns no documents


def test_no_claims_is_a_json_error_naming_the_fix(load_handler: Callable[..., ModuleType]) -> None:
    evt = event()
    del evt["requestContext"]["authorizer"]
    status, body = call(load_handler(), evt)
    assert status == 500
    assert body["error"]["code"] == "configuration_error"
    assert "authorizer" in body["error"]["message"]


def test_with_auth_disabled_every_caller_is_the_configured_tenant(load_handler: Callable[..., ModuleType]) -> None:
    module = load_handler(auth_disabled="true", tenant="globex")
    evt = event()
    del evt["requestContext"]["authorizer"]
    assert sources(call(module, evt)[1]) == {"globex/locks.md"}
    assert sources(call(module, event())[1]) == {"globex/locks.md"}


def test_in_a_single_tenant_stack_every_caller_is_the_stack_tenant(load_handler: Callable[..., ModuleType]) -> None:
    module = load_handler(multi_tenant="false", tenant="acme")
    assert sources(call(module, event())[1]) == {"acme/locks.md"}
    assert sources(call(module, event(custom_tenant="globex"))[1]) == {"acme/locks.md"}
    evt = event()
    del evt["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant"]
    assert sources(call(module, evt)[1]) == {"acme/locks.md"}


def test_answers_and_feedback_are_emitted_as_metrics_on_aws(
    load_handler: Callable[..., ModuleType], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from sluice.adapters.local.sqlite_feedback_store import SqliteFeedbackStore

    module = load_handler(backend="aws")
    module.container.overrides["feedback"] = SqliteFeedbackStore(tmp_path / "feedback.sqlite3")
    status, answer = call(module, event("/v1/answer", {"question": "How do canal locks work?"}))
    assert status == 200, answer
    status, _ = call(module, event("/v1/feedback", {"answer_id": answer["answer_id"], "rating": "up"}))
    assert status == 201
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for blob in emitted for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"AnswersServed", "RetrieveLatency", "FeedbackReceived"} <= names
    assert all(d["Namespace"] == "Sluice" for blob in emitted for d in blob["_aws"]["CloudWatchMetrics"])
