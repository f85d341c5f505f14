"""A Markdown report and PNG charts (recall@k per mode, latency per mode) of one evaluation run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sluice.evaluation.runner import EvalResult

COLUMNS = ("ndcg@10", "recall@10", "recall@100", "mrr@10", "latency_p50_ms", "latency_p99_ms")
ANSWER_RECALL_COLUMNS = ("recall@1", "recall@5")


def write_report(result: EvalResult, folder: Path, command: str = "", prefix: str = "eval") -> Path:
    """``folder/report.md`` plus ``<prefix>-<dataset>-recall.png`` and ``-latency.png`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    charts = write_charts(result, folder, prefix)
    lines = [f"# Evaluation: {result.dataset.name} ({result.dataset.split})", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += result_sections(result, {name: path.name for name, path in charts.items()})
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def result_sections(result: EvalResult, charts: dict[str, str], heading: str = "##") -> list[str]:
    """The tables and chart links of one run, for a report or a longer page."""
    data = result.as_json()
    s = data["settings"]
    lines = [
        f"{len(result.dataset.queries)} queries with judgments, {result.documents} documents in {result.chunks} "
        f"chunks ({s['chunk_tokens']}/{s['chunk_overlap_tokens']} tokens); {s['depth']} chunks asked per query, "
        f"a document scored by its best chunk; hybrid fusion {_fusion(s)}, candidate depth {s['candidate_depth']}. "
        f"Ingest this run: {data['ingest']['indexed']} documents embedded, {data['ingest']['unchanged']} unchanged.",
        "",
        f"{heading} Retrieval",
        "",
        *metric_table(data["modes"], _columns(data["modes"])),
        "",
    ]
    lines += [f"![{name}]({path})" for name, path in charts.items()] + [""]
    if "answers" in data:
        lines += [f"{heading} Answers (QueryService.answer, the /v1/answer path)", "", *answer_table(data), ""]
    return lines


def metric_table(modes: dict[str, dict[str, float]], columns: Sequence[str] = COLUMNS) -> list[str]:
    rows = ["| mode | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for mode, figures in modes.items():
        rows.append(f"| {mode} | " + " | ".join(_cell(c, figures.get(c)) for c in columns) + " |")
    return rows


def answer_table(data: dict[str, Any]) -> list[str]:
    a = data["answers"]
    rows = [
        "| questions | k | grounding hit rate | answer hit rate | abstention rate | latency p50 ms | latency p99 ms |",
        "|---|---|---|---|---|---|---|",
        f"| {a['questions']} | {a['k']} | {a['grounding_hit_rate']:.4f} | {a['answer_hit_rate']:.4f} | "
        f"{a['abstention_rate']:.4f} | {a['latency_p50_ms']:.1f} | {a['latency_p99_ms']:.1f} |",
    ]
    if "abstention" in data:
        b = data["abstention"]
        rows += [
            "",
            f"Abstention check: {b['held_out_articles']} of {b['articles']} articles held out of the index.",
            "",
            "| questions | count | abstention rate | grounding hit rate |",
            "|---|---|---|---|",
            f"| paragraph held out (should abstain) | {b['held_out_questions']} | "
            f"{b['abstention_rate_held_out']:.4f} | n/a |",
            f"| paragraph indexed (should answer) | {b['answerable_questions']} | "
            f"{b['abstention_rate_answerable']:.4f} | {b['answerable']['grounding_hit_rate']:.4f} |",
        ]
    return rows


def write_charts(result: EvalResult, folder: Path, prefix: str = "eval") -> dict[str, Path]:
    """Recall@k curves and a latency histogram, one series per mode."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib import pyplot as plt

    name = result.dataset.name
    recall_path = folder / f"{prefix}-{name}-recall.png"
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for (mode, res), style in zip(result.modes.items(), ("-", "--", ":")):
        ax.plot(range(1, len(res.curve) + 1), res.curve, style, label=mode, linewidth=1.8)
    ax.set(xlabel="k (documents)", ylabel="Recall@k", title=f"{name}: recall@k, k = 1..100", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(recall_path)
    plt.close(fig)

    latency_path = folder / f"{prefix}-{name}-latency.png"
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    everything = [v for res in result.modes.values() for v in res.latencies_ms if v > 0] or [1.0]
    # Keyword queries take well under a millisecond and hybrid ones tens: log-spaced bins show both.
    bins = np.geomspace(min(everything), max(everything) * 1.01, 40).tolist()
    for mode, res in result.modes.items():
        ax.hist(res.latencies_ms, bins=bins, alpha=0.55, label=mode)
    ax.set_xscale("log")
    ax.set(xlabel="query latency, ms (QueryService.search, log scale)", ylabel="queries",
           title=f"{name}: latency per query")
    ax.legend()
    fig.tight_layout()
    fig.savefig(latency_path)
    plt.close(fig)
    return {"recall@k": recall_path, "latency": latency_path}


def _columns(modes: dict[str, dict[str, float]]) -> tuple[str, ...]:
    extra = tuple(c for c in ANSWER_RECALL_COLUMNS if any(c in figures for figures in modes.values()))
    return extra + COLUMNS


def _fusion(s: dict[str, Any]) -> str:
    if s["fusion"] == "rrf":
        return f"RRF k={s['rrf_k']}"
    return f"{s['fusion']} scores, vector weight {s['fusion_vector_weight']}"


def _cell(column: str, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if column.startswith("latency") else f"{value:.4f}"
