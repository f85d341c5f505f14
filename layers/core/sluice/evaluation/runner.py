"""``sluice eval``: one dataset, every asked mode, answer quality when gold answers are there."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluice.bootstrap import Container
from sluice.domain.models import DocumentOutcome, SearchMode
from sluice.evaluation.answers import abstention_rate, answer_summary, ask_all
from sluice.evaluation.dataset import BeirDataset, corpus_selection, held_out_titles, load_dataset, spread
from sluice.evaluation.harness import (
    DEFAULT_DEPTH,
    IndexConfig,
    ModeResult,
    config_key,
    default_state,
    eval_settings,
    ingest_corpus,
    measure,
    open_container,
    run_mode,
)
from sluice.settings import Settings

Progress = Callable[[DocumentOutcome], None]
Say = Callable[[str], None]
ANSWER_RECALL = ("recall@1", "recall@5")


@dataclass(frozen=True)
class EvalOptions:
    """What one evaluation run measures; the defaults are what ``sluice eval`` does."""

    modes: tuple[SearchMode, ...] = (SearchMode.HYBRID, SearchMode.VECTOR, SearchMode.KEYWORD)
    split: str = "test"
    limit: int | None = None
    corpus_limit: int | None = None
    depth: int = DEFAULT_DEPTH
    answers: bool = True
    answer_limit: int = 500
    holdout_fraction: float = 0.2
    embed_title: bool = True


@dataclass
class EvalResult:
    """Every figure of a run; ``as_json`` is what ``--json`` prints."""

    dataset: BeirDataset
    settings: Settings
    options: EvalOptions
    state: Path
    documents: int
    chunks: int
    ingest: dict[str, Any]
    modes: dict[str, ModeResult] = field(default_factory=dict)
    answers: dict[str, Any] | None = None
    abstention: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        s = self.settings
        return {
            "dataset": self.dataset.name,
            "split": self.dataset.split,
            "queries": len(self.dataset.queries),
            "documents": self.documents,
            "chunks": self.chunks,
            "state": str(self.state),
            "settings": {
                "backend": s.backend, "chunk_tokens": s.chunk_tokens, "chunk_overlap_tokens": s.chunk_overlap_tokens,
                "candidate_depth": s.candidate_depth, "rrf_k": s.rrf_k, "fusion": s.fusion,
                "fusion_vector_weight": s.fusion_vector_weight, "answer_k": s.answer_k,
                "answer_min_score": s.answer_min_score, "depth": self.options.depth,
                "embed_title": self.options.embed_title,
            },
            "ingest": self.ingest,
            "modes": {name: result.summary() for name, result in self.modes.items()},
            **({"answers": self.answers} if self.answers is not None else {}),
            **({"abstention": self.abstention} if self.abstention is not None else {}),
        }


def evaluate(
    folder: Path,
    base: Settings,
    options: EvalOptions = EvalOptions(),
    *,
    state: Path | None = None,
    progress: Progress | None = None,
    on_sources: Callable[[int], None] | None = None,
    say: Say = lambda _: None,
    **overrides: Any,
) -> EvalResult:
    """Ingest (cached), search every query in every mode, then judge answers when the dataset has them."""
    dataset = load_dataset(folder, options.split, options.limit)
    selection = corpus_selection(dataset, options.corpus_limit)
    config = IndexConfig(embed_title=options.embed_title, selection=frozenset(selection) if selection else None)
    state = state or default_state(dataset, base, config)
    settings = eval_settings(base, state, options.depth)
    container = open_container(settings, dataset, config, **overrides)
    try:
        say(f"Ingesting {dataset.name} into {state}")
        report = ingest_corpus(container, progress, on_sources)
        ingest = {"indexed": report.count("indexed"), "unchanged": report.count("unchanged"),
                  "failed": len(report.failed), "embedding_calls": report.embedding_calls,
                  "seconds": round(report.seconds, 2)}
        result = EvalResult(dataset=dataset, settings=settings, options=options, state=state,
                            documents=report.count("indexed") + report.count("unchanged"),
                            chunks=_chunk_count(container), ingest=ingest)
        extra = ANSWER_RECALL if dataset.answers else ()
        for mode in options.modes:
            say(f"Searching {len(dataset.queries)} queries, {mode.value}")
            result.modes[mode.value] = measure(run_mode(container, dataset.queries, mode, options.depth),
                                               dataset.qrels, extra)
        if dataset.answers and options.answers:
            golds = spread(list(dataset.answers.values()), options.answer_limit)
            say(f"Answering {len(golds)} questions")
            result.answers = answer_summary(ask_all(container, golds), settings.answer_k)
    finally:
        container.close()
    if dataset.answers and options.answers and options.holdout_fraction > 0:
        result.abstention = check_abstention(dataset, settings, config, options, say, **overrides)
    return result


def check_abstention(
    dataset: BeirDataset, settings: Settings, config: IndexConfig, options: EvalOptions, say: Say, **overrides: Any
) -> dict[str, Any]:
    """Hold out a fixed share of the articles, then ask questions from both sides of the line."""
    titles = dataset.titles()
    gone = held_out_titles(titles, options.holdout_fraction)
    kept = frozenset(doc for doc, title in titles.items() if title not in gone and _selected(doc, config))
    held = {doc for doc, title in titles.items() if title in gone}
    holdout_config = IndexConfig(embed_title=config.embed_title, selection=kept)
    key = config_key(dataset, settings, holdout_config)
    state = seed_state(settings.state_dir, settings.state_dir.with_name(f"{settings.state_dir.name}-holdout-{key}"),
                       settings)
    container = open_container(settings.model_copy(update={"state_dir": state}), dataset, holdout_config,
                               **overrides)
    try:
        say(f"Abstention check: {len(gone)} of {len(set(titles.values()))} articles held out, state {state}")
        ingest_corpus(container)
        for doc in sorted(held):
            container.ingest.delete(f"{doc}.md")
        golds = list(dataset.answers.values())
        half = max(1, options.answer_limit // 2)
        unanswerable = spread([g for g in golds if g.paragraph_id in held], half)
        answerable = spread([g for g in golds if g.paragraph_id in kept], half)
        say(f"Asking {len(unanswerable)} held-out and {len(answerable)} answerable questions")
        out = ask_all(container, unanswerable)
        inside = ask_all(container, answerable)
    finally:
        container.close()
    return {
        "held_out_articles": len(gone),
        "articles": len(set(titles.values())),
        "held_out_questions": len(out),
        "answerable_questions": len(inside),
        "abstention_rate_held_out": abstention_rate(out),
        "abstention_rate_answerable": abstention_rate(inside),
        "answerable": answer_summary(inside, settings.answer_k),
        "state": str(state),
    }


def seed_state(full: Path, holdout: Path, settings: Settings) -> Path:
    """Locally, start the held-out index as a copy of the full one, so nothing is embedded twice."""
    if settings.backend == "local" and not holdout.exists() and full.is_dir():
        shutil.copytree(full, holdout, ignore=shutil.ignore_patterns("write.lock"))
    return holdout


def _selected(doc: str, config: IndexConfig) -> bool:
    return config.selection is None or doc in config.selection


def _chunk_count(container: Container) -> int:
    count = getattr(container.index, "count", None)
    return int(count()) if callable(count) else 0

