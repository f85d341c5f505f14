"""Settings: the only place that reads the environment (prefix ``SLUICE_``).

Each setting comes from a keyword argument, else the ``SLUICE_<NAME>``
environment variable (any case), else its default, and is validated by
pydantic. A list-valued setting is JSON in the environment
(``SLUICE_TENANT_CLAIMS='["custom:tenant","sub"]'``).

A plain pydantic model that reads ``os.environ`` itself, rather than
pydantic-settings: the same validation of the same strings, without
importing pydantic-settings' dozen sources (command-line parsing, dotenv,
cloud secret stores), which cost every Lambda cold start about 15 ms of CPU.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.fields import FieldInfo

from sluice.domain.errors import ConfigurationError
from sluice.domain.tenancy import Tenancy

ENV_PREFIX = "SLUICE_"


def default_model_cache() -> Path:
    return Path.home() / ".cache" / "sluice" / "models" / "all-MiniLM-L6-v2-onnx"


class Settings(BaseModel):
    """Everything configurable, validated once per process."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**environment_values(type(self).model_fields), **values})

    backend: Literal["local", "aws"] = "local"
    state_dir: Path = Path(".sluice")
    tenant: str = "default"
    multi_tenant: bool = False
    """Tenants by key layout: ``tenants/<tenant>/...`` belongs to ``<tenant>`` and callers are their JWT's tenant.

    Off: every document and every caller is ``tenant`` (see ``sluice.domain.tenancy``).
    """

    # Local embedding model: a directory in the Hugging Face ONNX layout
    # (model.onnx or onnx/model.onnx, tokenizer.json). Defaults to the one
    # `make install` exports.
    model_dir: Path = Field(default_factory=default_model_cache)
    embedding_quantized: bool = False
    embedding_batch_size: int = Field(default=32, ge=1, le=512)

    # Chunking, in the embedder's own tokens.
    chunk_tokens: int = Field(default=200, ge=32, le=8192)
    chunk_overlap_tokens: int = Field(default=32, ge=0, le=1024)

    # Limits.
    max_file_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    max_sidecar_bytes: int = Field(default=10 * 1024, ge=1)
    max_query_chars: int = Field(default=2000, ge=1)
    max_k: int = Field(default=100, ge=1)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1)
    """Largest JSON request body the API reads; uploads are bounded by ``max_file_bytes``."""
    max_feedback_comment_chars: int = Field(default=2000, ge=1)

    # Retrieval.
    default_k: int = Field(default=10, ge=1)
    candidate_depth: int = Field(default=100, ge=1)
    rrf_k: int = Field(default=60, ge=1)
    fusion: Literal["rrf", "minmax", "zscore"] = "zscore"
    """How hybrid search merges keyword and vector rankings: reciprocal rank, or normalised scores."""
    fusion_vector_weight: float = Field(default=0.7, ge=0.0, le=1.0)
    """Weight of the vector ranking in a normalised-score fusion (the keyword ranking gets the rest)."""

    # Answering.
    generator: Literal["extractive", "openai", "bedrock"] = "extractive"
    answer_k: int = Field(default=5, ge=1)
    answer_min_score: float = 0.8
    """The extractive answerer says the documents do not answer when its best sentence's score plus
    0.4 × the share of question keywords found in the passages is below this. Higher abstains more often
    on unanswerable questions and sometimes wrongly (docs/evaluation.md has the trade-off)."""
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "llama3.1"
    openai_api_key: SecretStr = SecretStr("")
    openai_timeout_s: float = 60.0

    # AWS (backend "aws"): names of the deployed resources, set by template.yaml.
    documents_bucket: str = ""
    documents_prefix: str = ""
    registry_table: str = ""
    feedback_table: str = ""
    served_answer_ttl_days: int = Field(default=90, ge=1, le=3650)
    """How long a served answer is kept for feedback to refer to (DynamoDB TTL); feedback itself is kept."""
    aws_region: str = ""
    """Region for OpenSearch request signing; empty means the SDK's default (``AWS_REGION`` on Lambda)."""
    opensearch_endpoint: str = ""
    opensearch_service: Literal["es", "aoss"] = "es"
    """``es`` for a managed domain, ``aoss`` for an OpenSearch Serverless collection."""
    opensearch_index: str = "sluice-chunks"
    bedrock_embedding_model: str = "amazon.titan-embed-text-v2:0"
    embedding_dimensions: Literal[256, 512, 1024] = 1024
    embedding_concurrency: int = Field(default=4, ge=1, le=64)
    bedrock_generation_model: str = "amazon.nova-lite-v1:0"
    generation_max_tokens: int = Field(default=1024, ge=1, le=8192)
    auth_disabled: bool = False
    """Dev stages only: no authorizer, every caller is ``tenant``. The template allows it only for Stage=dev."""
    tenant_claims: tuple[str, ...] = ("custom:tenant", "tenant", "sub")
    """JWT claims tried in order for the caller's tenant (behind the HTTP API's JWT authorizer)."""

    @property
    def tenancy(self) -> Tenancy:
        return Tenancy(self.tenant, multi=self.multi_tenant)

    @property
    def index_dir(self) -> Path:
        return self.state_dir / "index"

    @property
    def registry_path(self) -> Path:
        return self.state_dir / "registry.sqlite3"

    @property
    def feedback_path(self) -> Path:
        return self.state_dir / "feedback.sqlite3"

    @property
    def upload_dir(self) -> Path:
        return self.state_dir / "uploads"


def environment_values(fields: Mapping[str, FieldInfo], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``SLUICE_*`` variables of ``environ`` (default ``os.environ``) that name one of ``fields``."""
    found = {key.upper(): value for key, value in (os.environ if environ is None else environ).items()
             if key.upper().startswith(ENV_PREFIX)}
    values: dict[str, Any] = {}
    for name, info in fields.items():
        variable = ENV_PREFIX + name.upper()
        if variable in found:
            values[name] = _json(variable, found[variable]) if _is_json(info) else found[variable]
    return values


def _is_json(info: FieldInfo) -> bool:
    """Collections, and literals of numbers (pydantic matches ``Literal[256]`` against 256, never "256")."""
    origin = get_origin(info.annotation)
    if origin is Literal:
        return not all(isinstance(arg, str) for arg in get_args(info.annotation))
    return origin in (tuple, list, set, frozenset, dict)


def _json(variable: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        example = '1024 or ["custom:tenant","sub"]'
        raise ConfigurationError(f"{variable} must be JSON, such as {example}: {exc}") from exc
