"""DynamoDB errors as the project's errors, worded for the table they concern."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from sluice.adapters.aws.retry import RetryPolicy, error_code, is_throttling
from sluice.domain.errors import BackendError, ConfigurationError, SluiceError, ThrottledError

T = TypeVar("T")


def call_table(retry: RetryPolicy, fn: Callable[[], T], error: Callable[[Exception], SluiceError]) -> T:
    """Run one DynamoDB call under ``retry``; what still fails is raised as ``error(exc)``."""
    try:
        return retry.call(fn)
    except (ClientError, BotoCoreError) as exc:
        raise error(exc) from exc


def table_error(exc: Exception, table: str, *, what: str, missing: str) -> SluiceError:
    """``what`` names the table's role ("registry"); ``missing`` says what may be absent and what to do."""
    code = error_code(exc) or type(exc).__name__
    if is_throttling(exc):
        return ThrottledError(f"DynamoDB is throttling the {what} table {table}; try again shortly")
    if code == "ResourceNotFoundException":
        return ConfigurationError(missing)
    if code == "AccessDeniedException":
        return BackendError(f"access denied to the {what} table {table}: {exc}")
    return BackendError(f"the {what} table {table} failed: {code}: {exc}")
