"""ExtractiveGenerator: answers without an LLM by quoting the best sentences.

Every sentence of the answer is a quote from a retrieved passage and carries
its citation marker, so the answer cannot say anything the documents do not.
Sentences are scored by embedding similarity to the question plus lexical
evidence (sluice.adapters.local.sentences); when even the best one is weak, or
the passages lack the question's keywords, it says the documents do not answer
the question instead of quoting noise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sluice.adapters.local.sentences import (
    Piece,
    Weights,
    coverage,
    score_pieces,
    sentences_in_context,
)
from sluice.domain.models import Answer, Citation, Hit
from sluice.ports import Embedder

NO_ANSWER = "The documents do not answer this question."
EXTRA_SENTENCE_MARGIN = 0.25
"""A second or third sentence joins the answer only when it scores this close to the best."""
COVERAGE_WEIGHT = 0.4
"""Answerability = best sentence score + this × share of the question's keywords the passages contain."""


@dataclass(frozen=True)
class _Candidate:
    hit_rank: int
    position: int
    text: str
    score: float
    similarity: float


class ExtractiveGenerator:
    """Composes an answer from the most relevant sentences of the top passages."""

    model_id = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        min_score: float = 0.8,
        max_sentences: int = 3,
        max_candidates: int = 80,
        weights: Weights = Weights(),
        coverage_weight: float = COVERAGE_WEIGHT,
    ) -> None:
        self._embedder = embedder
        self._min_score = min_score
        self._max_sentences = max_sentences
        self._max_candidates = max_candidates
        self._weights = weights
        self._coverage_weight = coverage_weight

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        chosen = self._choose(question, hits)
        if not chosen:
            return Answer(text=NO_ANSWER, answered=False, citations=[], model=self.model_id)
        citations: dict[int, Citation] = {}
        parts: list[str] = []
        for cand in sorted(chosen, key=lambda c: (c.hit_rank, c.position)):
            hit = hits[cand.hit_rank]
            citation = citations.get(cand.hit_rank)
            if citation is None:
                citation = _citation(len(citations) + 1, hit, cand.text)
            else:
                citation = Citation(**{**citation.__dict__, "quote": f"{citation.quote} {cand.text}"})
            citations[cand.hit_rank] = citation
            parts.append(_with_marker(cand.text, citation.marker))
        return Answer(text=" ".join(parts), answered=True, citations=list(citations.values()), model=self.model_id)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        answer = self.answer(question, hits)
        for n, sentence in enumerate(re.split(r"(?<=\][.!?])\s|(?<=\])\s", answer.text)):
            yield sentence if n == 0 else " " + sentence
        yield answer

    def _choose(self, question: str, hits: Sequence[Hit]) -> list[_Candidate]:
        pieces = [
            Piece(rank, pos, context, sentence)
            for rank, hit in enumerate(hits)
            for pos, (context, sentence) in enumerate(sentences_in_context(hit.chunk.text, hit.chunk.heading_path))
        ][: self._max_candidates]
        if not pieces:
            return []
        # A sentence is embedded with its heading ("Meander: A loop in a river's course.") so that
        # definitions and list items that never repeat their subject can still be found.
        vectors = self._embedder.embed_documents([f"{p.context}: {p.text}" if p.context else p.text for p in pieces])
        query = self._embedder.embed_query(question)
        similarities = [sum(a * b for a, b in zip(query, vec)) for vec in vectors]
        scores = score_pieces(question, pieces, similarities, self._weights)
        scored = sorted(
            (_Candidate(p.rank, p.position, p.text, score, sim) for p, score, sim in zip(pieces, scores, similarities)),
            key=lambda c: -c.score,
        )
        best = scored[0]
        if best.score + self._coverage_weight * coverage(question, pieces) < self._min_score:
            return []
        return [c for c in scored[: self._max_sentences] if c.score >= best.score - EXTRA_SENTENCE_MARGIN]


def _with_marker(sentence: str, marker: int) -> str:
    """``It fills in eight minutes [1].``: the marker sits before the closing punctuation."""
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} [{marker}]{sentence[-1]}"
    return f"{sentence} [{marker}]"


def _citation(marker: int, hit: Hit, quote: str) -> Citation:
    chunk = hit.chunk
    return Citation(
        marker=marker,
        document_id=chunk.document_id,
        source=chunk.source,
        title=chunk.title,
        page=chunk.page_start,
        quote=quote,
        chunk_id=chunk.chunk_id,
        score=hit.score,
    )
