"""Bedrock runtime errors as Sluice errors, with what the user should do about them."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from sluice.adapters.aws.retry import error_code, is_retryable, is_throttling
from sluice.domain.errors import BackendError, ConfigurationError, SluiceError, ThrottledError


def bedrock_error(exc: BotoCoreError | ClientError, model_id: str) -> SluiceError:
    code = error_code(exc) or type(exc).__name__
    message = _message(exc)
    if is_throttling(exc):
        return ThrottledError(
            f"Bedrock is throttling {model_id} ({code}) after repeated retries; try again shortly "
            "or ask for a higher quota"
        )
    if code == "AccessDeniedException":
        return ConfigurationError(
            f"access to {model_id} was denied: enable model access for it in the Bedrock console "
            f"(Model access) in this region, and allow bedrock:InvokeModel on it in the role's policy ({message})"
        )
    if code == "ResourceNotFoundException":
        return ConfigurationError(f"Bedrock has no model {model_id} in this region; check the model id ({message})")
    if code == "ValidationException":
        return BackendError(f"Bedrock rejected the request to {model_id}: {message}")
    if is_retryable(exc):
        return BackendError(f"Bedrock model {model_id} is unavailable ({code}) after repeated retries: {message}")
    return BackendError(f"Bedrock call to {model_id} failed ({code}): {message}")


def _message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)
