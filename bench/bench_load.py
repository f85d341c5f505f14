"""Load on the HTTP API: requests/s and latency at several concurrency levels.

    .venv/bin/python bench/bench_load.py [--seconds 15] [--levels 1,8,32]

Starts `sluice serve` on a free loopback port over a copy of examples/corpus
(real model, real index), waits until it is ingested, then for each endpoint
and concurrency level runs that many client threads for a bounded time,
cycling through a fixed list of questions. Only loopback traffic; every loop
stops by itself.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How much water does a narrow lock hold?",
    "How many radial gates does the Wend Weir have?",
    "What should the lock keeper do if the summit pound is low?",
    "Which lock was rebuilt in 1911?",
    "What is the flood warning level at Wend Weir?",
    "What is transpiration?",
    "What is a meander?",
    "Which reservoir feeds the canal?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(state: Path, corpus: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "sluice.cli", "serve", "--state", str(state), "--watch", str(corpus),
               "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(base: str, expected_documents: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            docs = httpx.get(f"{base}/v1/documents?status=indexed&limit=100", timeout=5).json()["documents"]
            if len(docs) >= expected_documents:
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready in time")


def run_level(base: str, endpoint: str, concurrency: int, seconds: float) -> dict[str, object]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(offset: int) -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=60) as client:
            n = offset
            while time.monotonic() < stop_at:
                question = QUESTIONS[n % len(QUESTIONS)]
                body = {"query": question, "k": 10} if endpoint == "/v1/search" else {"question": question}
                started = time.perf_counter()
                try:
                    ok = client.post(endpoint, json=body).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors += 0 if ok else 1
                n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "endpoint": endpoint,
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--levels", default="1,8,32")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "examples" / "corpus", corpus)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(Path(tmp) / "state", corpus, port)
        try:
            wait_ready(base, expected_documents=7)
            for endpoint in ("/v1/search", "/v1/answer"):
                run_level(base, endpoint, 2, 2.0)  # warm up
                for level in levels:
                    rows.append(run_level(base, endpoint, level, args.seconds))
                    print(json.dumps(rows[-1]), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("| endpoint | concurrency | requests | errors | requests/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| `{r['endpoint']}` | {r['concurrency']} | {r['requests']} | {r['errors']} | {r['requests_per_s']} "
              f"| {r['p50_ms']} | {r['p99_ms']} |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
