"""What ``sluice eval`` does between parsing its options and printing the figures."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from sluice import presenters as show
from sluice.domain.errors import SluiceError
from sluice.domain.models import SearchMode
from sluice.evaluation.runner import EvalOptions, EvalResult, evaluate
from sluice.settings import Settings

ALL_MODES = (SearchMode.HYBRID, SearchMode.VECTOR, SearchMode.KEYWORD)
_SHORT = {"recall@1": "R@1", "recall@5": "R@5", "ndcg@10": "nDCG@10", "recall@10": "R@10", "recall@100": "R@100",
          "mrr@10": "MRR@10", "latency_p50_ms": "p50 ms", "latency_p99_ms": "p99 ms"}


def parse_modes(mode: str) -> tuple[SearchMode, ...]:
    if mode == "all":
        return ALL_MODES
    try:
        return (SearchMode(mode),)
    except ValueError as exc:
        show.error(f"--mode {mode!r} is not one of hybrid, vector, keyword, all")
        raise typer.Exit(2) from exc


def run_eval(
    dataset: Path,
    *,
    mode: str,
    split: str,
    limit: int | None,
    corpus_limit: int | None,
    answer_limit: int,
    depth: int,
    as_json: bool,
    report: Path | None,
    state: Path | None,
) -> None:
    options = EvalOptions(modes=parse_modes(mode), split=split, limit=limit, corpus_limit=corpus_limit,
                          answer_limit=answer_limit, depth=depth)
    say = (lambda _: None) if as_json else show.info
    try:
        with show.ingest_progress(quiet=as_json) as progress:
            result = evaluate(dataset, Settings(), options, state=state, progress=progress.advance, say=say,
                              on_sources=progress.add)
    except SluiceError as exc:
        show.error(exc.message)
        raise typer.Exit(2) from exc
    if report is not None:
        from sluice.evaluation.report import write_report

        path = write_report(result, report, command=shlex.join(["sluice", *sys.argv[1:]]))
        if not as_json:
            show.info(f"Report written to {path}")
    if as_json:
        sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
    else:
        print_summary(result)


def print_summary(result: EvalResult) -> None:
    from rich.table import Table

    data = result.as_json()
    title = f"{data['dataset']} ({data['split']}): {data['queries']} queries, {data['documents']} documents"
    table = Table(title=title)
    columns = [c for c in ("recall@1", "recall@5", "ndcg@10", "recall@10", "recall@100", "mrr@10",
                           "latency_p50_ms", "latency_p99_ms") if any(c in m for m in data["modes"].values())]
    table.add_column("mode", no_wrap=True)
    for column in columns:
        table.add_column(_SHORT.get(column, column), justify="right", no_wrap=True)
    for mode, figures in data["modes"].items():
        table.add_row(mode, *(f"{figures[c]:.3f}" if "@" in c else f"{figures[c]:.0f}" for c in columns))
    show.out.print(table)
    if "answers" in data:
        a = data["answers"]
        show.info(f"Answers ({a['questions']} questions, k={a['k']}): grounding hit rate "
                  f"{a['grounding_hit_rate']:.4f}, answer hit rate {a['answer_hit_rate']:.4f}, "
                  f"abstention rate {a['abstention_rate']:.4f}")
    if "abstention" in data:
        b = data["abstention"]
        show.info(f"Held-out check ({b['held_out_articles']} of {b['articles']} articles held out): abstained on "
                  f"{b['abstention_rate_held_out']:.4f} of {b['held_out_questions']} held-out questions and "
                  f"{b['abstention_rate_answerable']:.4f} of {b['answerable_questions']} answerable ones")
