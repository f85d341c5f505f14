"""End-to-end ingest rate: parse, clean, chunk, embed and index, on this machine.

    .venv/bin/python bench/bench_ingest.py [--scifact-limit N]

Runs the sample corpus (examples/corpus) and the BEIR SciFact corpus (5,183
abstracts) into fresh temporary state folders, then re-runs the sample corpus
to show that unchanged files cost zero embedding calls.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from sluice.adapters.local.beir_blob_source import BeirBlobSource
from sluice.bootstrap import bootstrap
from sluice.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "data" / "scifact" / "corpus.jsonl"


def run(name: str, state: Path, sources: list[str] | None = None, **overrides: object) -> dict[str, object]:
    container = bootstrap(Settings(state_dir=state), **overrides)
    _ = container.index, container.pipeline  # load the model and open the index before the clock starts
    started = time.perf_counter()
    if sources is None:
        report = container.ingest.sync(str((ROOT / "examples" / "corpus").resolve()))
    else:
        report = container.ingest.ingest_many(sources)
    seconds = time.perf_counter() - started
    container.close()
    docs = report.count("indexed")
    return {
        "corpus": name,
        "documents": docs,
        "failed": len(report.failed),
        "chunks": report.chunks,
        "tokens": report.tokens,
        "embedding_calls": report.embedding_calls,
        "seconds": round(seconds, 2),
        "documents_per_s": round(docs / seconds, 1) if seconds else None,
        "chunks_per_s": round(report.chunks / seconds, 1) if seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scifact-limit", type=int, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "examples"
        rows.append(run("examples/corpus", state))
        rows.append(run("examples/corpus (again, unchanged)", state))
        if SCIFACT.exists():
            blobs = BeirBlobSource(SCIFACT, limit=args.scifact_limit)
            sources = [info.source for info in blobs.list()]
            rows.append(run("scifact corpus.jsonl", Path(tmp) / "scifact", sources, blobs=blobs))
    print("| corpus | documents | chunks | embedding calls | seconds | documents/s | chunks/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['corpus']} | {r['documents']} | {r['chunks']} | {r['embedding_calls']} | {r['seconds']} "
              f"| {r['documents_per_s']} | {r['chunks_per_s']} |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "processor": platform.processor()}
    (out / "ingest.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
