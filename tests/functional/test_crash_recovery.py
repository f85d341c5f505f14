"""A SIGKILL in the middle of an ingest never leaves a document half-visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sluice.domain.models import DocumentStatus
from tests.fakes import make_container

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tests.fakes import make_container

    docs, state = Path(sys.argv[1]), Path(sys.argv[2])
    c = make_container(state, chunk_tokens=40, chunk_overlap_tokens=0)
    for round in range(1000):
        for n in range(8):
            size = 3 + (round + n) % 9
            body = "\\n\\n".join(f"Round {round} file {n} paragraph {p} about towpaths and weirs." for p in range(size))
            (docs / f"doc{n}.md").write_text(body)
            outcome = c.ingest.ingest(str((docs / f"doc{n}.md").resolve()))
            print(outcome.outcome, flush=True)
    """
)


def _consistent(state: Path) -> list[str]:
    """Problems found when comparing the registry with the index; empty when they agree."""
    c = make_container(state, chunk_tokens=40, chunk_overlap_tokens=0)
    problems = []
    records, _ = c.registry.list("default", limit=1000)
    for record in records:
        chunks = c.index.chunks_of(record.document_id)
        versions = {ch.document_version for ch in chunks}
        if len(versions) > 1:
            problems.append(f"{record.source}: chunks of {len(versions)} versions visible")
        if record.status is DocumentStatus.INDEXED:
            if [ch.ordinal for ch in chunks] != list(range(record.chunk_count)):
                problems.append(f"{record.source}: registry says {record.chunk_count} chunks, index has {len(chunks)}")
            if versions and versions != {record.sha256[:16]}:
                problems.append(f"{record.source}: index holds another version than the registry")
    c.close()
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [7, 23, 41])
def test_sigkill_mid_ingest_then_recovery_converges(tmp_path, kill_after):
    docs, state = tmp_path / "docs", tmp_path / "state"
    docs.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(docs), str(state)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        for _ in range(kill_after):
            assert proc.stdout is not None and proc.stdout.readline(), "the writer died before the kill"
        time.sleep(0.003 * kill_after % 0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)

    # Straight after the crash: whatever is visible belongs to exactly one version.
    assert [p for p in _consistent(state) if "versions visible" in p] == []

    # Restart: recovery finishes interrupted documents; registry and index then agree.
    c = make_container(state, chunk_tokens=40, chunk_overlap_tokens=0)
    c.ingest.recover()
    c.ingest.sync(str(docs.resolve()))
    c.close()
    assert _consistent(state) == []
