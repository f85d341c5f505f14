"""Retrieval metrics, computed by ir-measures on trec_eval (as BEIR and MTEB do), and latency figures.

Names follow the brief's spelling (``ndcg@10``, ``recall@100``, ``mrr@10``) and map to
ir-measures' ``nDCG@10``, ``R@100`` and ``RR@10``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

RETRIEVAL_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
CURVE_DEPTH = 100
_MEASURE_NAMES = {"ndcg": "nDCG", "recall": "R", "mrr": "RR", "precision": "P"}
_NO_HIT = "\x00no-hit"


def score(qrels: Qrels, run: Run, metrics: Sequence[str] = RETRIEVAL_METRICS) -> dict[str, float]:
    """Mean of each metric over every judged query; a query the run misses counts as zero."""
    import ir_measures

    judged = {qid: {doc: int(rel) for doc, rel in docs.items()} for qid, docs in qrels.items() if docs}
    if not judged:
        return dict.fromkeys(metrics, 0.0)
    # trec_eval averages over the queries present in the run, so every judged query gets an entry.
    ranked = {qid: {doc: float(s) for doc, s in (run.get(qid) or {_NO_HIT: 0.0}).items()} for qid in judged}
    measures = {name: ir_measures.parse_measure(_measure_name(name)) for name in metrics}
    values = ir_measures.calc_aggregate(list(measures.values()), judged, ranked)
    return {name: round(float(values[measure]), 4) for name, measure in measures.items()}


def recall_curve(qrels: Qrels, run: Run, depth: int = CURVE_DEPTH) -> list[float]:
    """Recall@k for k = 1..depth."""
    figures = score(qrels, run, [f"recall@{k}" for k in range(1, depth + 1)])
    return [figures[f"recall@{k}"] for k in range(1, depth + 1)]


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50, p99 and mean of per-query latencies, in milliseconds."""
    if not latencies_ms:
        return {"latency_p50_ms": 0.0, "latency_p99_ms": 0.0, "latency_mean_ms": 0.0}
    values = np.asarray(latencies_ms, dtype=float)
    return {
        "latency_p50_ms": round(float(np.percentile(values, 50)), 2),
        "latency_p99_ms": round(float(np.percentile(values, 99)), 2),
        "latency_mean_ms": round(float(values.mean()), 2),
    }


def _measure_name(name: str) -> str:
    base, _, cutoff = name.partition("@")
    if base not in _MEASURE_NAMES or not cutoff.isdigit():
        raise ValueError(f"unknown metric {name!r}; use ndcg@k, recall@k, mrr@k or precision@k")
    return f"{_MEASURE_NAMES[base]}@{cutoff}"
