"""QueryService: questions in, ranked passages or grounded answers out."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sluice.domain.errors import InvalidRequestError, LimitExceededError
from sluice.domain.filters import Filter
from sluice.domain.fusion import normalized_score_fusion, reciprocal_rank_fusion
from sluice.domain.models import Answer, Hit, SearchMode, SearchResult
from sluice.ports import Embedder, Generator, VectorIndex


@dataclass(frozen=True)
class QueryLimits:
    default_k: int = 10
    max_k: int = 100
    max_query_chars: int = 2000
    candidate_depth: int = 100
    rrf_k: int = 60
    fusion: str = "rrf"
    """``rrf`` (reciprocal rank), or ``minmax`` / ``zscore`` (normalised score combination)."""
    fusion_vector_weight: float = 0.5
    answer_k: int = 5


class QueryService:
    """Searches the index (keyword, vector or hybrid) and answers with citations."""

    def __init__(
        self, *, embedder: Embedder, index: VectorIndex, generator: Generator, limits: QueryLimits = QueryLimits()
    ) -> None:
        self._embedder = embedder
        self._index = index
        self._generator = generator
        self._limits = limits

    def search(
        self,
        query: str,
        *,
        tenant: str,
        k: int | None = None,
        mode: SearchMode = SearchMode.HYBRID,
        filter: Filter | None = None,
    ) -> SearchResult:
        """Top ``k`` chunks for ``query``; raises ``InvalidRequestError`` for bad input."""
        query = self._check_query(query, "query")
        k = self._check_k(k)
        timings: dict[str, float] = {}
        hits = self._retrieve(query, k, mode, tenant, filter, timings)
        tokens = self._embedder.count_tokens(query) if mode is not SearchMode.KEYWORD else 0
        return SearchResult(hits=hits, mode=mode, timings=timings, embedding_tokens=tokens)

    def answer(self, question: str, *, tenant: str, k: int | None = None, filter: Filter | None = None) -> Answer:
        """An answer grounded in the top passages, or a plain statement that they do not answer it."""
        question, hits, timings = self._prepare_answer(question, tenant, k, filter)
        mark = time.perf_counter()
        answer = self._generator.answer(question, hits)
        timings["generate_ms"] = _ms(mark)
        return self._finish(answer, question, timings)

    def stream_answer(
        self, question: str, *, tenant: str, k: int | None = None, filter: Filter | None = None
    ) -> Iterator[str | Answer]:
        """Text pieces as the generator produces them, then the final ``Answer``."""
        question, hits, timings = self._prepare_answer(question, tenant, k, filter)
        mark = time.perf_counter()
        for piece in self._generator.stream(question, hits):
            if isinstance(piece, Answer):
                timings["generate_ms"] = _ms(mark)
                yield self._finish(piece, question, timings)
            else:
                yield piece

    def _prepare_answer(
        self, question: str, tenant: str, k: int | None, filter: Filter | None
    ) -> tuple[str, list[Hit], dict[str, float]]:
        question = self._check_query(question, "question")
        k = self._check_k(k or self._limits.answer_k)
        timings: dict[str, float] = {}
        hits = self._retrieve(question, k, SearchMode.HYBRID, tenant, filter, timings)
        return question, hits, timings

    def _finish(self, answer: Answer, question: str, timings: dict[str, float]) -> Answer:
        answer.timings = {**timings, **answer.timings}
        answer.usage.embedding_tokens += self._embedder.count_tokens(question)
        answer.answer_id = answer.answer_id or uuid.uuid4().hex
        return answer

    def _retrieve(
        self, query: str, k: int, mode: SearchMode, tenant: str, filter: Filter | None, timings: dict[str, float]
    ) -> list[Hit]:
        depth = max(k, self._limits.candidate_depth) if mode is SearchMode.HYBRID else k
        keyword: list[Hit] = []
        vector: list[Hit] = []
        if mode is not SearchMode.VECTOR:
            mark = time.perf_counter()
            keyword = self._index.keyword_search(query, depth, tenant=tenant, filter=filter)
            timings["keyword_ms"] = _ms(mark)
        if mode is not SearchMode.KEYWORD:
            mark = time.perf_counter()
            query_vector = self._embedder.embed_query(query)
            timings["embed_ms"] = _ms(mark)
            mark = time.perf_counter()
            vector = self._index.vector_search(query_vector, depth, tenant=tenant, filter=filter)
            timings["vector_ms"] = _ms(mark)
        if mode is SearchMode.KEYWORD:
            return keyword
        if mode is SearchMode.VECTOR:
            return vector
        mark = time.perf_counter()
        fused = self._fuse(keyword, vector, k)
        timings["fuse_ms"] = _ms(mark)
        return fused

    def _fuse(self, keyword: list[Hit], vector: list[Hit], k: int) -> list[Hit]:
        limits = self._limits
        if limits.fusion == "rrf":
            return reciprocal_rank_fusion([keyword, vector], k, rrf_k=limits.rrf_k)
        weights = [1.0 - limits.fusion_vector_weight, limits.fusion_vector_weight]
        return normalized_score_fusion([keyword, vector], k, method=limits.fusion, weights=weights)

    def _check_query(self, text: str, name: str) -> str:
        text = (text or "").strip()
        if not text:
            raise InvalidRequestError(f"{name} must not be empty")
        if len(text) > self._limits.max_query_chars:
            raise LimitExceededError(
                f"{name} is {len(text)} characters, over the limit of {self._limits.max_query_chars}; shorten it",
                details={"limit": "max_query_chars", "value": self._limits.max_query_chars},
            )
        return text

    def _check_k(self, k: int | None) -> int:
        k = self._limits.default_k if k is None else k
        if not 1 <= k <= self._limits.max_k:
            raise InvalidRequestError(f"k must be between 1 and {self._limits.max_k}, got {k}")
        return k


def _ms(mark: float) -> float:
    return round((time.perf_counter() - mark) * 1000, 3)
