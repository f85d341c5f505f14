"""Talking to OpenSearch: the SigV4 client, ``_msearch`` calls, which errors are retried, and how errors become ours.

Throttling (429), 5xx and dropped connections are retried by
``OpenSearchVectorIndex``'s ``RetryPolicy`` (the client itself never
retries); what is left becomes a ``ThrottledError``, a ``FilterError`` for a
filter that does not fit the indexed types, or a ``BackendError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection
from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import TransportError

from sluice.domain.errors import BackendError, ConfigurationError, FilterError, InvalidRequestError, ThrottledError

_QUERY_BUILD_ERRORS = frozenset({"search_phase_execution_exception", "query_shard_exception"})


def connect(
    endpoint: str,
    region: str,
    service: Literal["es", "aoss"] = "es",
    credentials: Any = None,
    *,
    timeout_s: float = 30.0,
) -> OpenSearch:
    """An HTTPS client signing with SigV4 (``es``: managed domain, ``aoss``: Serverless).

    Without ``credentials`` it takes boto3's default chain; those refresh
    themselves (the signer asks for frozen credentials on every request), so a
    warm Lambda keeps working past the role session's expiry. The client does
    not retry: ``OpenSearchVectorIndex`` owns the retry policy.
    """
    if credentials is None:
        import boto3

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise ConfigurationError("no AWS credentials found to sign OpenSearch requests")
    host = re.sub(r"^https?://", "", endpoint).rstrip("/")
    return OpenSearch(
        hosts=[{"host": host, "port": 443}],
        http_auth=Urllib3AWSV4SignerAuth(credentials, region, service),
        use_ssl=True,
        verify_certs=True,
        connection_class=Urllib3HttpConnection,
        timeout=timeout_s,
        max_retries=0,
        retry_on_timeout=False,
    )


class IndexMissingError(BackendError):
    """The index does not exist yet; reads treat it as empty."""


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, TransportConnectionError):
        return True  # timeouts and dropped connections; bulk by _id and every read are idempotent
    status = exc.status_code if isinstance(exc, TransportError) else None
    return isinstance(status, int) and (status == 429 or status >= 500)


def translate_error(exc: TransportError, action: str, filtered: bool) -> BackendError | InvalidRequestError:
    status = exc.status_code if isinstance(exc.status_code, int) else 0
    detail = _error_reason(exc.info) or str(exc.error) or type(exc).__name__
    if status == 429:
        return ThrottledError(f"OpenSearch is throttling; could not {action}: {detail}")
    if status == 400 and filtered and error_type(exc.info) in _QUERY_BUILD_ERRORS:
        # The query parsed but a shard could not build it: a filter value that does not fit the indexed
        # type (a string against a number, a prefix on a number). The caller's mistake, not an outage.
        return FilterError(f"the filter does not fit the indexed metadata: {detail}")
    where = f"{status} " if status else ""
    return BackendError(f"could not {action}: {where}{detail}")


def error_type(info: Any) -> str:
    error = info.get("error", info) if isinstance(info, Mapping) else None
    return str(error.get("type", "")) if isinstance(error, Mapping) else str(error or "")


def _error_reason(info: Any) -> str:
    error = info.get("error") if isinstance(info, Mapping) else None
    if not isinstance(error, Mapping):
        return str(error or "")
    causes = error.get("root_cause") or []
    cause = causes[0] if causes and isinstance(causes[0], Mapping) else error
    return f"{cause.get('type', '')}: {cause.get('reason', '')}"


def msearch(client: OpenSearch, lines: list[Any]) -> Any:
    """One ``_msearch``; a throttled or failed search inside it raises, so the index's ``_call`` retries the lot."""
    response = client.msearch(body=lines)
    for answer in response.get("responses", []):
        status = int(answer.get("status") or 0) if "error" in answer else 200
        if status == 429 or status >= 500:
            raise TransportError(status, error_type(answer["error"]), {"error": answer["error"]})
    return response


def msearch_answer(response: Mapping[str, Any], filtered: bool) -> list[Mapping[str, Any]]:
    """The hits of one ``_msearch`` response, or its error as ours."""
    error = response.get("error")
    if error is None:
        return list(response.get("hits", {}).get("hits", []))
    if error_type(error) == "index_not_found_exception":
        return []
    status = int(response.get("status") or 0)
    raise translate_error(TransportError(status, error_type(error), {"error": error}), "search the index", filtered)
