"""Tenancy on AWS, through both Lambda handlers: a multi-tenant stack on moto (S3, DynamoDB).

Documents under ``tenants/<tenant>/`` belong to that tenant; the ingest
handler derives the tenant from each key and the query handler from the
caller's JWT, so each tenant sees only its own documents. An upload through
the API is stored under the caller's prefix and answered 202 (the query
function has no parsers); its S3 event then ingests it for that tenant.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from sluice.adapters.aws.dynamodb_document_registry import table_definition
from sluice.domain.ids import document_id
from sluice.domain.models import DocumentStatus
from tests.fakes import HashingEmbedder, InMemoryVectorIndex
from tests.functional.test_query_handler import LambdaContext as QueryContext
from tests.functional.test_query_handler import event as http_event
from tests.handlers import import_handler
from tests.integration.test_ingest_handler import BUCKET, REGION, TABLE, LambdaContext, load, sqs_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")
ACME = "tenants/acme/locks.md"
GLOBEX = "tenants/globex/locks.md"


@dataclass
class Stack:
    s3: Any
    ingest: ModuleType
    query: ModuleType
    sequencers: Iterator[int]

    def put(self, key: str, body: bytes) -> None:
        """Put an object and run the ingest handler on its S3 notification."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        self.notify(key, len(body))

    def notify(self, key: str, size: int) -> None:
        notification = copy.deepcopy(load("s3_object_created.json"))
        obj = notification["Records"][0]["s3"]["object"]
        obj.update(key=quote_plus(key), size=size, sequencer=f"{next(self.sequencers):018X}")
        message = {"MessageId": uuid.uuid4().hex, "ReceiptHandle": "r", "Body": json.dumps(notification),
                   "MD5OfBody": ""}
        assert self.ingest.handler(sqs_event([message]), LambdaContext()) == {"batchItemFailures": []}

    def ask(self, tenant: str, method: str = "POST", path: str = "/v1/search", body: Any = None) -> Any:
        evt = http_event(path, body if method == "POST" else None, custom_tenant=tenant)
        evt["requestContext"]["http"]["method"] = method
        response = self.query.handler(evt, QueryContext())
        return response["statusCode"], json.loads(response["body"])

    def upload(self, tenant: str, name: str, data: bytes) -> tuple[int, dict[str, Any]]:
        boundary = "sluice-test-boundary"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: text/markdown\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        evt = http_event("/v1/documents", custom_tenant=tenant)
        evt["headers"].update({"content-type": f"multipart/form-data; boundary={boundary}",
                               "content-length": str(len(body))})
        evt.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
        response = self.query.handler(evt, QueryContext())
        return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Stack]:
    pytest.importorskip("aws_lambda_powertools")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": REGION, "SLUICE_BACKEND": "aws", "SLUICE_DOCUMENTS_BUCKET": BUCKET,
           "SLUICE_REGISTRY_TABLE": TABLE, "SLUICE_STATE_DIR": str(tmp_path), "SLUICE_MULTI_TENANT": "true",
           "SLUICE_TENANT": "default", "POWERTOOLS_TRACE_DISABLED": "true"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb", region_name=REGION).create_table(**table_definition(TABLE))
        ingest, query = import_handler("functions/ingest/app.py"), import_handler("functions/query/app.py")
        # One index and embedder behind both functions, as one OpenSearch domain and Bedrock model are.
        shared = {"embedder": HashingEmbedder(), "index": InMemoryVectorIndex(HashingEmbedder.dimension)}
        ingest.container.overrides.update(shared)
        query.container.overrides.update(shared)
        yield Stack(s3, ingest, query, itertools.count(0x683D6A1349B2C4F1))


def sources(body: dict[str, Any]) -> set[str]:
    return {hit["source"] for hit in body["hits"]}


def test_each_tenant_sees_only_the_documents_under_its_prefix(stack: Stack) -> None:
    stack.put(ACME, b"# Locks\n\nCanal locks work by filling and emptying a chamber between two gates.\n")
    stack.put(GLOBEX, b"# Locks\n\nGlobex canal locks work with sector gates on vertical hinges.\n")
    assert sources(stack.ask("acme", body={"query": "canal locks gates"})[1]) == {ACME}
    assert sources(stack.ask("globex", body={"query": "canal locks gates"})[1]) == {GLOBEX}
    assert sources(stack.ask("initech", body={"query": "canal locks gates"})[1]) == set()
    status, listing = stack.ask("acme", "GET", "/v1/documents")
    assert status == 200 and [d["source"] for d in listing["documents"]] == [ACME]
    # Another tenant's document id is unknown to this caller.
    assert stack.ask("globex", "GET", f"/v1/documents/{document_id('acme', ACME)}")[0] == 404


def test_keys_outside_the_tenants_folder_belong_to_nobody(stack: Stack) -> None:
    stack.put("loose.md", b"# Loose\n\nA document dropped at the root of the bucket.\n")
    registry = stack.ingest.container.registry
    assert registry.get(document_id("default", "loose.md")) is None
    assert registry.list("default")[0] == []


def test_an_upload_is_stored_under_the_callers_prefix_and_ingested_by_its_event(stack: Stack) -> None:
    data = b"# Notes\n\nThe acme lock keeper opens the paddles slowly.\n"
    status, body = stack.upload("acme", "notes.md", data)
    assert status == 202, body
    assert body["status"] == "pending" and body["source"] == "tenants/acme/uploads/notes.md"
    assert body["document"] == document_id("acme", "tenants/acme/uploads/notes.md")
    stored = stack.s3.get_object(Bucket=BUCKET, Key="tenants/acme/uploads/notes.md")["Body"].read()
    assert stored == data
    assert stack.ask("acme", "GET", body["status_url"])[1]["status"] == "pending"
    stack.notify("tenants/acme/uploads/notes.md", len(data))  # the S3 event of the stored object
    assert stack.ask("acme", "GET", body["status_url"])[1]["status"] == DocumentStatus.INDEXED.value
    assert sources(stack.ask("acme", body={"query": "lock keeper paddles"})[1]) == {"tenants/acme/uploads/notes.md"}
    assert sources(stack.ask("globex", body={"query": "lock keeper paddles"})[1]) == set()
    # Deleting it removes the chunks and the stored file.
    assert stack.ask("acme", "DELETE", body["status_url"])[0] == 200
    assert stack.s3.list_objects_v2(Bucket=BUCKET, Prefix="tenants/acme/uploads/").get("KeyCount") == 0
    assert sources(stack.ask("acme", body={"query": "lock keeper paddles"})[1]) == set()
