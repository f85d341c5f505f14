"""Sentences of a passage and how well each one answers a question.

The extractive answerer quotes whole sentences, so it needs two things: a
splitter that does not cut "Rajendra K. Pachauri" in two, and a relevance
score for each candidate sentence. The score adds cheap lexical evidence to
the embedding similarity:

* keyword overlap, weighted by word length and by rarity among the candidates
  (a word every candidate shares tells nothing);
* answer type: a "when" question wants a sentence with a date, "how many" a
  number, "who"/"where" a name the question does not already contain;
* novelty: a sentence that only restates the question cannot answer it;
* rank: the passage retrieval trusted most wins ties.

The weights were chosen on SQuAD dev questions disjoint from those `make eval`
asks; docs/evaluation.md has the figures.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
_NOT_AN_END = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|Ft|Jr|Sr|Gen|Col|Lt|Capt|Rev|Gov|Sen|vs|approx|ca|cf|e\.g|i\.e))"
    r"\.[\"')\]]*$"
)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has", "have", "how", "i",
        "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "what", "when", "where",
        "which", "who", "why", "will", "with", "you", "your",
    }
)
_WHEN = re.compile(r"\bwhen\b|\b(?:what|which) (?:year|century|decade|date|day|month|period)\b", re.I)
_HOW_MUCH = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high|fast)\b|\bwhat (?:percentage|percent|number|amount)\b", re.I
)
_WHO_WHERE = re.compile(r"\b(?:who|whom|whose|where)\b", re.I)
_DATE = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\b"
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred"
    r"|thousand|million|billion|dozen)\b",
    re.I,
)
_NAME = re.compile(r"(?<=[a-z,;:] )[A-Z][\w'-]+")


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence adds to the cosine similarity of question and sentence."""

    overlap: float = 0.3
    """Share of the question's keywords in the sentence, longer words counting more."""
    rare_overlap: float = 0.2
    """The same share, each keyword weighted by its rarity among the candidate sentences."""
    answer_type: float = 0.05
    """The sentence holds the kind of thing the question asks for (a date, a number, a name)."""
    novelty: float = 0.1
    """Up to this much for words the question does not have (full at ten such words)."""
    rank: float = 0.02
    """Taken off per place of the sentence's passage in the retrieval ranking."""


@dataclass(frozen=True)
class Piece:
    """A candidate sentence: its passage's place in the ranking, and the heading it sits under."""

    rank: int
    position: int
    context: str
    text: str


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
        for sentence in _sentences_of_line(line):
            if len(sentence) >= 12 and len(sentence.split()) >= 4:
                pairs.append((context, sentence))
    return pairs


def score_pieces(
    question: str, pieces: Sequence[Piece], similarities: Sequence[float], weights: Weights = Weights()
) -> list[float]:
    """Relevance of each candidate sentence to the question (higher is better)."""
    asked = keywords(question)
    pieces_terms = [keywords(f"{p.context} {p.text}") for p in pieces]
    seen = Counter(t for terms in pieces_terms for t in terms & asked)
    rarity = {t: math.log((len(pieces) + 1) / (seen[t] + 0.5)) for t in asked}
    by_length = {t: math.log1p(len(t)) for t in asked}
    wants = _answer_type(question)
    question_words = {w.lower() for w in re.findall(r"[\w'-]+", question)}
    scores = []
    for piece, terms, similarity in zip(pieces, pieces_terms, similarities):
        shared = asked & terms
        score = (
            similarity
            + weights.overlap * _share(shared, by_length)
            + weights.rare_overlap * _share(shared, rarity)
            + weights.answer_type * _has_type(wants, piece.text, question_words)
            + weights.novelty * min(len(keywords(piece.text) - asked), 10) / 10
            - weights.rank * piece.rank
        )
        scores.append(score)
    return scores


def coverage(question: str, pieces: Sequence[Piece]) -> float:
    """Share of the question's keywords (longer words counting more) found anywhere in the candidates.

    A question about something the documents never mention ("When did Pachauri resign?" with no
    Pachauri anywhere) can still find a fluent, similar sentence; its missing keywords give it away.
    """
    asked = keywords(question)
    found = set().union(*(keywords(f"{p.context} {p.text}") for p in pieces)) if pieces else set()
    return _share(asked & found, {t: math.log1p(len(t)) for t in asked})


def keywords(text: str) -> set[str]:
    """Lower-cased words of three letters or more, stop words removed."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def _sentences_of_line(line: str) -> list[str]:
    """Split at sentence ends, but not after an initial or a title ("Rajendra K. Pachauri", "Dr. Ho")."""
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(line):
        piece = piece.strip()
        if sentences and _NOT_AN_END.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        elif piece:
            sentences.append(piece)
    return sentences


def _share(shared: set[str], weight: dict[str, float]) -> float:
    total = sum(weight.values())
    return sum(weight[t] for t in shared) / total if total > 0 else 0.0


def _answer_type(question: str) -> str:
    if _WHEN.search(question):
        return "date"
    if _HOW_MUCH.search(question):
        return "number"
    if _WHO_WHERE.search(question):
        return "name"
    return ""


def _has_type(wants: str, sentence: str, question_words: set[str]) -> bool:
    if wants == "date":
        return bool(_DATE.search(sentence))
    if wants == "number":
        return bool(_NUMBER.search(sentence))
    if wants == "name":
        return any(name.lower() not in question_words for name in _NAME.findall(sentence))
    return False
