"""Answer quality: does the /v1/answer path quote the gold answer, and does it abstain when it should?

A question is *grounded* when a gold answer string, normalised the SQuAD way
(lower case, no punctuation, no articles, single spaces), appears in the
quotes the answer cites; it is an *answer hit* when it appears in the answer
text itself. The abstention check asks questions whose paragraphs were held
out of the index: the right behaviour there is ``answered=False``.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sluice.bootstrap import Container
from sluice.domain.models import Answer
from sluice.evaluation.dataset import GoldAnswer
from sluice.evaluation.metrics import latency_summary

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\s?\[\d+\]")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, punctuation and articles removed, whitespace collapsed."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, golds: Sequence[str]) -> bool:
    """True when a normalised gold answer appears, on word boundaries, in the normalised text."""
    haystack = f" {normalize_answer(text)} "
    return any(f" {needle} " in haystack for needle in (normalize_answer(g) for g in golds) if needle)


@dataclass(frozen=True)
class Judged:
    """One question's answer, judged against its gold answers."""

    question_id: str
    answered: bool
    grounded: bool
    answer_hit: bool
    latency_ms: float


def judge(answer: Answer, gold: GoldAnswer, latency_ms: float) -> Judged:
    quotes = " ".join(c.quote for c in answer.citations)
    text = _MARKER.sub("", answer.text)
    return Judged(
        question_id=gold.question_id,
        answered=answer.answered,
        grounded=answer.answered and contains_answer(quotes, gold.answers),
        answer_hit=answer.answered and contains_answer(text, gold.answers),
        latency_ms=latency_ms,
    )


def ask_all(container: Container, golds: Sequence[GoldAnswer], k: int | None = None) -> list[Judged]:
    """Each question through ``QueryService.answer``, the path behind ``POST /v1/answer``."""
    judged = []
    tenant = container.settings.tenant
    for gold in golds:
        started = time.perf_counter()
        answer = container.query.answer(gold.question, tenant=tenant, k=k)
        judged.append(judge(answer, gold, (time.perf_counter() - started) * 1000))
    return judged


def answer_summary(judged: Sequence[Judged], k: int) -> dict[str, float]:
    """Rates over every question asked (an abstention counts as neither grounded nor a hit)."""
    n = len(judged) or 1
    return {
        "questions": len(judged),
        "k": k,
        "grounding_hit_rate": round(sum(j.grounded for j in judged) / n, 4),
        "answer_hit_rate": round(sum(j.answer_hit for j in judged) / n, 4),
        "abstention_rate": round(sum(not j.answered for j in judged) / n, 4),
        **latency_summary([j.latency_ms for j in judged]),
    }


def abstention_rate(judged: Sequence[Judged]) -> float:
    return round(sum(not j.answered for j in judged) / len(judged), 4) if judged else 0.0
