"""The one Logger, Tracer and Metrics of Sluice (Powertools for AWS Lambda).

Handlers decorate themselves with ``logger``, ``tracer`` and ``metrics`` from
here and nowhere else. Metrics go out as CloudWatch EMF (namespace ``Sluice``)
when the handler's ``metrics.log_metrics`` flushes them.

Powertools is an AWS dependency: when it is not installed (the local CLI)
this module still imports and the three objects are no-op stand-ins, so code
that records metrics never needs to know where it runs. Only AWS entry points
import this module, so the local CLI does not pay Powertools' import time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, TypeVar

from sluice.domain.models import DocumentOutcome
from sluice.ports import Feedback, FeedbackStore, ServedAnswer

SERVICE = "sluice"
NAMESPACE = "Sluice"

F = TypeVar("F", bound=Callable[..., Any])


class MetricName(StrEnum):
    """Every metric Sluice emits: past-tense PascalCase counts, and latencies in milliseconds."""

    DOCUMENTS_INGESTED = "DocumentsIngested"
    DOCUMENTS_DELETED = "DocumentsDeleted"
    CHUNKS_INDEXED = "ChunksIndexed"
    INGEST_FAILED = "IngestFailed"
    EMBEDDING_CALLS = "EmbeddingCalls"
    EMBEDDING_TOKENS = "EmbeddingTokens"
    GENERATION_TOKENS = "GenerationTokens"
    ANSWERS_SERVED = "AnswersServed"
    ANSWERS_ABSTAINED = "AnswersAbstained"
    FEEDBACK_RECEIVED = "FeedbackReceived"
    INGEST_LATENCY = "IngestLatency"
    EMBED_LATENCY = "EmbedLatency"
    RETRIEVE_LATENCY = "RetrieveLatency"
    GENERATE_LATENCY = "GenerateLatency"


LATENCIES = frozenset(
    {MetricName.INGEST_LATENCY, MetricName.EMBED_LATENCY, MetricName.RETRIEVE_LATENCY, MetricName.GENERATE_LATENCY}
)
_STAGE_LATENCIES = {
    "embed": MetricName.EMBED_LATENCY,
    "retrieve": MetricName.RETRIEVE_LATENCY,
    "generate": MetricName.GENERATE_LATENCY,
}
"""Stages of an answer's ``timings_ms`` (``AnswerResponse``) and the metric each becomes."""


class _NoOpTracer:
    """Tracer stand-in: its decorators return the function unchanged."""

    def capture_lambda_handler(self, fn: F | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)

    def capture_method(self, fn: F | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)

    def put_annotation(self, key: str, value: Any) -> None:
        pass


class _NoOpMetrics:
    """Metrics stand-in: metrics are counted in ``emitted`` (handy in tests) and never flushed."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, float]] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.emitted.append((name, value))

    def log_metrics(self, fn: F | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)


def _build() -> tuple[Any, Any, Any, Any]:
    try:
        from aws_lambda_powertools import Logger, Metrics, Tracer
        from aws_lambda_powertools.metrics import MetricUnit
    except ImportError:
        return logging.getLogger(SERVICE), _NoOpTracer(), _NoOpMetrics(), None
    return Logger(service=SERVICE), _tracer(Tracer), Metrics(namespace=NAMESPACE, service=SERVICE), MetricUnit


def _tracer(tracer_class: Any) -> Any:
    """Powertools' Tracer when aws-xray-sdk is installed; the layer leaves it out for cold-start time.

    Without it, ``Tracing: Active`` still traces each invocation; with it, methods and AWS calls get subsegments.
    """
    try:
        import aws_xray_sdk  # noqa: F401
    except ImportError:
        return _NoOpTracer()
    return tracer_class(service=SERVICE)


logger, tracer, metrics, _unit = _build()


def add_metric(name: MetricName, value: float = 1) -> None:
    """One data point; latencies are milliseconds, everything else a count."""
    if _unit is None:
        metrics.add_metric(name=name.value, unit="Milliseconds" if name in LATENCIES else "Count", value=value)
        return
    unit = _unit.Milliseconds if name in LATENCIES else _unit.Count
    metrics.add_metric(name=name.value, unit=unit, value=value)


@contextmanager
def timed(name: MetricName) -> Iterator[None]:
    """Record how long the block took as the latency metric ``name``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        add_metric(name, (time.perf_counter() - started) * 1000)


def record_ingest(outcome: DocumentOutcome) -> None:
    """Metrics and one structured log line for one document's ingest outcome."""
    logger.info("document processed", extra={"source": outcome.source, "document_id": outcome.document_id,
                                             "outcome": outcome.outcome, "chunks": outcome.chunks,
                                             "embedded": outcome.embedded, "code": outcome.code,
                                             "reason": outcome.reason})
    if outcome.outcome == "indexed":
        add_metric(MetricName.DOCUMENTS_INGESTED)
        add_metric(MetricName.CHUNKS_INDEXED, outcome.chunks)
        add_metric(MetricName.INGEST_LATENCY, outcome.seconds * 1000)
    elif outcome.outcome == "deleted":
        add_metric(MetricName.DOCUMENTS_DELETED)
    elif outcome.outcome == "failed":
        add_metric(MetricName.INGEST_FAILED)
    if outcome.embedded:
        # Titan embeds one text per InvokeModel call, so chunks embedded = calls made.
        add_metric(MetricName.EMBEDDING_CALLS, outcome.embedded)
        add_metric(MetricName.EMBEDDING_TOKENS, outcome.tokens)


def record_answer(body: Mapping[str, Any]) -> None:
    """Metrics for one served answer, from the body the API sent (``AnswerResponse``); abstentions count in both."""
    add_metric(MetricName.ANSWERS_SERVED)
    if not body.get("answered"):
        add_metric(MetricName.ANSWERS_ABSTAINED)
    usage = body.get("usage") or {}
    tokens = int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)
    if tokens:
        add_metric(MetricName.GENERATION_TOKENS, tokens)
    if usage.get("embedding_tokens"):
        add_metric(MetricName.EMBEDDING_TOKENS, int(usage["embedding_tokens"]))
    timings = body.get("timings_ms") or {}
    for stage, name in _STAGE_LATENCIES.items():
        if stage in timings:
            add_metric(name, float(timings[stage]))


class MeteredFeedbackStore:
    """A ``FeedbackStore`` that emits answer and feedback metrics as it stores.

    The API records every answer it serves (plain or streamed) here, so this is
    the one place that sees them all without the routes knowing about metrics.
    """

    def __init__(self, inner: FeedbackStore) -> None:
        self._inner = inner

    def record_answer(self, served: ServedAnswer) -> None:
        record_answer(served.answer)
        self._inner.record_answer(served)

    def get_answer(self, answer_id: str, *, tenant: str) -> ServedAnswer | None:
        return self._inner.get_answer(answer_id, tenant=tenant)

    def add_feedback(self, answer_id: str, *, tenant: str, rating: str, comment: str = "") -> Feedback:
        feedback = self._inner.add_feedback(answer_id, tenant=tenant, rating=rating, comment=comment)
        add_metric(MetricName.FEEDBACK_RECEIVED)
        return feedback

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()
