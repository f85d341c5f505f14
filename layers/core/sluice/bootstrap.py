"""The composition root: reads ``Settings`` once and wires the services.

Entry points (CLI, API, Lambda handlers) ask for a ``Container`` and use its
services; tests build one with fakes through the same function. With
``backend = "aws"`` the adapters are the AWS ones (S3, DynamoDB, Bedrock,
OpenSearch); a Lambda handler builds its container once at import, so each
warm container keeps one SDK client per adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sluice.ports import BlobSource, DocumentRegistry, Embedder, FeedbackStore, Generator, VectorIndex
from sluice.services.embedding_text import CONTEXT_TOKEN_BUDGET, make_embed_text
from sluice.services.ingest import IngestLimits, IngestService, TextPipeline
from sluice.services.query import QueryLimits, QueryService
from sluice.services.uploads import DocumentUploads
from sluice.settings import Settings


@dataclass
class Container:
    """Adapters are built on first use, so ``sluice status`` never loads the model."""

    settings: Settings
    overrides: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def embedder(self) -> Embedder:
        if "embedder" in self.overrides:
            return self.overrides["embedder"]  # type: ignore[no-any-return]
        if self._on_aws:
            return _aws_embedder(self.settings)
        from sluice.adapters.local.onnx_embedder import OnnxEmbedder

        s = self.settings
        return OnnxEmbedder(s.model_dir, quantized=s.embedding_quantized, batch_size=s.embedding_batch_size)

    @cached_property
    def index(self) -> VectorIndex:
        if "index" in self.overrides:
            return self.overrides["index"]  # type: ignore[no-any-return]
        if self._on_aws:
            return _aws_index(self.settings, self.embedder.dimension)
        from sluice.adapters.local.local_vector_index import LocalVectorIndex

        return LocalVectorIndex(self.settings.index_dir, self.embedder.dimension)

    @cached_property
    def registry(self) -> DocumentRegistry:
        if "registry" in self.overrides:
            return self.overrides["registry"]  # type: ignore[no-any-return]
        if self._on_aws:
            from sluice.adapters.aws.dynamodb_document_registry import DynamoDbDocumentRegistry

            return DynamoDbDocumentRegistry(self.settings.registry_table)
        from sluice.adapters.local.sqlite_document_registry import SqliteDocumentRegistry

        return SqliteDocumentRegistry(self.settings.registry_path)

    @cached_property
    def blobs(self) -> BlobSource:
        if "blobs" in self.overrides:
            return self.overrides["blobs"]  # type: ignore[no-any-return]
        if self._on_aws:
            from sluice.adapters.aws.s3_blob_source import S3BlobSource

            return S3BlobSource(self.settings.documents_bucket, prefix=self.settings.documents_prefix)
        from sluice.adapters.local.file_blob_source import FileBlobSource

        return FileBlobSource(upload_dir=self.settings.state_dir / "uploads")

    @cached_property
    def generator(self) -> Generator:
        if "generator" in self.overrides:
            return self.overrides["generator"]  # type: ignore[no-any-return]
        s = self.settings
        if s.generator == "bedrock":
            from sluice.adapters.aws.bedrock_generator import BedrockGenerator

            return BedrockGenerator(s.bedrock_generation_model, max_tokens=s.generation_max_tokens)
        if s.generator == "openai":
            from sluice.adapters.local.openai_generator import OpenAiGenerator

            return OpenAiGenerator(
                base_url=s.openai_base_url,
                model=s.openai_model,
                api_key=s.openai_api_key.get_secret_value(),
                timeout_s=s.openai_timeout_s,
            )
        from sluice.adapters.local.extractive_generator import ExtractiveGenerator

        return ExtractiveGenerator(self.embedder, min_score=s.answer_min_score)

    @cached_property
    def pipeline(self) -> TextPipeline:
        if "pipeline" in self.overrides:
            return self.overrides["pipeline"]  # type: ignore[no-any-return]
        from sluice.adapters.text.chunker import StructuredChunker
        from sluice.adapters.text.cleaning import clean_document
        from sluice.adapters.text.parsers import parser_for
        from sluice.adapters.text.sidecar import parse_sidecar

        count = self.embedder.count_tokens
        # Room for the special tokens and the title/heading context line.
        limit = min(self.settings.chunk_tokens, self.embedder.max_tokens - 2 - CONTEXT_TOKEN_BUDGET)
        chunker = StructuredChunker(count, max_tokens=limit, overlap_tokens=self.settings.chunk_overlap_tokens)
        return TextPipeline(
            parser_for=parser_for,
            clean=clean_document,
            chunker=chunker,
            parse_sidecar=parse_sidecar,
            embed_text=make_embed_text(count),
        )

    @cached_property
    def feedback(self) -> FeedbackStore:
        store: FeedbackStore
        if "feedback" in self.overrides:
            store = self.overrides["feedback"]
        elif self._on_aws:
            from sluice.adapters.aws.dynamodb_feedback_store import DynamoDbFeedbackStore

            s = self.settings
            store = DynamoDbFeedbackStore(s.feedback_table, answer_ttl_s=s.served_answer_ttl_days * 86400)
        else:
            from sluice.adapters.local.sqlite_feedback_store import SqliteFeedbackStore

            store = SqliteFeedbackStore(self.settings.feedback_path)
        if self._on_aws:
            from sluice.observability import MeteredFeedbackStore

            return MeteredFeedbackStore(store)
        return store

    @cached_property
    def ingest(self) -> IngestService:
        s = self.settings
        return IngestService(
            blobs=self.blobs,
            pipeline=self.pipeline,
            embedder=self.embedder,
            index=self.index,
            registry=self.registry,
            tenant=s.tenant,
            limits=IngestLimits(max_file_bytes=s.max_file_bytes, max_sidecar_bytes=s.max_sidecar_bytes),
        )

    @cached_property
    def uploads(self) -> DocumentUploads:
        """Inline locally; on AWS deferred to the S3 event, because only the ingest function carries parsers."""
        s = self.settings
        return DocumentUploads(blobs=self.blobs, registry=self.registry, ingest=self.ingest, tenancy=s.tenancy,
                               inline=not self._on_aws,
                               local_upload_root="" if self._on_aws else s.upload_dir.resolve().as_posix())

    @cached_property
    def query(self) -> QueryService:
        s = self.settings
        limits = QueryLimits(
            default_k=s.default_k,
            max_k=s.max_k,
            max_query_chars=s.max_query_chars,
            candidate_depth=s.candidate_depth,
            rrf_k=s.rrf_k,
            fusion=s.fusion,
            fusion_vector_weight=s.fusion_vector_weight,
            answer_k=s.answer_k,
        )
        return QueryService(embedder=self.embedder, index=self.index, generator=self.generator, limits=limits)

    @property
    def _on_aws(self) -> bool:
        return self.settings.backend == "aws"

    def close(self) -> None:
        for name in ("index", "registry", "feedback"):
            component = self.__dict__.get(name)
            close = getattr(component, "close", None)
            if callable(close):
                close()


def _aws_embedder(s: Settings) -> Embedder:
    from sluice.adapters.aws.bedrock_embedder import BedrockEmbedder

    return BedrockEmbedder(s.bedrock_embedding_model, dimensions=s.embedding_dimensions,
                           max_concurrency=s.embedding_concurrency)


def _aws_index(s: Settings, dimension: int) -> VectorIndex:
    """The OpenSearch index; its first write creates it, so a cold start makes no request here."""
    from sluice.adapters.aws.opensearch_vector_index import OpenSearchVectorIndex, connect

    client = connect(s.opensearch_endpoint, s.aws_region or _sdk_region(), s.opensearch_service)
    return OpenSearchVectorIndex(client, s.opensearch_index, dimension)


def _sdk_region() -> str:
    import boto3

    return boto3.session.Session().region_name or ""


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Container:
    """Wire the services for ``settings`` (read from the environment when omitted)."""
    return Container(settings or Settings(), overrides)
