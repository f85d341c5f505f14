"""Benchmark the local embedder: passages per second and query latency.

Passages are SciFact abstracts cut to about 150 words (a typical chunk);
queries are the SciFact test queries. Runs fp32 and, when exported, int8.
Prints Markdown rows and writes bench/results/embedder.json.

Usage: python bench/bench_embedder.py [--model-dir DIR] [--passages 512] [--queries 200] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from sluice.adapters.local.onnx_embedder import OnnxEmbedder
from sluice.settings import Settings

DATA = Path("/work/shared/data/scifact")
RESULTS = Path(__file__).parent / "results" / "embedder.json"
PASSAGE_WORDS = 150


def load_passages(n: int) -> list[str]:
    passages = []
    with (DATA / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            words = json.loads(line)["text"].split()
            if len(words) >= PASSAGE_WORDS:
                passages.append(" ".join(words[:PASSAGE_WORDS]))
            if len(passages) == n:
                break
    return passages


def load_queries(n: int) -> list[str]:
    with (DATA / "queries.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh][:n]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run(
    variant: str, model_dir: Path, passages: list[str], queries: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    started = time.perf_counter()
    embedder = OnnxEmbedder(model_dir, quantized=variant == "int8", batch_size=args.batch_size, threads=args.threads)
    load_s = time.perf_counter() - started
    embedder.embed_documents(passages[:32])  # warm-up: allocator arenas, kernel selection
    started = time.perf_counter()
    embedder.embed_documents(passages)
    passages_s = time.perf_counter() - started
    tokens = sum(min(embedder.count_tokens(p) + 2, embedder.max_tokens) for p in passages)
    for query in queries[:10]:
        embedder.embed_query(query)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        embedder.embed_query(query)
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "variant": variant,
        "model_file": str(embedder.model_path.relative_to(model_dir)),
        "model_mb": round(embedder.model_path.stat().st_size / 1e6, 1),
        "load_s": round(load_s, 3),
        "passages": len(passages),
        "mean_tokens_per_passage": round(tokens / len(passages), 1),
        "passages_per_s": round(len(passages) / passages_s, 1),
        "queries": len(queries),
        "query_ms_p50": round(statistics.median(latencies), 2),
        "query_ms_p99": round(percentile(latencies, 99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Settings().model_dir)
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    model_dir = args.model_dir.expanduser()
    passages, queries = load_passages(args.passages), load_queries(args.queries)
    variants = ["fp32"] + (["int8"] if (model_dir / "onnx" / "model_qint8.onnx").is_file() else [])
    rows = [run(variant, model_dir, passages, queries, args) for variant in variants]
    print("| variant | model MB | load s | passages/s (150 words, batch 32) | query p50 ms | query p99 ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        cells = (r["model_mb"], r["load_s"], r["passages_per_s"], r["query_ms_p50"], r["query_ms_p99"])
        print(f"| {r['variant']} | " + " | ".join(str(c) for c in cells) + " |")
    machine = {"cpus": len(os.sched_getaffinity(0)), "processor": platform.processor() or platform.machine()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine, "threads": args.threads, "results": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
