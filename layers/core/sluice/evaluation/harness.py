"""Ingest a BEIR corpus through the normal pipeline, then measure search the way callers use it.

Everything goes through the container's services (``IngestService``,
``QueryService``), so the same harness measures the local backend or AWS,
whichever the settings choose. The corpus is ingested into a state folder of
its own, named after the dataset and everything that changes what is indexed;
a rerun finds every document unchanged and embeds nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sluice.adapters.local.beir_blob_source import BeirBlobSource, doc_id_of
from sluice.bootstrap import Container, bootstrap
from sluice.domain.models import Chunk, DocumentOutcome, IngestReport, SearchMode
from sluice.evaluation.dataset import BeirDataset, Qrels, selection_key
from sluice.evaluation.metrics import RETRIEVAL_METRICS, latency_summary, recall_curve, score
from sluice.services.embedding_text import make_embed_text
from sluice.settings import Settings

Run = dict[str, dict[str, float]]
"""query id -> {document id: score}."""
Progress = Callable[[DocumentOutcome], None]

DEFAULT_DEPTH = 300
"""Chunks asked for per query: enough to fill 100 distinct documents (SciFact averages 2.3 chunks a document)."""


@dataclass(frozen=True)
class IndexConfig:
    """What changes the index itself; anything else (fusion, depth) is measured on the same index."""

    embed_title: bool = True
    selection: frozenset[str] | None = None


@dataclass
class ModeResult:
    """One search mode over every query: the document run, its metrics and per-query latency."""

    mode: str
    run: Run
    latencies_ms: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    curve: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        documents = sum(len(ranked) for ranked in self.run.values()) / (len(self.run) or 1)
        return {**self.metrics, **latency_summary(self.latencies_ms), "documents_per_query": round(documents, 1)}


def default_state(dataset: BeirDataset, settings: Settings, config: IndexConfig) -> Path:
    """``~/.cache/sluice/eval/<dataset>-<hash of what is indexed and how>``."""
    return Path.home() / ".cache" / "sluice" / "eval" / f"{dataset.name}-{config_key(dataset, settings, config)}"


def config_key(dataset: BeirDataset, settings: Settings, config: IndexConfig) -> str:
    selection = set(config.selection) if config.selection is not None else None
    parts = {
        "corpus": str(dataset.corpus.resolve()),
        "backend": settings.backend,
        "model": str(settings.model_dir.resolve()) if settings.backend == "local" else "",
        "quantized": settings.embedding_quantized,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_tokens": settings.chunk_overlap_tokens,
        "embed_title": config.embed_title,
        "selection": selection_key(selection),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def eval_settings(base: Settings, state: Path, depth: int) -> Settings:
    """The caller's settings, with the evaluation's own state folder and room for ``depth`` hits."""
    return base.model_copy(update={"state_dir": state, "max_k": max(base.max_k, depth)})


def open_container(settings: Settings, dataset: BeirDataset, config: IndexConfig, **overrides: Any) -> Container:
    """A container whose blob source is the (selected) corpus; without the title in the embedded text if asked."""
    only = set(config.selection) if config.selection is not None else None
    overrides = {"blobs": BeirBlobSource(dataset.corpus, only=only), **overrides}
    container = bootstrap(settings, **overrides)
    if config.embed_title:
        return container
    embed = make_embed_text(container.embedder.count_tokens)

    def text_only(title: str, chunk: Chunk) -> str:
        return embed("", replace(chunk, heading_path=()))

    pipeline = replace(container.pipeline, embed_text=text_only)
    return bootstrap(settings, **{**overrides, "embedder": container.embedder, "pipeline": pipeline})


def ingest_corpus(
    container: Container, progress: Progress | None = None, on_sources: Callable[[int], None] | None = None
) -> IngestReport:
    """Ingest every document of the container's blob source; unchanged ones cost nothing."""
    container.ingest.recover()
    sources = [info.source for info in container.blobs.list()]
    if on_sources is not None:
        on_sources(len(sources))
    return container.ingest.ingest_many(sources, progress)


def run_mode(container: Container, queries: dict[str, str], mode: SearchMode, depth: int) -> ModeResult:
    """Search every query; a document scores by its best chunk (its first hit)."""
    run: Run = {}
    latencies: list[float] = []
    tenant = container.settings.tenant
    for qid, text in queries.items():
        started = time.perf_counter()
        result = container.query.search(text, tenant=tenant, k=depth, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        run[qid] = documents_of([hit.chunk.source for hit in result.hits])
    return ModeResult(mode=mode.value, run=run, latencies_ms=latencies)


def documents_of(sources: list[str], limit: int = 100) -> dict[str, float]:
    """Ranked chunk sources -> {document id: score}, best chunk first, at most ``limit`` documents.

    Scores are the reversed rank, so the order is exactly the chunks' order whatever their raw scores.
    """
    ranked: list[str] = []
    for source in sources:
        doc = doc_id_of(source.rsplit("/", 1)[-1])
        if doc not in ranked:
            ranked.append(doc)
            if len(ranked) == limit:
                break
    return {doc: float(len(ranked) - n) for n, doc in enumerate(ranked)}


def measure(result: ModeResult, qrels: Qrels, extra: tuple[str, ...] = ()) -> ModeResult:
    result.metrics = score(qrels, result.run, RETRIEVAL_METRICS + extra)
    result.curve = recall_curve(qrels, result.run)
    return result
