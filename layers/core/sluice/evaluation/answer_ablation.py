"""Answerer ablations on SQuAD: how sentences are scored and when the answerer abstains.

Each variant is an ``ExtractiveGenerator`` with other constants, asked the
same questions through ``QueryService.answer`` on the same two indexes (the
whole corpus, and the one with a share of the articles held out), so the rows
differ in the answerer only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sluice.adapters.local.extractive_generator import COVERAGE_WEIGHT, ExtractiveGenerator
from sluice.adapters.local.sentences import Weights
from sluice.bootstrap import bootstrap
from sluice.evaluation.ablation import QueryVectorCache
from sluice.evaluation.runner import EvalOptions, Say, evaluate
from sluice.ports import Embedder
from sluice.settings import Settings


@dataclass(frozen=True)
class AnswerVariant:
    setting: str
    weights: Weights
    coverage_weight: float
    min_score: float


@dataclass(frozen=True)
class AnswerAblationRow:
    setting: str
    questions: int
    grounding_hit_rate: float
    abstention_held_out: float
    abstention_answerable: float
    default: bool


BEFORE = Weights(overlap=0.6, rare_overlap=0.0, answer_type=0.0, novelty=0.0, rank=0.01)
VARIANTS = (
    AnswerVariant("cosine similarity only, abstain below 0.45", Weights(0, 0, 0, 0, 0), 0.0, 0.45),
    AnswerVariant("+ length-weighted keyword overlap, abstain below 0.55", BEFORE, 0.0, 0.55),
    AnswerVariant("+ rare-word overlap, answer type, novelty; abstain below 0.55", Weights(), 0.0, 0.55),
    AnswerVariant("+ keyword coverage in answerability, abstain below 0.8", Weights(), COVERAGE_WEIGHT, 0.8),
    AnswerVariant("the same, abstain below 0.85", Weights(), COVERAGE_WEIGHT, 0.85),
    AnswerVariant("the same, abstain below 0.9", Weights(), COVERAGE_WEIGHT, 0.9),
)


def answer_ablations(
    folder: Path,
    settings: Settings,
    questions: int,
    say: Say,
    variants: Sequence[AnswerVariant] = VARIANTS,
    *,
    state: Path | None = None,
    **overrides: Any,
) -> list[AnswerAblationRow]:
    """One row per variant: grounding on ``questions`` answerable questions, abstention on the held-out split."""
    embedder = SentenceVectorCache(overrides.pop("embedder", None) or bootstrap(settings).embedder)
    rows = []
    for variant in variants:
        say(f"Answerer ablation: {variant.setting}")
        generator = ExtractiveGenerator(
            embedder, min_score=variant.min_score, weights=variant.weights, coverage_weight=variant.coverage_weight
        )
        options = EvalOptions(modes=(), answer_limit=questions)
        result = evaluate(folder, settings, options, state=state, embedder=embedder, generator=generator, **overrides)
        answers, abstention = result.answers or {}, result.abstention or {}
        rows.append(
            AnswerAblationRow(
                setting=variant.setting,
                questions=int(answers.get("questions", 0)),
                grounding_hit_rate=float(answers.get("grounding_hit_rate", 0.0)),
                abstention_held_out=float(abstention.get("abstention_rate_held_out", 0.0)),
                abstention_answerable=float(abstention.get("abstention_rate_answerable", 0.0)),
                default=variant.weights == Weights()
                and variant.min_score == settings.answer_min_score
                and variant.coverage_weight == COVERAGE_WEIGHT,
            )
        )
    return rows


class SentenceVectorCache(QueryVectorCache):
    """Also remembers sentence vectors: every variant scores the same sentences, so only the first embeds."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, super().embed_documents(missing)):
                self._vectors[text] = np.asarray(vector, dtype=np.float32)
        return [self._vectors[t].tolist() for t in texts]


def answer_ablation_table(rows: Sequence[AnswerAblationRow]) -> list[str]:
    table = [
        "| answerer | questions | grounding hit rate | abstains, paragraph held out | abstains, paragraph indexed |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        setting = f"**{r.setting}** (default)" if r.default else r.setting
        table.append(
            f"| {setting} | {r.questions} | {r.grounding_hit_rate:.4f} | {r.abstention_held_out:.4f} | "
            f"{r.abstention_answerable:.4f} |"
        )
    return table
