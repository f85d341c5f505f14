"""Bounded, jittered exponential backoff for throttled or briefly unavailable AWS calls.

Clients the adapters build themselves have botocore's own retries turned off
(``sdk_config``), so this policy is the only one and its attempts are not
multiplied by the SDK's. An injected client keeps whatever retry config it has.

The delay before retry ``n`` (0-based) is "full jitter": a uniform draw in
``[0, min(cap_s, base_s * 2**n))``, so many throttled workers spread out
instead of retrying in lockstep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceQuotaExceededException",
    }
)
"""Error codes that mean "slow down": retried, then reported as ``ThrottledError``."""

TRANSIENT_CODES = frozenset(
    {
        "ModelNotReadyException",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalServerException",
        "InternalServerError",
        "InternalError",
        "ModelTimeoutException",
        "ModelStreamErrorException",
    }
)
"""Error codes of a dependency that is briefly unavailable: retried, then ``BackendError``."""

_NETWORK_ERRORS = (ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError)


def sdk_config(*, read_timeout_s: float = 60.0) -> Config:
    """Client config for adapters that retry themselves: no SDK retries on top of ours."""
    return Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=read_timeout_s)


def error_code(exc: BaseException) -> str:
    """The error code, capitalised: exception events of a stream say ``throttlingException``."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return code[:1].upper() + code[1:]
    return ""


def http_status(exc: BaseException) -> int:
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES or http_status(exc) == 429


def is_retryable(exc: BaseException) -> bool:
    """Throttling, a 5xx, a model still loading, or a dropped connection."""
    if isinstance(exc, _NETWORK_ERRORS):
        return True
    return is_throttling(exc) or error_code(exc) in TRANSIENT_CODES or http_status(exc) >= 500


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` calls; worst-case total pause with the defaults is under 8 seconds."""

    attempts: int = 6
    base_s: float = 0.25
    cap_s: float = 4.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        return self.jitter() * min(self.cap_s, self.base_s * 2.0**attempt)

    def call(self, fn: Callable[[], T], *, retryable: Callable[[BaseException], bool] = is_retryable) -> T:
        """``fn()``, retried while it raises retryable errors; the last error propagates unchanged."""
        for attempt in range(self.attempts - 1):
            try:
                return fn()
            except Exception as exc:
                if not retryable(exc):
                    raise
                self.sleep(self.delay(attempt))
        return fn()
