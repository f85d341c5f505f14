"""IngestFunction: S3 notifications from the ingest queue -> IngestService.

Each SQS record is processed on its own (partial batch response): a document
that cannot be read is recorded as failed by the service and its message is
done; a dependency failure (``BackendError``, throttling included) raises, so
SQS redelivers only that message, and after maxReceiveCount it goes to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.bootstrap import Container, bootstrap
from sluice.domain.errors import BackendError, StaleVersionError
from sluice.domain.models import DocumentOutcome
from sluice.events import ObjectChange, object_changes
from sluice.observability import logger, metrics, record_ingest, tracer

container: Container = bootstrap()
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    settings = container.settings
    for change in object_changes(record.body, prefix=settings.documents_prefix, tenancy=settings.tenancy):
        record_ingest(apply(change))


def apply(change: ObjectChange) -> DocumentOutcome:
    logger.append_keys(source=change.source, tenant=change.tenant, event_name=change.event_name,
                       sequencer=change.version)
    service = container.ingest
    try:
        if change.action == "delete":
            return service.delete(change.source, change.version, tenant=change.tenant)
        return service.ingest(change.source, change.version, tenant=change.tenant)
    except StaleVersionError:
        # A newer event for this key was written first (by a concurrent invocation): nothing to do.
        return DocumentOutcome(change.source, "", "stale")
    except BackendError as exc:
        logger.exception("document will be retried", extra={"code": exc.code})
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
