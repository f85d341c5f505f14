"""Benchmark of the local index: build, cold open, keyword, vector and hybrid latency, recall.

    .venv/bin/python bench/bench_index.py [--chunks 100000] [--dimension 384] [--queries 200]

Chunk texts are sentences sampled from the SciFact abstracts, so BM25 sees a
realistic vocabulary; vectors are random unit vectors (query embedding is not
measured). Prints a Markdown table and writes bench/results/index.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sluice.adapters.local.local_vector_index import LocalVectorIndex
from sluice.domain.filters import parse_filter
from sluice.domain.fusion import reciprocal_rank_fusion
from sluice.domain.ids import chunk_id, content_hash, document_id
from sluice.domain.models import IndexedChunk

CORPUS = Path("/work/shared/data/scifact/corpus.jsonl")
RESULTS = Path(__file__).parent / "results" / "index.json"
TENANT = "default"
CHUNKS_PER_DOCUMENT = 10
WRITE_BATCH = 1000
TEAMS = ("legal", "sales", "research", "support")
STOPWORDS = set("with from that this were have been which their these there than into also between".split())


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(7)
    random.seed(7)
    abstracts = load_abstracts(CORPUS)
    sentences = [s for text in abstracts for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
    vectors = unit_rows(rng, args.chunks, args.dimension)
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as folder:
        directory = Path(folder) / "index"
        build_seconds = build(directory, args, sentences, vectors)
        started = time.perf_counter()
        index = LocalVectorIndex(directory, args.dimension)
        open_seconds = time.perf_counter() - started
        rows = measure(index, args, abstracts, vectors, rng)
        index.close()
    report(args, build_seconds, open_seconds, rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--depth", type=int, default=100, help="candidates per mode before hybrid fusion")
    return parser.parse_args()


def load_abstracts(path: Path) -> list[str]:
    with path.open() as lines:
        return [json.loads(line)["text"] for line in lines if line.strip()]


def unit_rows(rng: np.random.Generator, count: int, dimension: int) -> np.ndarray:
    rows = rng.standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def build(directory: Path, args: argparse.Namespace, sentences: list[str], vectors: np.ndarray) -> float:
    index = LocalVectorIndex(directory, args.dimension)
    started = time.perf_counter()
    for start in range(0, args.chunks, WRITE_BATCH):
        stop = min(start + WRITE_BATCH, args.chunks)
        index.write([make_chunk(n, sentences, vectors[n]) for n in range(start, stop)])
    seconds = time.perf_counter() - started
    index.close()
    return seconds


def make_chunk(n: int, sentences: list[str], vector: np.ndarray) -> IndexedChunk:
    doc_number, ordinal = divmod(n, CHUNKS_PER_DOCUMENT)
    source = f"papers/{doc_number:06d}.txt"
    doc_id = document_id(TENANT, source)
    text = " ".join(random.choices(sentences, k=random.randint(3, 7)))
    return IndexedChunk(
        chunk_id=chunk_id(doc_id, ordinal),
        document_id=doc_id,
        tenant=TENANT,
        source=source,
        title=f"Paper {doc_number}",
        text=text,
        vector=vector.tolist(),
        ordinal=ordinal,
        content_hash=content_hash(text),
        document_version="1",
        char_start=0,
        char_end=len(text),
        metadata={"team": TEAMS[doc_number % len(TEAMS)], "year": 2000 + doc_number % 25},
    )


def keyword_queries(abstracts: list[str], count: int) -> list[str]:
    queries = []
    while len(queries) < count:
        words = [w for w in re.findall(r"[a-z]{4,}", random.choice(abstracts).lower()) if w not in STOPWORDS]
        if len(set(words)) >= 3:
            queries.append(" ".join(random.sample(sorted(set(words)), 3)))
    return queries


def measure(
    index: LocalVectorIndex,
    args: argparse.Namespace,
    abstracts: list[str],
    vectors: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    texts = keyword_queries(abstracts, args.queries)
    queries = unit_rows(rng, args.queries, args.dimension)
    lists = [q.tolist() for q in queries]
    only_legal = parse_filter({"equals": {"key": "team", "value": "legal"}})
    k, depth = args.k, args.depth

    def hybrid(n: int) -> Any:
        keyword = index.keyword_search(texts[n], depth, tenant=TENANT)
        vector = index.vector_search(lists[n], depth, tenant=TENANT)
        return reciprocal_rank_fusion([keyword, vector], k)

    cases: list[tuple[str, Callable[[int], Any]]] = [
        (f"keyword (3 terms, k={k})", lambda n: index.keyword_search(texts[n], k, tenant=TENANT)),
        (f"vector (k={k})", lambda n: index.vector_search(lists[n], k, tenant=TENANT)),
        (f"hybrid (RRF of {depth} + {depth}, k={k})", hybrid),
        (
            f"keyword + filter (25% match, k={k})",
            lambda n: index.keyword_search(texts[n], k, tenant=TENANT, filter=only_legal),
        ),
        (
            f"vector + filter (25% match, k={k})",
            lambda n: index.vector_search(lists[n], k, tenant=TENANT, filter=only_legal),
        ),
    ]
    rows = [timed(name, run, args.queries) for name, run in cases]
    rows[1]["recall_at_k"] = recall(index, vectors, queries, lists, k)
    return rows


def timed(name: str, run: Callable[[int], Any], count: int) -> dict[str, Any]:
    for n in range(min(count, 20)):
        run(n)  # warm up caches and the BLAS thread pool
    samples = []
    for n in range(count):
        started = time.perf_counter()
        run(n)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "case": name,
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
        "mean_ms": round(statistics.fmean(samples), 2),
    }


def recall(
    index: LocalVectorIndex, vectors: np.ndarray, queries: np.ndarray, lists: list[list[float]], k: int
) -> float:
    """Share of the brute-force top k that the index returns."""
    ids = _all_ids(vectors.shape[0])
    found = 0
    for n, query in enumerate(queries):
        exact = {ids[row] for row in np.argsort(-(vectors @ query))[:k]}
        got = {hit.chunk.chunk_id for hit in index.vector_search(lists[n], k, tenant=TENANT)}
        found += len(exact & got)
    return round(found / (k * len(queries)), 4)


def _all_ids(count: int) -> list[str]:
    ids = []
    for n in range(count):
        doc_number, ordinal = divmod(n, CHUNKS_PER_DOCUMENT)
        ids.append(chunk_id(document_id(TENANT, f"papers/{doc_number:06d}.txt"), ordinal))
    return ids


def report(args: argparse.Namespace, build_seconds: float, open_seconds: float, rows: list[dict[str, Any]]) -> None:
    result = {
        "chunks": args.chunks,
        "dimension": args.dimension,
        "queries": args.queries,
        "build_seconds": round(build_seconds, 1),
        "open_seconds": round(open_seconds, 2),
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "cases": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{args.chunks:,} chunks x {args.dimension}-d; build {build_seconds:.1f} s; open {open_seconds:.2f} s\n")
    print("| case | p50 ms | p99 ms | mean ms | recall@k |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        recall_cell = row.get("recall_at_k", "")
        print(f"| {row['case']} | {row['p50_ms']} | {row['p99_ms']} | {row['mean_ms']} | {recall_cell} |")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
