"""BedrockGenerator: grounded answers from Claude or Nova through the Converse API.

The prompt and the reply handling are the ones every LLM generator shares
(``sluice.adapters.prompting``): passages are numbered data, never
instructions; the [n] markers of the reply become citations; a reply saying
the documents do not answer becomes an abstention.

Usage comes from Bedrock's token counts; the estimated cost from a price table
(USD per 1,000 input and output tokens) that callers may extend or override.
A model missing from the table gets ``estimated_cost_usd = None``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from sluice.adapters.aws.bedrock_errors import bedrock_error
from sluice.adapters.aws.retry import RetryPolicy, is_retryable, sdk_config
from sluice.adapters.prompting import SYSTEM_PROMPT, abstain, finish, user_prompt
from sluice.domain.errors import BackendError
from sluice.domain.models import Answer, Hit, Usage


class Price(NamedTuple):
    """USD per 1,000 tokens."""

    input_per_1k: float
    output_per_1k: float


# Source: AWS Bedrock pricing page, on-demand, us-east-1. Prices change: pass
# ``prices`` to override or add models rather than trusting these forever.
DEFAULT_PRICES: dict[str, Price] = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": Price(0.0008, 0.004),
    "anthropic.claude-3-haiku-20240307-v1:0": Price(0.00025, 0.00125),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": Price(0.003, 0.015),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": Price(0.003, 0.015),
    "anthropic.claude-sonnet-4-20250514-v1:0": Price(0.003, 0.015),
    "amazon.nova-micro-v1:0": Price(0.000035, 0.00014),
    "amazon.nova-lite-v1:0": Price(0.00006, 0.00024),
    "amazon.nova-pro-v1:0": Price(0.0008, 0.0032),
}
# Cross-region inference profiles (``us.anthropic...``) are priced like the model itself.
_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "us-gov.")


class BedrockGenerator:
    """Answers with ``converse`` (or ``converse_stream``), temperature 0."""

    def __init__(
        self,
        model_id: str,
        *,
        client: Any = None,
        max_tokens: int = 1024,
        prices: Mapping[str, tuple[float, float]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.model_id = model_id
        self._client = client or _client()
        self._max_tokens = max_tokens
        self._prices = {**DEFAULT_PRICES, **{k: Price(*v) for k, v in (prices or {}).items()}}
        self._retry = retry or RetryPolicy(sleep=sleep)

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        if not hits:
            return abstain(self.model_id)
        request = self.request(question, hits)
        try:
            response = self._retry.call(lambda: self._client.converse(**request))
        except (ClientError, BotoCoreError) as exc:
            raise bedrock_error(exc, self.model_id) from exc
        return finish(_reply_text(response), hits, self._usage(response.get("usage")), self.model_id)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """Text as it arrives, then the final ``Answer``; throttling is retried until the first piece."""
        if not hits:
            yield abstain(self.model_id)
            return
        request = self.request(question, hits)
        parts: list[str] = []
        usage: dict[str, Any] = {}
        for attempt in range(self._retry.attempts):
            try:
                response = self._client.converse_stream(**request)
                for piece in read_stream(response["stream"], usage):
                    parts.append(piece)
                    yield piece
                break
            except (ClientError, BotoCoreError) as exc:
                # Once text has gone out, a retry would repeat it: only a failure before it is retried.
                if parts or not is_retryable(exc) or attempt == self._retry.attempts - 1:
                    raise bedrock_error(exc, self.model_id) from exc
                self._retry.sleep(self._retry.delay(attempt))
        yield finish("".join(parts), hits, self._usage(usage), self.model_id)

    def request(self, question: str, hits: Sequence[Hit]) -> dict[str, Any]:
        """The Converse request: the shared system prompt, one user turn with the passages."""
        return {
            "modelId": self.model_id,
            "system": [{"text": SYSTEM_PROMPT}],
            "messages": [{"role": "user", "content": [{"text": user_prompt(question, hits)}]}],
            "inferenceConfig": {"maxTokens": self._max_tokens, "temperature": 0.0},
        }

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        """Estimated USD for the tokens, or ``None`` when the model's price is unknown."""
        model = self.model_id.rsplit("/", 1)[-1]  # an inference-profile ARN ends in its id
        price = self._prices.get(model) or self._prices.get(_without_profile(model))
        if price is None:
            return None
        return round(input_tokens / 1000 * price.input_per_1k + output_tokens / 1000 * price.output_per_1k, 8)

    def _usage(self, raw: Any) -> Usage:
        raw = raw if isinstance(raw, Mapping) else {}
        tokens_in, tokens_out = int(raw.get("inputTokens") or 0), int(raw.get("outputTokens") or 0)
        cost = self.cost(tokens_in, tokens_out)
        return Usage(input_tokens=tokens_in, output_tokens=tokens_out, estimated_cost_usd=cost)


def read_stream(events: Iterable[Mapping[str, Any]], usage: dict[str, Any]) -> Iterator[str]:
    """Text of the ``contentBlockDelta`` events; the ``metadata`` event's usage lands in ``usage``.

    botocore raises an exception event (throttling mid-stream...) as an
    ``EventStreamError`` while iterating; a plain mapping carrying one is
    raised as ``BackendError`` here.
    """
    for event in events:
        if "contentBlockDelta" in event:
            text = event["contentBlockDelta"].get("delta", {}).get("text")
            if text:
                yield text
        elif "metadata" in event:
            usage.update(event["metadata"].get("usage") or {})
        else:
            failure = next((key for key in event if key.endswith("Exception")), None)
            if failure:
                message = (event[failure] or {}).get("message", "")
                raise BackendError(f"the answer stream failed ({failure}): {message}")


def _reply_text(response: Mapping[str, Any]) -> str:
    try:
        content = response["output"]["message"]["content"]
    except (KeyError, TypeError) as exc:
        raise BackendError("Bedrock returned a Converse response without output.message.content") from exc
    return "".join(block.get("text", "") for block in content if isinstance(block, Mapping))


def _without_profile(model: str) -> str:
    for prefix in _PROFILE_PREFIXES:
        if model.startswith(prefix):
            return model[len(prefix) :]
    return model


def _client() -> Any:
    import boto3

    # Long answers can take more than the default 60 s read timeout.
    return boto3.client("bedrock-runtime", config=sdk_config(read_timeout_s=300))
