"""The ingest Lambda end to end on moto: S3 objects, their notifications through SQS, DynamoDB registry.

Objects go into a moto bucket; each change's S3 notification (the real shape,
from tests/events/) is sent to a moto SQS queue, received, and turned into the
batch the SQS event source mapping hands the function. The handler runs
in-process with the container its module built from the environment
(backend "aws": S3BlobSource and DynamoDbDocumentRegistry on moto), with the
hashing embedder and the in-memory index plugged in through the container's
overrides (OpenSearch and Bedrock are tested on their own).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from sluice.adapters.aws.dynamodb_document_registry import DynamoDbDocumentRegistry, table_definition
from sluice.adapters.aws.s3_blob_source import S3BlobSource
from sluice.domain.errors import ThrottledError
from sluice.domain.ids import document_id
from sluice.domain.models import DocumentStatus
from tests.fakes import HashingEmbedder, InMemoryVectorIndex
from tests.handlers import import_handler

ROOT = Path(__file__).parents[2]
EVENTS = ROOT / "tests" / "events"
BUCKET = "sluice-documents-123456789012"
TABLE = "sluice-registry"
REGION = "us-east-1"
TENANT = "default"
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


class FlakyEmbedder(HashingEmbedder):
    """Throttled (after its own retries) on any text that mentions "overloaded"."""

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if any("overloaded" in t for t in texts):
            raise ThrottledError("Bedrock is throttling embedding requests; try again shortly")
        return super().embed_documents(texts)


@dataclass
class LambdaContext:
    function_name: str = "sluice-IngestFunction"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:sluice-IngestFunction"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@dataclass
class Stack:
    """The moto resources, the loaded handler module and a way to feed it S3 changes."""

    s3: Any
    sqs: Any
    queue_url: str
    module: ModuleType
    embedder: HashingEmbedder
    index: InMemoryVectorIndex
    sequencers: Iterator[int]

    def put(self, key: str, body: bytes) -> dict[str, Any]:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return self.notification("ObjectCreated:Put", key, size=len(body))

    def remove(self, key: str) -> dict[str, Any]:
        self.s3.delete_object(Bucket=BUCKET, Key=key)
        return self.notification("ObjectRemoved:DeleteMarkerCreated", key)

    def notification(self, event_name: str, key: str, **obj: Any) -> dict[str, Any]:
        """The S3 notification of a change to ``key``, with the next (ever larger) sequencer."""
        template = "s3_object_created.json" if event_name.startswith("ObjectCreated") else "s3_object_removed.json"
        event = copy.deepcopy(load(template))
        record = event["Records"][0]
        record["eventName"] = event_name
        record["s3"]["bucket"].update(name=BUCKET, arn=f"arn:aws:s3:::{BUCKET}")
        record["s3"]["object"].update(key=quote_plus(key), sequencer=f"{next(self.sequencers):018X}", **obj)
        return event

    def deliver(self, *notifications: dict[str, Any] | str) -> dict[str, Any]:
        """Send the notifications through SQS, receive them, and run the handler on that batch."""
        for notification in notifications:
            body = notification if isinstance(notification, str) else json.dumps(notification)
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                            AttributeNames=["All"])["Messages"]
        assert len(messages) == len(notifications)
        self.batch_ids = [m["MessageId"] for m in messages]
        result: dict[str, Any] = self.module.handler(sqs_event(messages), LambdaContext())
        return result

    @property
    def registry(self) -> DynamoDbDocumentRegistry:
        registry = self.module.container.registry
        assert isinstance(registry, DynamoDbDocumentRegistry)  # the AWS wiring of bootstrap, on moto
        return registry

    def record(self, source: str) -> Any:
        return self.registry.get(document_id(TENANT, source))

    def chunks(self, source: str) -> list[Any]:
        return self.index.chunks_of(document_id(TENANT, source))


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda SQS event for received messages (the shape of tests/events/sqs_batch.json)."""
    template = load("sqs_batch.json")["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        record.update(messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"], body=message["Body"],
                      md5OfBody=message["MD5OfBody"])
        record["attributes"].update({k: v for k, v in message.get("Attributes", {}).items()
                                     if k in record["attributes"]})
        records.append(record)
    return {"Records": records}


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Stack]:
    pytest.importorskip("aws_lambda_powertools")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": REGION, "SLUICE_BACKEND": "aws", "SLUICE_DOCUMENTS_BUCKET": BUCKET,
           "SLUICE_REGISTRY_TABLE": TABLE, "SLUICE_STATE_DIR": str(tmp_path), "SLUICE_TENANT": TENANT,
           "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Sluice"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb", region_name=REGION).create_table(**table_definition(TABLE))
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="sluice-ingest")["QueueUrl"]
        module = import_handler("functions/ingest/app.py")
        embedder, index = FlakyEmbedder(), InMemoryVectorIndex(HashingEmbedder.dimension)
        module.container.overrides.update(embedder=embedder, index=index)
        yield Stack(s3, sqs, queue_url, module, embedder, index, itertools.count(0x683D6A1349B2C4F1))


KEY = "reports/Q1 2025/lock+gates (draft).md"
TEXT = b"# Lock gates\n\nMitre gates close against the flow and hold back the water of the upper pound.\n"
NEW_TEXT = b"# Lock gates\n\nSector gates turn on vertical hinges and open even against a head of water.\n"


def test_created_object_is_indexed_under_its_decoded_key(stack: Stack) -> None:
    event = stack.put(KEY, TEXT)
    assert stack.deliver(event) == {"batchItemFailures": []}
    record = stack.record(KEY)
    assert record.status is DocumentStatus.INDEXED
    assert record.version == event["Records"][0]["s3"]["object"]["sequencer"]
    assert isinstance(stack.module.container.blobs, S3BlobSource)
    assert [c.source for c in stack.chunks(KEY)] == [KEY]
    assert "Mitre gates" in stack.chunks(KEY)[0].text


def test_duplicate_delivery_makes_no_embedding_call(stack: Stack) -> None:
    event = stack.put(KEY, TEXT)
    stack.deliver(event)
    calls = stack.embedder.calls
    assert stack.deliver(event, event) == {"batchItemFailures": []}
    assert stack.embedder.calls == calls
    assert stack.record(KEY).status is DocumentStatus.INDEXED


def test_overwrite_leaves_only_the_new_version(stack: Stack) -> None:
    stack.deliver(stack.put(KEY, TEXT))
    stack.deliver(stack.put(KEY, NEW_TEXT))
    texts = " ".join(c.text for c in stack.chunks(KEY))
    assert "Sector gates" in texts and "Mitre" not in texts


def test_an_older_event_after_a_newer_one_is_a_no_op(stack: Stack) -> None:
    first = stack.put(KEY, TEXT)
    removed = stack.remove(KEY)
    second = stack.put(KEY, NEW_TEXT)
    stack.deliver(second)
    version, calls = stack.record(KEY).version, stack.embedder.calls
    # The delete (and the first put) happened before the current object: delivered late, they change nothing.
    assert stack.deliver(removed, first) == {"batchItemFailures": []}
    assert stack.record(KEY).status is DocumentStatus.INDEXED
    assert stack.record(KEY).version == version
    assert stack.embedder.calls == calls
    assert "Sector gates" in stack.chunks(KEY)[0].text


def test_delete_removes_every_chunk_then_recreate_works(stack: Stack) -> None:
    stack.deliver(stack.put(KEY, TEXT))
    stack.deliver(stack.remove(KEY))
    assert stack.chunks(KEY) == []
    assert stack.record(KEY).status is DocumentStatus.DELETED
    stack.deliver(stack.put(KEY, NEW_TEXT))
    assert stack.record(KEY).status is DocumentStatus.INDEXED
    assert "Sector gates" in stack.chunks(KEY)[0].text


def test_a_sidecar_change_reingests_its_document_with_the_new_metadata(stack: Stack) -> None:
    stack.deliver(stack.put("guide.txt", b"Canal locks raise and lower boats between stretches of water."))
    sidecar = json.dumps({"metadataAttributes": {"team": "ops", "year": 2025}}).encode()
    assert stack.deliver(stack.put("guide.txt.metadata.json", sidecar)) == {"batchItemFailures": []}
    assert stack.chunks("guide.txt")[0].metadata == {"team": "ops", "year": 2025}
    stack.deliver(stack.remove("guide.txt.metadata.json"))
    assert stack.chunks("guide.txt")[0].metadata == {}


def test_a_bad_document_is_recorded_failed_and_not_retried(stack: Stack) -> None:
    bad, good = stack.put("scan.pdf", b"%PDF-1.7 this is not really a PDF"), stack.put("ok.txt", b"Locks hold water.")
    assert stack.deliver(bad, good) == {"batchItemFailures": []}
    failed = stack.record("scan.pdf")
    assert failed.status is DocumentStatus.FAILED and failed.error and failed.error_code
    assert stack.record("ok.txt").status is DocumentStatus.INDEXED


def test_a_backend_error_fails_only_its_own_message_so_sqs_retries_it(stack: Stack) -> None:
    throttled = stack.put("busy.txt", b"The embedding service is overloaded today.")
    good = stack.put("ok.txt", b"Locks hold water.")
    result = stack.deliver(throttled, good)
    assert result == {"batchItemFailures": [{"itemIdentifier": stack.batch_ids[0]}]}
    assert stack.record("ok.txt").status is DocumentStatus.INDEXED
    assert stack.record("busy.txt").status is not DocumentStatus.INDEXED


def test_test_events_are_ignored_and_a_message_that_is_not_an_s3_event_fails_alone(stack: Stack) -> None:
    good = stack.put("ok.txt", b"Locks hold water.")
    result = stack.deliver(load("s3_test_event.json"), "this is not an S3 notification", good)
    assert result == {"batchItemFailures": [{"itemIdentifier": stack.batch_ids[1]}]}
    assert stack.record("ok.txt").status is DocumentStatus.INDEXED
