"""Settings: the only place that reads the environment (prefix ``SLUICE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_model_cache() -> Path:
    return Path.home() / ".cache" / "sluice" / "models" / "all-MiniLM-L6-v2-onnx"


class Settings(BaseSettings):
    """Everything configurable, validated once per process."""

    model_config = SettingsConfigDict(env_prefix="SLUICE_", env_file=None, extra="ignore")

    backend: Literal["local", "aws"] = "local"
    state_dir: Path = Path(".sluice")
    tenant: str = "default"

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
    fusion: Literal["rrf", "minmax", "zscore"] = "rrf"
    """How hybrid search merges keyword and vector rankings: reciprocal rank, or normalised scores."""
    fusion_vector_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    """Weight of the vector ranking in a normalised-score fusion (the keyword ranking gets the rest)."""

    # Answering.
    generator: Literal["extractive", "openai", "bedrock"] = "extractive"
    answer_k: int = Field(default=5, ge=1)
    answer_min_similarity: float = 0.30
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "llama3.1"
    openai_api_key: SecretStr = SecretStr("")
    openai_timeout_s: float = 60.0

    # AWS (backend "aws"): names of the deployed resources, set by template.yaml.
    documents_bucket: str = ""
    documents_prefix: str = ""
    registry_table: str = ""
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
