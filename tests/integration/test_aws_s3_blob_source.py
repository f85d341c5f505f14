import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sluice.adapters.aws.retry import RetryPolicy
from sluice.adapters.aws.s3_blob_source import S3BlobSource
from sluice.domain.errors import BackendError, NotFoundError

BUCKET = "sluice-docs"


@pytest.fixture
def s3(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_list_yields_documents_only_with_their_sizes(s3):
    for key, body in {"a.txt": b"alpha", "a.txt.metadata.json": b"{}", "reports/": b"",
                      "reports/q1 summary.pdf": b"%PDF-1.7", "notes/été/ünï.md": b"# hi"}.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    listed = {info.source: info.size for info in S3BlobSource(BUCKET, client=s3).list()}
    assert listed == {"a.txt": 5, "reports/q1 summary.pdf": 8, "notes/été/ünï.md": 4}


def test_list_follows_continuation_tokens():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_response("list_objects_v2", {"IsTruncated": True, "NextContinuationToken": "page-2",
                                          "Contents": [{"Key": "bulk/0.txt", "Size": 1}]},
                      {"Bucket": BUCKET, "Prefix": "bulk/"})
    stub.add_response("list_objects_v2", {"IsTruncated": False, "Contents": [{"Key": "bulk/1.txt", "Size": 2}]},
                      {"Bucket": BUCKET, "Prefix": "bulk/", "ContinuationToken": "page-2"})
    with stub:
        listed = [(i.source, i.size) for i in S3BlobSource(BUCKET, client=client).list("bulk/")]
    assert listed == [("bulk/0.txt", 1), ("bulk/1.txt", 2)]


def test_sources_are_relative_to_the_prefix(s3):
    s3.put_object(Bucket=BUCKET, Key="tenant-a/docs/x.txt", Body=b"in")
    s3.put_object(Bucket=BUCKET, Key="tenant-ab/y.txt", Body=b"out")
    blobs = S3BlobSource(BUCKET, prefix="tenant-a", client=s3)
    assert [i.source for i in blobs.list()] == ["docs/x.txt"]
    assert [i.source for i in blobs.list("docs/")] == ["docs/x.txt"]
    assert blobs.read("docs/x.txt").data == b"in"
    assert blobs.source_of("tenant-a/docs/x.txt.metadata.json") == "docs/x.txt"
    assert blobs.source_of("tenant-ab/y.txt") is None and blobs.source_of("tenant-a/docs/") is None


def test_read_pairs_the_sidecar_and_leaves_the_version_to_the_event(s3):
    key = "reports/Q1 résumé/plan 2024.docx"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"doc bytes")
    s3.put_object(Bucket=BUCKET, Key=key + ".metadata.json", Body=b'{"metadataAttributes": {"year": 2024}}')
    blob = S3BlobSource(BUCKET, client=s3).read(key)
    assert (blob.source, blob.data, blob.version) == (key, b"doc bytes", "")
    assert blob.sidecar == b'{"metadataAttributes": {"year": 2024}}'


def test_read_without_sidecar(s3):
    s3.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"text")
    assert S3BlobSource(BUCKET, client=s3).read("plain.txt").sidecar is None


def test_missing_key(s3):
    blobs = S3BlobSource(BUCKET, client=s3)
    with pytest.raises(NotFoundError, match=r"s3://sluice-docs/gone\.txt"):
        blobs.read("gone.txt")
    assert blobs.stat("gone.txt") is None
    blobs.delete("gone.txt")  # missing is not an error


def test_stat_put_delete_round_trip(s3):
    blobs = S3BlobSource(BUCKET, client=s3)
    info = blobs.put("uploads/new file ✓.md", b"# Title\n")
    assert (info.source, info.size) == ("uploads/new file ✓.md", 8)
    assert blobs.stat("uploads/new file ✓.md").size == 8
    assert s3.head_object(Bucket=BUCKET, Key="uploads/new file ✓.md")["ContentType"] == "text/markdown"
    s3.put_object(Bucket=BUCKET, Key="uploads/new file ✓.md.metadata.json", Body=b"{}")
    blobs.delete("uploads/new file ✓.md")
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_missing_bucket_is_a_backend_error_naming_it(s3):
    with pytest.raises(BackendError, match="no-such-bucket"):
        S3BlobSource("no-such-bucket", client=s3).read("a.txt")


def test_access_denied_is_a_backend_error_naming_bucket_and_key():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403,
                          expected_params={"Bucket": BUCKET, "Key": "private/plan.pdf"})
    with stub, pytest.raises(BackendError, match=r"s3://sluice-docs/private/plan\.pdf.*s3:GetObject"):
        S3BlobSource(BUCKET, client=client).read("private/plan.pdf")


def test_slow_down_is_retried():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_client_error("head_object", "SlowDown", "Please reduce your request rate", 503)
    stub.add_response("head_object", {"ContentLength": 42}, {"Bucket": BUCKET, "Key": "a.txt"})
    pauses = []
    with stub:
        info = S3BlobSource(BUCKET, client=client, retry=RetryPolicy(sleep=pauses.append)).stat("a.txt")
    assert info.size == 42 and len(pauses) == 1
