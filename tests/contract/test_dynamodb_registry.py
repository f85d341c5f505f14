import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sluice.adapters.aws.dynamodb_document_registry import DynamoDbDocumentRegistry, table_definition, version_key
from sluice.adapters.aws.retry import RetryPolicy
from sluice.domain.errors import ConfigurationError, InvalidRequestError, StaleVersionError, ThrottledError
from sluice.domain.models import DocumentStatus
from sluice.domain.versions import is_older
from tests.contract.registry_contract import RegistryContract, record


@pytest.fixture(autouse=True)
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def make_registry(name: str = "documents") -> DynamoDbDocumentRegistry:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**table_definition(name))
    return DynamoDbDocumentRegistry(name, client=client)


class TestDynamoDbDocumentRegistry(RegistryContract):
    def make_registry(self, tmp_path):
        return make_registry()


# Real sequencers from S3 events are 16-18 hex digits, and not all of one length.
SEQUENCERS = ["0055AED6DCD90281E5", "0055AED6DCD90281E6", "0A", "0B", "FF", "0100", "00000000000000000001"]


@pytest.mark.parametrize("older,newer", [
    ("0055AED6DCD90281E5", "0055AED6DCD90281E6"),
    ("FF", "0100"),  # shorter hex that is numerically smaller once padded
    ("055AED6DCD90281E5", "0055AED6DCD90281E6"),  # same number of digits after padding
    ("0055aed6dcd90281e5", "0055AED6DCD90281E6"),  # case does not matter
])
def test_sequencers_of_different_lengths_order_as_padded_hex(older, newer):
    reg = make_registry()
    reg.put(record(version=newer, sha256="new"))
    with pytest.raises(StaleVersionError):
        reg.put(record(version=older, sha256="old"))
    assert reg.get("d1").sha256 == "new"


def test_version_key_orders_exactly_like_is_older():
    for a in SEQUENCERS:
        for b in SEQUENCERS:
            assert (version_key(a) < version_key(b)) == is_older(a, b), (a, b)


def test_same_version_again_is_not_stale():
    reg = make_registry()
    reg.put(record(version="0A", status=DocumentStatus.PENDING))
    reg.put(record(version="0a", status=DocumentStatus.INDEXED))
    assert reg.get("d1").status is DocumentStatus.INDEXED


def test_an_unknown_version_is_never_blocked():
    reg = make_registry()
    reg.put(record(version="0055AED6DCD90281E6", sha256="sequenced"))
    reg.put(record(version="", sha256="unknown"))
    assert reg.get("d1").sha256 == "unknown"


def test_racing_writers_the_older_loses_even_when_both_saw_nothing():
    """Two Lambdas get the same key's events out of order; both read before either writes."""
    reg = make_registry()
    first_look = [reg.get("d1"), reg.get("d1")]
    assert first_look == [None, None]
    reg.put(record(version="0055AED6DCD90281F0", sha256="newer"))
    with pytest.raises(StaleVersionError):
        reg.put(record(version="0055AED6DCD90281E5", sha256="older"))
    got = reg.get("d1")
    assert (got.sha256, got.version) == ("newer", "0055AED6DCD90281F0")


def test_list_skips_non_matching_records_across_query_pages():
    reg = make_registry()
    for n in range(12):
        reg.put(record(f"d{n:02d}", status=DocumentStatus.FAILED if n in (0, 11) else DocumentStatus.INDEXED))
    page, cursor = reg.list("t", status=DocumentStatus.FAILED, limit=1)
    assert [r.document_id for r in page] == ["d00"] and cursor
    page, cursor = reg.list("t", status=DocumentStatus.FAILED, limit=1, cursor=cursor)
    assert [r.document_id for r in page] == ["d11"] and cursor is None


def test_a_cursor_cannot_cross_tenants():
    reg = make_registry()
    for n in range(3):
        reg.put(record(f"a{n}", tenant="t"))
        reg.put(record(f"b{n}", tenant="u"))
    _, cursor = reg.list("t", limit=1)
    page, _ = reg.list("u", cursor=cursor)
    assert {r.tenant for r in page} == {"u"}


def test_a_forged_cursor_is_a_client_mistake():
    with pytest.raises(InvalidRequestError):
        make_registry().list("t", cursor="not-a-cursor!")


def test_a_missing_table_is_a_configuration_error():
    client = boto3.client("dynamodb", region_name="us-east-1")
    with pytest.raises(ConfigurationError, match="no-such-table"):
        DynamoDbDocumentRegistry("no-such-table", client=client).get("d1")


def test_throttled_writes_are_retried_then_reported():
    client = boto3.client("dynamodb", region_name="us-east-1")
    stub = Stubber(client)
    for _ in range(3):
        stub.add_client_error("update_item", "ProvisionedThroughputExceededException", "slow down", 400)
    pauses = []
    reg = DynamoDbDocumentRegistry("documents", client=client, retry=RetryPolicy(attempts=3, sleep=pauses.append))
    with stub, pytest.raises(ThrottledError, match="documents"):
        reg.put(record(version="0A"))
    assert len(pauses) == 2
