"""BedrockEmbedder: Titan Text Embeddings v2 or Cohere Embed v3 through InvokeModel.

Titan embeds one text per call, so a batch fans out over a small thread pool
(``max_concurrency``); Cohere takes up to 96 texts per call. Documents and
queries differ only for Cohere (``search_document`` / ``search_query``).
Every vector is returned with unit length.

Bedrock exposes no tokenizer, so ``count_tokens`` is an estimate that errs
high: the larger of 1.3 tokens per word and 1 token per 4 characters (the
second guards text with few spaces: code, URLs, CJK). Chunks sized with it
stay under ``max_tokens``. ``tokens_used`` counts what Bedrock reports (Titan's
``inputTextTokenCount``, or the ``X-Amzn-Bedrock-Input-Token-Count`` header),
falling back to the estimate.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sluice.adapters.aws.bedrock_errors import bedrock_error
from sluice.adapters.aws.retry import RetryPolicy, sdk_config
from sluice.domain.errors import BackendError, ConfigurationError

TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_DIMENSIONS = (256, 512, 1024)
COHERE_DIMENSION = 1024
COHERE_BATCH = 96
COHERE_MAX_CHARS = 2048
"""Bedrock rejects Cohere texts longer than this; longer ones are cut (the model would truncate anyway)."""
_TOKEN_HEADER = "x-amzn-bedrock-input-token-count"


class BedrockEmbedder:
    """Embeds with a Bedrock model; throttling is retried with jittered backoff."""

    def __init__(
        self,
        model_id: str,
        *,
        dimensions: int = 1024,
        client: Any = None,
        max_concurrency: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.model_id = model_id
        self._family = _family(model_id)
        if self._family == "titan" and dimensions not in TITAN_DIMENSIONS:
            raise ConfigurationError(f"{model_id} embeds in 256, 512 or 1024 dimensions, not {dimensions}")
        if self._family == "cohere" and dimensions != COHERE_DIMENSION:
            raise ConfigurationError(f"{model_id} embeds in {COHERE_DIMENSION} dimensions, not {dimensions}")
        if max_concurrency < 1:
            raise ConfigurationError(f"embedding concurrency must be at least 1, got {max_concurrency}")
        self.dimension = dimensions
        self.max_tokens = 8192 if self._family == "titan" else 512
        self.tokens_used = 0
        self._client = client or _client()
        self._max_concurrency = max_concurrency
        self._retry = retry or RetryPolicy(sleep=sleep)
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._family == "titan":
            return self._map(self._embed_titan, list(texts))
        batches = [list(texts[i : i + COHERE_BATCH]) for i in range(0, len(texts), COHERE_BATCH)]
        return [v for batch in self._map(self._embed_cohere_documents, batches) for v in batch]

    def embed_query(self, text: str) -> list[float]:
        if self._family == "titan":
            return self._embed_titan(text)
        return self._embed_cohere([text], "search_query")[0]

    def count_tokens(self, text: str) -> int:
        return max(math.ceil(len(text.split()) * 1.3), math.ceil(len(text) / 4))

    def _map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        if len(items) == 1 or self._max_concurrency == 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self._max_concurrency, len(items))) as pool:
            return list(pool.map(fn, items))

    def _embed_titan(self, text: str) -> list[float]:
        body, tokens = self._invoke({"inputText": text, "dimensions": self.dimension, "normalize": True})
        if not isinstance(body, dict):
            raise BackendError(f"{self.model_id} returned JSON that is not an object")
        vector = self._unit(body.get("embedding"))
        self._count(body.get("inputTextTokenCount"), tokens, [text])
        return vector

    def _embed_cohere_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed_cohere(texts, "search_document")

    def _embed_cohere(self, texts: list[str], input_type: str) -> list[list[float]]:
        cut = [t[:COHERE_MAX_CHARS] for t in texts]
        body, tokens = self._invoke({"texts": cut, "input_type": input_type, "truncate": "END"})
        vectors = body.get("embeddings") if isinstance(body, dict) else None
        if not isinstance(vectors, list) or len(vectors) != len(texts):
            raise BackendError(f"{self.model_id} returned no 'embeddings' list with one vector per text")
        units = [self._unit(v) for v in vectors]
        self._count(None, tokens, cut)
        return units

    def _invoke(self, payload: dict[str, Any]) -> tuple[Any, int | None]:
        """The parsed JSON body and the input token count from the response header, if any."""
        request = {
            "modelId": self.model_id,
            "body": json.dumps(payload, ensure_ascii=False).encode(),
            "contentType": "application/json",
            "accept": "application/json",
        }
        def call() -> tuple[bytes, dict[str, str]]:
            response = self._client.invoke_model(**request)
            return response["body"].read(), response.get("ResponseMetadata", {}).get("HTTPHeaders", {})

        try:
            raw, headers = self._retry.call(call)
        except (ClientError, BotoCoreError) as exc:
            raise bedrock_error(exc, self.model_id) from exc
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise BackendError(f"{self.model_id} returned a body that is not JSON") from exc
        tokens = headers.get(_TOKEN_HEADER, "")
        return body, int(tokens) if tokens.isdigit() else None

    def _unit(self, vector: Any) -> list[float]:
        if (
            not isinstance(vector, list)
            or len(vector) != self.dimension
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector)
        ):
            size = len(vector) if isinstance(vector, list) else "no"
            raise BackendError(f"{self.model_id} returned {size} numbers where {self.dimension} were expected")
        norm = math.sqrt(sum(x * x for x in vector))
        if not norm or not math.isfinite(norm):
            raise BackendError(f"{self.model_id} returned a zero or non-finite vector")
        return [x / norm for x in vector]

    def _count(self, reported: Any, header: int | None, texts: Sequence[str]) -> None:
        if isinstance(reported, int):
            used = reported
        elif header is not None:
            used = header
        else:
            used = sum(self.count_tokens(t) for t in texts)
        with self._lock:
            self.tokens_used += used


def _family(model_id: str) -> str:
    """titan | cohere, also for inference-profile ids (``us.cohere...``) and ARNs ending in a model id."""
    if "titan-embed-text-v2" in model_id:
        return "titan"
    if "cohere.embed-english-v3" in model_id or "cohere.embed-multilingual-v3" in model_id:
        return "cohere"
    raise ConfigurationError(
        f"unsupported Bedrock embedding model {model_id}; use {TITAN_V2}, cohere.embed-english-v3 "
        "or cohere.embed-multilingual-v3"
    )


def _client() -> Any:
    import boto3

    return boto3.client("bedrock-runtime", config=sdk_config())
