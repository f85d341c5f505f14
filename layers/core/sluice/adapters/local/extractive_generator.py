"""ExtractiveGenerator: answers without an LLM by quoting the best sentences.

Every sentence of the answer is a quote from a retrieved passage and carries
its citation marker, so the answer cannot say anything the documents do not.
Sentences are scored by embedding similarity to the question plus a small
bonus for shared keywords; when the best one is not similar enough, it says
the documents do not answer the question instead of quoting noise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sluice.domain.models import Answer, Citation, Hit
from sluice.ports import Embedder

NO_ANSWER = "The documents do not answer this question."
# Relevance of a sentence = cosine(question, heading + sentence) + OVERLAP_WEIGHT * keyword overlap
# - RANK_PENALTY * rank of its passage. The constants and the default abstention threshold (0.55) were
# chosen on 400 answerable and 150 unanswerable SQuAD dev questions, disjoint from those `make eval` asks
# (docs/evaluation.md): grounding 0.85 with 1 % wrong abstentions, against 0.71 before.
OVERLAP_WEIGHT = 0.6
"""Weight of the share of the question's keywords (weighted by length, a proxy for rarity) found."""
RANK_PENALTY = 0.01
"""Per place in the retrieval ranking: the passage retrieval trusted most is preferred on ties."""
EXTRA_SENTENCE_MARGIN = 0.25
"""A second or third sentence joins the answer only when it scores this close to the best."""
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has", "have", "how", "i",
        "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "what", "when", "where",
        "which", "who", "why", "will", "with", "you", "your",
    }
)


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
        min_score: float = 0.55,
        max_sentences: int = 3,
        max_candidates: int = 80,
    ) -> None:
        self._embedder = embedder
        self._min_score = min_score
        self._max_sentences = max_sentences
        self._max_candidates = max_candidates

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
            (rank, pos, context, sentence)
            for rank, hit in enumerate(hits)
            for pos, (context, sentence) in enumerate(sentences_in_context(hit.chunk.text, hit.chunk.heading_path))
        ][: self._max_candidates]
        if not pieces:
            return []
        # A sentence is embedded with its heading ("Meander: A loop in a river's course.") so that
        # definitions and list items that never repeat their subject can still be found.
        vectors = self._embedder.embed_documents([f"{c}: {s}" if c else s for _, _, c, s in pieces])
        query = self._embedder.embed_query(question)
        terms = _terms(question)
        scored = []
        for (rank, pos, context, text), vec in zip(pieces, vectors):
            similarity = sum(a * b for a, b in zip(query, vec))
            overlap = _weighted_overlap(terms, _terms(f"{context} {text}"))
            score = similarity + OVERLAP_WEIGHT * overlap - RANK_PENALTY * rank
            scored.append(_Candidate(rank, pos, text, score, similarity))
        scored.sort(key=lambda c: -c.score)
        best = scored[0]
        if best.score < self._min_score:
            return []
        floor = max(best.score - EXTRA_SENTENCE_MARGIN, self._min_score)
        return [c for c in scored[: self._max_sentences] if c.score >= floor]


def _with_marker(sentence: str, marker: int) -> str:
    """``It fills in eight minutes [1].``: the marker sits before the closing punctuation."""
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} [{marker}]{sentence[-1]}"
    return f"{sentence} [{marker}]"


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, never across lines (headings, table rows); fragments dropped."""
    return [sentence for _, sentence in sentences_in_context(text)]


def sentences_in_context(text: str, heading_path: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(heading, sentence) pairs: the heading is the latest short line without a full stop."""
    context = heading_path[-1] if heading_path else ""
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and len(line.split()) <= 8 and line[-1] not in ".!?:;" and ";" not in line:
            context = line
            continue
        for sentence in _SENTENCE_END.split(line):
            sentence = sentence.strip()
            if len(sentence) >= 12 and len(sentence.split()) >= 4:
                pairs.append((context, sentence))
    return pairs


def _weighted_overlap(question: set[str], sentence: set[str]) -> float:
    """Share of the question's keywords in the sentence, longer (rarer) words counting more."""
    total = sum(math.log1p(len(t)) for t in question)
    return sum(math.log1p(len(t)) for t in question & sentence) / total if total else 0.0


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


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
