"""FeedbackStore on DynamoDB: served answers (kept for a while) and the feedback given on them (kept).

One table, keyed ``pk`` + ``sk``, so an answer and its feedback share a
partition and ``feedback_for`` is one ``Query``:

- served answer: ``pk = answer#<answer_id>``, ``sk = answer``, with
  ``expires_at`` (epoch seconds) as the table's TTL attribute, so answers
  nobody rated disappear by themselves;
- feedback: ``pk = answer#<answer_id>``, ``sk = feedback#<created>#<id>``,
  with a copy of the question, answer text and citations (no TTL: it is the
  data people review).

DynamoDB deletes expired items lazily (within days), so reads treat an item
past its ``expires_at`` as gone. The answer body is stored as JSON text; a
DynamoDB item holds at most 400 KB, far above an answer with its citations.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sluice.adapters.aws.dynamodb_errors import call_table, table_error
from sluice.adapters.aws.retry import RetryPolicy, sdk_config
from sluice.domain.errors import ConfigurationError, SluiceError
from sluice.ports import Feedback, ServedAnswer

T = TypeVar("T")

TTL_ATTRIBUTE = "expires_at"
DEFAULT_ANSWER_TTL_S = 90 * 86400
_ANSWER = "answer"
_FEEDBACK = "feedback#"


def table_definition(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments for the feedback table; template.yaml must declare the same (a test compares)."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


class DynamoDbFeedbackStore:
    """Answers and feedback in a DynamoDB table shaped by ``table_definition``, with TTL on ``expires_at``."""

    def __init__(
        self,
        table_name: str,
        *,
        answer_ttl_s: int = DEFAULT_ANSWER_TTL_S,
        client: Any = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not table_name:
            raise ConfigurationError("no feedback table is configured; set the feedback table setting")
        self.table_name = table_name
        self._ttl_s = answer_ttl_s
        self._client = client or _client()
        self._retry = retry or RetryPolicy()
        self._clock = clock

    def record_answer(self, served: ServedAnswer) -> None:
        created = served.created_at or self._clock()
        item = {
            "pk": _s(_pk(served.answer_id)),
            "sk": _s(_ANSWER),
            "tenant": _s(served.tenant),
            "question": _s(served.question),
            "answer": _s(json.dumps(dict(served.answer))),
            "created_at": _n(created),
            TTL_ATTRIBUTE: {"N": str(int(created + self._ttl_s))},
        }
        self._call(lambda: self._client.put_item(TableName=self.table_name, Item=item))

    def get_answer(self, answer_id: str, *, tenant: str) -> ServedAnswer | None:
        key = {"pk": _s(_pk(answer_id)), "sk": _s(_ANSWER)}
        item = self._call(lambda: self._client.get_item(TableName=self.table_name, Key=key)).get("Item")
        if not item or item["tenant"]["S"] != tenant or self._expired(item):
            return None
        return ServedAnswer(answer_id, tenant, item["question"]["S"], json.loads(item["answer"]["S"]),
                            float(item["created_at"]["N"]))

    def add_feedback(self, answer_id: str, *, tenant: str, rating: str, comment: str = "") -> Feedback:
        served = self.get_answer(answer_id, tenant=tenant)
        feedback = Feedback.on(served, answer_id, rating=rating, comment=comment, created_at=self._clock())
        item = {
            "pk": _s(_pk(answer_id)),
            "sk": _s(f"{_FEEDBACK}{feedback.created_at:017.6f}#{feedback.feedback_id}"),
            "feedback_id": _s(feedback.feedback_id),
            "tenant": _s(tenant),
            "rating": _s(rating),
            "comment": _s(comment),
            "question": _s(feedback.question),
            "answer": _s(str(feedback.answer.get("answer", ""))),
            "citations": _s(json.dumps(feedback.answer.get("citations", []))),
            "created_at": _n(feedback.created_at),
        }
        self._call(lambda: self._client.put_item(TableName=self.table_name, Item=item))
        return feedback

    def feedback_for(self, answer_id: str) -> list[dict[str, Any]]:
        """Every feedback row of one answer, oldest first (for reports and tests)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :feedback)",
            "ExpressionAttributeValues": {":pk": _s(_pk(answer_id)), ":feedback": _s(_FEEDBACK)},
        }
        rows: list[dict[str, Any]] = []
        while True:
            page = self._call(lambda: self._client.query(**request))
            rows.extend(_feedback_row(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return rows
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _expired(self, item: dict[str, Any]) -> bool:
        expires = item.get(TTL_ATTRIBUTE, {}).get("N")
        return expires is not None and float(expires) <= self._clock()

    def _call(self, fn: Callable[[], T]) -> T:
        return call_table(self._retry, fn, self._error)

    def _error(self, exc: Exception, /) -> SluiceError:
        return table_error(
            exc, self.table_name, what="feedback",
            missing=f"the feedback table {self.table_name} does not exist; deploy the stack or check the feedback "
                   "table setting",
        )


def _feedback_row(item: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {k: item[k]["S"] for k in ("feedback_id", "rating", "comment", "question", "answer")}
    row["citations"] = json.loads(item["citations"]["S"])
    row["created_at"] = float(item["created_at"]["N"])
    return row


def _pk(answer_id: str) -> str:
    return f"{_ANSWER}#{answer_id}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(float(value))}


def _client() -> Any:
    import boto3

    return boto3.client("dynamodb", config=sdk_config())
