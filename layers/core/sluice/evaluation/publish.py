"""``make eval``: SciFact and SQuAD end to end, the ablations, and ``docs/evaluation.md``.

    python -m sluice.evaluation.publish --data ../shared/data --docs docs

Every figure on the page is measured by this run; nothing is typed in by hand
except the published reference scores, which are labelled as such.
"""

from __future__ import annotations

import argparse
import json
import pickle
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sluice.evaluation.ablation import AblationRow, query_ablations
from sluice.evaluation.answer_ablation import AnswerAblationRow, answer_ablation_table, answer_ablations
from sluice.evaluation.dataset import load_dataset
from sluice.evaluation.harness import IndexConfig, default_state, eval_settings, open_container
from sluice.evaluation.report import result_sections, write_charts
from sluice.evaluation.runner import EvalOptions, EvalResult, evaluate
from sluice.settings import Settings

TARGETS = {"keyword": 0.665, "vector": 0.640, "hybrid": 0.700}
REFERENCE = [
    "| SciFact test | BM25 (Pyserini flat / multifield) | BM25 (bm25s, MTEB) | all-MiniLM-L6-v2 | Titan v2 |",
    "|---|---|---|---|---|",
    "| nDCG@10 | 0.6789 / 0.6647 | 0.6874 | 0.6451 | 0.7052 |",
    "| Recall@100 | 0.9253 (flat) | | 0.9250 | 0.9450 |",
]


PARTS = ("scifact", "ablations", "squad", "answers")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--docs", type=Path, default=Path("docs"))
    parser.add_argument("--squad-limit", type=int, default=None, help="SQuAD questions for retrieval (all by default)")
    parser.add_argument("--answer-limit", type=int, default=1000, help="SQuAD questions to answer")
    parser.add_argument("--answer-ablation-limit", type=int, default=1000,
                        help="SQuAD questions per answerer variant, and half as many from each side of the"
                             " held-out split")
    parser.add_argument("--index-ablations", default="", metavar="all|N",
                        help="also build an index per chunking and title variant: the whole corpus (all), or the"
                             " judged documents plus N distractors")
    parser.add_argument("--part", choices=(*PARTS, "page"), default=None,
                        help="run one part and keep its result (parts can run side by side); page renders them")
    args = parser.parse_args(argv)
    started = time.time()
    for part in PARTS if args.part is None else (args.part,) if args.part != "page" else ():
        _save(part, run_part(part, args))
    if args.part in (None, "page"):
        write_page(args, minutes=(time.time() - started) / 60 if args.part is None else None)


def run_part(part: str, args: argparse.Namespace) -> Any:
    settings = Settings()
    if part == "scifact":
        return evaluate(args.data / "scifact", settings, EvalOptions(answers=False), say=_say)
    if part == "squad":
        options = EvalOptions(limit=args.squad_limit, answer_limit=args.answer_limit)
        return evaluate(args.data / "squad-v1.1-dev", settings, options, say=_say)
    if part == "answers":
        return answer_ablations(args.data / "squad-v1.1-dev", settings, args.answer_ablation_limit, _say)
    _say("Ablations on the SciFact index")
    rows = _query_ablations(args.data / "scifact", settings)
    if args.index_ablations:
        slice_ = None if args.index_ablations == "all" else int(args.index_ablations)
        rows += index_ablations(args.data / "scifact", settings, slice_)
    return rows


def write_page(args: argparse.Namespace, minutes: float | None) -> None:
    scifact, rows, squad, answer_rows = (_load(part) for part in PARTS)
    images = args.docs / "images"
    images.mkdir(parents=True, exist_ok=True)
    page = render_page(scifact, squad, rows, args, images, minutes, answer_rows)
    (args.docs / "evaluation.md").write_text(page, encoding="utf-8")
    figures = {"scifact": scifact.as_json(), "squad": squad.as_json(), "ablations": [r.__dict__ for r in rows],
               "answer_ablations": [r.__dict__ for r in answer_rows]}
    (images / "eval-results.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    _say(f"Wrote {args.docs / 'evaluation.md'}")


def _parts_folder() -> Path:
    return Path.home() / ".cache" / "sluice" / "eval" / "publish"


def _save(part: str, value: Any) -> None:
    _parts_folder().mkdir(parents=True, exist_ok=True)
    (_parts_folder() / f"{part}.pickle").write_bytes(pickle.dumps(value))


def _load(part: str) -> Any:
    path = _parts_folder() / f"{part}.pickle"
    if not path.is_file():
        raise SystemExit(f"{path} is missing; run --part {part} first")
    return pickle.loads(path.read_bytes())  # written by this module, on this machine


def _query_ablations(folder: Path, settings: Settings) -> list[AblationRow]:
    dataset = load_dataset(folder)
    config = IndexConfig()
    container = open_container(eval_settings(settings, default_state(dataset, settings, config), 200), dataset, config)
    try:
        return query_ablations(container, dataset)
    finally:
        container.close()


def index_ablations(folder: Path, settings: Settings, distractors: int | None) -> list[AblationRow]:
    """Chunking and title handling, each on its own index (of the judged documents plus ``distractors`` others)."""
    variants = [
        ("200/32 tokens, title embedded (default)", {}, True),
        ("256/40 tokens (capped at 214 by the model window)", {"chunk_tokens": 256, "chunk_overlap_tokens": 40}, True),
        ("128/16 tokens", {"chunk_tokens": 128, "chunk_overlap_tokens": 16}, True),
        ("200/0 tokens (no overlap)", {"chunk_overlap_tokens": 0}, True),
        ("200/32 tokens, title not embedded", {}, False),
    ]
    rows: list[AblationRow] = []
    note = "whole corpus" if distractors is None else f"judged docs + {distractors} distractors"
    for label, updates, embed_title in variants:
        result = evaluate(folder, settings.model_copy(update=updates),
                          EvalOptions(corpus_limit=distractors, answers=False, embed_title=embed_title), say=_say)
        for mode, figures in result.as_json()["modes"].items():
            group = "title handling" if not embed_title else "chunking"
            rows.append(AblationRow(group, label, mode, figures["ndcg@10"], figures["recall@100"],
                                    f"{note}, {result.documents} docs"))
    return rows


def render_page(scifact: EvalResult, squad: EvalResult, rows: list[AblationRow], args: argparse.Namespace,
                images: Path, minutes: float | None, answer_rows: Sequence[AnswerAblationRow] = ()) -> str:
    sci_charts = {k: f"images/{p.name}" for k, p in write_charts(scifact, images).items()}
    squad_charts = {k: f"images/{p.name}" for k, p in write_charts(squad, images).items()}
    modes = scifact.as_json()["modes"]
    lines = [
        "# Retrieval and answer quality",
        "",
        "Measured by `make eval` on this repository's own pipeline: each corpus is ingested through",
        "`IngestService` (parse, chunk, embed, index) and every query goes through `QueryService`, the code",
        "behind `/v1/search` and `/v1/answer`. Metrics come from ir-measures (trec_eval), as in BEIR and MTEB.",
        f"Machine: {platform.machine()}, Python {platform.python_version()}"
        + (f"; the whole run took {minutes:.0f} minutes." if minutes is not None else "."),
        "Latencies are `QueryService.search` asking for as many chunks as the evaluation maps to 100 documents",
        "(far more than the API's default k=10), timed on the machine that ran this page, other work included:",
        "read them as upper bounds, and docs/benchmarks.md for latency proper.",
        "",
        "## Commands",
        "",
        "```",
        *_commands(args),
        "```",
        "",
        "## SciFact (BEIR, test split)",
        "",
        *result_sections(scifact, sci_charts, heading="###"),
        "### Targets",
        "",
        "| mode | nDCG@10 target | measured | Recall@100 |",
        "|---|---|---|---|",
        *[f"| {m} | ≥ {t:.3f} | {modes[m]['ndcg@10']:.4f} {'met' if modes[m]['ndcg@10'] >= t else 'missed'} | "
          f"{modes[m]['recall@100']:.4f} |" for m, t in TARGETS.items() if m in modes],
        "",
        "Published reference scores on the same split (not measured here):",
        "",
        *REFERENCE,
        "",
        "## Ablations (SciFact test)",
        "",
        "Each row changes one thing from the defaults and is measured on the same queries, on the same index",
        "(query vectors are cached across rows). Title boost and stopwords are constants of the local index",
        "with no setting; the ablation changes them for the run only.",
        "",
        *ablation_table(rows),
        "",
        *best_rows(rows),
        "",
        *([] if any(r.group in ("chunking", "title handling") for r in rows) else [
            "Chunk size and title-in-embedding rows need an index each and were not run this time:",
            "`make eval EVAL_ARGS=\"--index-ablations all\"` (about one full SciFact ingest per variant), or",
            "`--index-ablations N` for the judged documents plus N distractors.",
        ]),
        "",
        "## SQuAD v1.1 dev (closed corpus: question -> its paragraph, then answers)",
        "",
        *result_sections(squad, squad_charts, heading="###"),
        *([] if not answer_rows else [
            "### Answerer ablations",
            "",
            "The extractive answerer (no LLM) with other constants, each row asked the same questions on the same",
            "indexes. Grounding is over answerable questions on the whole corpus; abstention is on the held-out",
            "split above. An abstention counts as not grounded, so the threshold trades one column for the next.",
            "The constants were chosen on SQuAD dev questions disjoint from those asked here. A rate near 0.85",
            "measured on n questions has a standard error of about 0.36/sqrt(n) (1.1 points at n=1000), so",
            "differences of a point or two between rows are within noise.",
            "",
            *answer_ablation_table(answer_rows),
            "",
        ]),
    ]
    return "\n".join(lines) + "\n"


def ablation_table(rows: list[AblationRow]) -> list[str]:
    table = ["| group | setting | mode | nDCG@10 | Recall@100 | note |", "|---|---|---|---|---|---|"]
    for r in rows:
        recall = f"{r.recall100:.4f}" if r.recall100 is not None else "n/a"
        setting = f"**{r.setting}** (default)" if (r.group, r.setting) in DEFAULT_ROWS else r.setting
        table.append(f"| {r.group} | {setting} | {r.mode} | {r.ndcg10:.4f} | {recall} | {r.note} |")
    return table


DEFAULT_ROWS = {
    ("fusion", "zscore, vector weight 0.7"),
    ("candidate depth", "API k=10, candidate depth 100"),
    ("BM25 title boost", "title field boost 0.5"),
    ("query handling", "stopwords removed"),
}
"""The rows that are today's defaults, marked in the table and compared against."""


def best_rows(rows: list[AblationRow]) -> list[str]:
    """Per group, the best hybrid nDCG@10 next to the default row (or the group's first row)."""
    lines = []
    for group in dict.fromkeys(r.group for r in rows):
        hybrid = [r for r in rows if r.group == group and r.mode == "hybrid"]
        if len(hybrid) < 2:
            continue
        best = max(hybrid, key=lambda r: r.ndcg10)
        base = next((r for r in hybrid if (r.group, r.setting) in DEFAULT_ROWS), hybrid[0])
        lines.append(f"- {group}: best hybrid nDCG@10 {best.ndcg10:.4f} with {best.setting}; "
                     f"{base.setting} gives {base.ndcg10:.4f}.")
    return lines


def _commands(args: argparse.Namespace) -> list[str]:
    extra = []
    if args.squad_limit:
        extra.append(f"--squad-limit {args.squad_limit}")
    if args.answer_limit != 1000:
        extra.append(f"--answer-limit {args.answer_limit}")
    if args.index_ablations:
        extra.append(f"--index-ablations {args.index_ablations}")
    if args.answer_ablation_limit != 1000:
        extra.append(f"--answer-ablation-limit {args.answer_ablation_limit}")
    make = f'make eval EVAL_ARGS="{" ".join(extra)}"' if extra else "make eval"
    squad_limit = f" --limit {args.squad_limit}" if args.squad_limit else ""
    return [
        make,
        "# the same, one part at a time (parts can run side by side, then the page is rendered):",
        *[f"python -m sluice.evaluation.publish --part {part} {' '.join(extra)}".rstrip() for part in (*PARTS, "page")],
        "# the two dataset runs are what these print:",
        f"sluice eval {args.data / 'scifact'} --mode all",
        f"sluice eval {args.data / 'squad-v1.1-dev'} --mode all{squad_limit} --answer-limit {args.answer_limit}",
    ]


def _say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    main()
