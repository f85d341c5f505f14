from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sluice.adapters.aws.dynamodb_feedback_store import TTL_ATTRIBUTE, DynamoDbFeedbackStore, table_definition
from sluice.adapters.aws.retry import RetryPolicy
from sluice.domain.errors import ConfigurationError, ThrottledError
from tests.contract.feedback_contract import FeedbackStoreContract, served

DAY = 86400


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def make_store(name: str = "feedback", **options: object) -> DynamoDbFeedbackStore:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**table_definition(name))
    return DynamoDbFeedbackStore(name, client=client, **options)  # type: ignore[arg-type]


class TestDynamoDbFeedbackStore(FeedbackStoreContract):
    def make_store(self, tmp_path: Path) -> DynamoDbFeedbackStore:
        return make_store()


def test_served_answers_carry_a_ttl_and_feedback_does_not() -> None:
    now = [1_780_000_000.0]
    store = make_store(answer_ttl_s=7 * DAY, clock=lambda: now[0])
    store.record_answer(served())
    store.add_feedback("a1", tenant="acme", rating="up")
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName="feedback")["Items"]
    answer = next(i for i in items if i["sk"]["S"] == "answer")
    feedback = next(i for i in items if i["sk"]["S"] != "answer")
    assert int(answer[TTL_ATTRIBUTE]["N"]) == int(now[0] + 7 * DAY)
    assert TTL_ATTRIBUTE not in feedback


def test_an_expired_answer_reads_as_gone_before_dynamodb_deletes_it() -> None:
    now = [1_780_000_000.0]
    store = make_store(answer_ttl_s=DAY, clock=lambda: now[0])
    store.record_answer(served())
    now[0] += DAY + 1
    assert store.get_answer("a1", tenant="acme") is None


def test_a_missing_table_is_a_configuration_error() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    with pytest.raises(ConfigurationError, match="no-such-table"):
        DynamoDbFeedbackStore("no-such-table", client=client).get_answer("a1", tenant="acme")
    with pytest.raises(ConfigurationError, match="feedback table"):
        DynamoDbFeedbackStore("", client=client)


def test_throttled_writes_are_retried_then_reported() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    stub = Stubber(client)
    for _ in range(3):
        stub.add_client_error("put_item", "ProvisionedThroughputExceededException", "slow down", 400)
    pauses: list[float] = []
    store = DynamoDbFeedbackStore("feedback", client=client, retry=RetryPolicy(attempts=3, sleep=pauses.append))
    with stub, pytest.raises(ThrottledError, match="feedback"):
        store.record_answer(served())
    assert len(pauses) == 2
