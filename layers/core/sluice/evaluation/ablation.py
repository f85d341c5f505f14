"""Ablations on an index that is already built: fusion, candidate depth, BM25 title boost, stopwords.

Query-side knobs are measured on one index, so nothing is embedded again; the
query vectors are cached across runs (latency is not what these rows measure).
Knobs that change the index (chunk size, title in the embedded text) get an
index of their own through ``index_ablation``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sluice.bootstrap import Container, bootstrap
from sluice.domain.models import SearchMode
from sluice.evaluation.dataset import BeirDataset
from sluice.evaluation.harness import DEFAULT_DEPTH, run_mode
from sluice.evaluation.metrics import score
from sluice.ports import Embedder

HYBRID_ONLY = (SearchMode.HYBRID,)
"""Fusion again with the title boost that measured best, since the two interact."""


@dataclass(frozen=True)
class AblationRow:
    group: str
    setting: str
    mode: str
    ndcg10: float
    recall100: float | None
    note: str = ""


class QueryVectorCache:
    """An ``Embedder`` that remembers query vectors, so the same query is embedded once per ablation sweep."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._queries: dict[str, list[float]] = {}
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens

    def embed_query(self, text: str) -> list[float]:
        if text not in self._queries:
            self._queries[text] = self._inner.embed_query(text)
        return self._queries[text]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)


class Sweep:
    """Runs one dataset's queries under different query settings against one open container."""

    def __init__(self, container: Container, dataset: BeirDataset) -> None:
        self._base = container
        self._dataset = dataset
        self._embedder = QueryVectorCache(container.embedder)

    def measure(self, group: str, setting: str, modes: Sequence[SearchMode] = HYBRID_ONLY, *,
                depth: int = DEFAULT_DEPTH, note: str = "", **updates: Any) -> list[AblationRow]:
        settings = self._base.settings.model_copy(update={"max_k": max(depth, 100), **updates})
        view = bootstrap(settings, embedder=self._embedder, index=self._base.index, registry=self._base.registry,
                         blobs=self._base.blobs, generator=self._base.generator)
        rows = []
        for mode in modes:
            run = run_mode(view, self._dataset.queries, mode, depth).run
            figures = score(self._dataset.qrels, run, ("ndcg@10", "recall@100"))
            recall = figures["recall@100"] if depth >= 50 else None
            rows.append(AblationRow(group, setting, mode.value, figures["ndcg@10"], recall, note))
        return rows


def query_ablations(container: Container, dataset: BeirDataset) -> list[AblationRow]:
    """Every query-side row, measured on ``container``'s index."""
    sweep = Sweep(container, dataset)
    rows: list[AblationRow] = []
    for rrf_k in (60, 20, 10):
        rows += sweep.measure("fusion", f"RRF k={rrf_k}", fusion="rrf", rrf_k=rrf_k)
    for method in ("minmax", "zscore"):
        for alpha in (0.3, 0.5, 0.7):
            rows += sweep.measure("fusion", f"{method}, vector weight {alpha}", fusion=method,
                                  fusion_vector_weight=alpha)
    for depth in (50, 100, 200):
        note = "at most 50 chunks returned, so Recall@100 is capped" if depth < 100 else ""
        rows += sweep.measure("candidate depth", f"{depth} per retriever, {depth} chunks returned", depth=depth,
                              candidate_depth=depth, note=note)
    for depth in (50, 100, 200):
        rows += sweep.measure("candidate depth", f"API k=10, candidate depth {depth}", depth=10,
                              candidate_depth=depth, note="top 10 chunks only: nDCG@10 as the API ranks it")
    both = (SearchMode.KEYWORD, SearchMode.HYBRID)
    for boost in (0.5, 1.0, 2.0, 3.0):
        with local_index_constant("_TITLE_BOOST", boost) as patched:
            if patched:
                rows += sweep.measure("BM25 title boost", f"title field boost {boost}", both)
    for label, stopwords in (("stopwords removed", None), ("stopwords kept", frozenset())):
        with local_index_constant("_STOPWORDS", stopwords) as patched:
            if patched:
                rows += sweep.measure("query handling", label, both)
    return rows


@contextlib.contextmanager
def local_index_constant(name: str, value: Any) -> Iterator[bool]:
    """Temporarily change a module constant of the local index (a knob with no setting); None keeps it.

    Yields False when the local index is not installed, so AWS runs skip these rows.
    """
    try:
        from sluice.adapters.local import local_vector_index as module
    except ImportError:
        yield False
        return
    if value is None:
        yield True
        return
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield True
    finally:
        setattr(module, name, saved)
